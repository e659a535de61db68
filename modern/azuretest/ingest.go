package azuretest

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// IngestConfig configures a fake Logs Ingestion API. Zero fields take the
// default in their comment.
type IngestConfig struct {
	// Streams declares what the fake knows: DCR immutable id, then input
	// stream name, then the stream's columns. A request to another DCR or
	// stream gets 404. Default: none.
	Streams map[string]map[string]IngestSchema
	// Audience is the token audience the fake expects. Default
	// https://monitor.azure.com.
	Audience string
	// Validate checks a bearer token for the audience (Entra.Validate
	// fits); a refused token gets 401. Default: the token is one of
	// Tokens.
	Validate func(token, audience string) bool
	// Tokens are the tokens the default Validate accepts.
	Tokens []string
	// Authorized says whether the holder of token may ingest through the
	// DCR (has the Monitoring Metrics Publisher role on it); 403
	// OperationFailed when not. Default: always.
	Authorized func(token, dcr string) bool
	// MaxBodyBytes is the most a body may be on the wire, compressed or
	// not: 413 ContentLengthLimitExceeded above it. Default 1048576, the
	// API's limit.
	MaxBodyBytes int
	// MaxDecompressedBytes is the most a gzip body may decompress to: 413
	// above it. Default 50 MiB, the service's undocumented cap.
	MaxDecompressedBytes int
	// TLS is the server's TLS configuration (Entra.TLSConfig fits, so one
	// CA file trusts both fakes). Default httptest's certificate, which
	// Client trusts.
	TLS *tls.Config
}

// IngestSchema is a stream declaration: column name to type, one of
// string, int, long, real, boolean, datetime (an RFC 3339 string),
// dynamic (anything) or guid. A nil schema accepts every column.
//
// Like the real service, the fake drops the columns a record has and the
// stream does not declare, and counts them; unlike the documentation,
// which is silent there, it refuses the whole call with 400 InvalidArgument
// when a declared column holds a value of another type (null is always
// fine), so that tests can reach the 400 path.
type IngestSchema map[string]string

// ingestMaxRead is the most of a body the fake reads.
const ingestMaxRead = 64 << 20

var ingestTypes = []string{"string", "int", "long", "real", "boolean", "datetime", "dynamic", "guid"}

// IngestFault is a scripted answer for one request, in place of the
// fake's own.
type IngestFault struct {
	// Status, with Code and Message in the API's error shape, is the
	// answer (such as 429, 500, 503). 0: the fake answers as usual,
	// after Delay.
	Status  int
	Code    string
	Message string
	// RetryAfter is the Retry-After header as given: seconds ("30") or an
	// HTTP date.
	RetryAfter string
	// Drop closes the connection without an answer.
	Drop bool
	// Delay is a wait before the answer; it ends early when the client
	// goes away.
	Delay time.Duration
	// Ingest handles the request as usual first, storing its rows, and
	// then answers with Status or Drop: an answer lost after the rows
	// were stored.
	Ingest bool
}

// IngestRequest is one request the fake answered.
type IngestRequest struct {
	Method, Path string
	// DCR and Stream are read from the path; APIVersion from the query.
	DCR, Stream, APIVersion                 string
	ContentType, ContentEncoding, UserAgent string
	// Token is the bearer token, "" without one.
	Token string
	// ClientRequestID is the x-ms-client-request-id sent, RequestID the
	// x-ms-request-id answered.
	ClientRequestID, RequestID string
	// WireBytes is the body's size as received, RawBytes decompressed.
	WireBytes, RawBytes int
	// Digest is the hex SHA-256 of the body as received, so that tests
	// can tell a resent body.
	Digest string
	// Rows is the number of rows stored; DroppedColumns the number of
	// undeclared column values dropped from them.
	Rows, DroppedColumns int
	// NonArray: the body was JSON but not an array; the fake answered 204
	// and stored nothing, as the real service does.
	NonArray bool
	// Status and Code are the answer (Status 0: the connection was
	// dropped or the client went away); Fault says a scripted fault
	// applied, a delay included.
	Status int
	Code   string
	Fault  bool
}

// Ingest is a fake Azure Monitor Logs Ingestion API that enforces the
// contract of POST /dataCollectionRules/{dcr}/streams/{stream}
// ?api-version=2023-01-01: bearer token (401), known DCR and stream (404),
// role on the DCR (403 OperationFailed), JSON content type (415), body
// size on the wire and decompressed (413 ContentLengthLimitExceeded),
// gzip, JSON (400 InvalidJson), the stream declaration (400
// InvalidArgument). A JSON body that is not an array is answered 204 and
// stores nothing, as the real service does, and is recorded. Errors carry
// {"error":{"code","message"}} and x-ms-error-code; every answer carries
// x-ms-request-id. Scripted faults replace the next answers.
type Ingest struct {
	// URL is the endpoint to configure, such as https://127.0.0.1:41234.
	URL string

	cfg IngestConfig
	srv *httptest.Server

	mu       sync.Mutex
	faults   []IngestFault
	requests []IngestRequest
	batches  [][]map[string]any
	nonArray int
}

// NewIngest starts a fake Logs Ingestion API over TLS on 127.0.0.1 and
// stops it when the test ends.
func NewIngest(t testing.TB, cfg IngestConfig) *Ingest {
	t.Helper()
	if cfg.Audience == "" {
		cfg.Audience = "https://monitor.azure.com"
	}
	if cfg.Validate == nil {
		tokens := slices.Clone(cfg.Tokens)
		cfg.Validate = func(token, _ string) bool { return slices.Contains(tokens, token) }
	}
	if cfg.Authorized == nil {
		cfg.Authorized = func(string, string) bool { return true }
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxDecompressedBytes == 0 {
		cfg.MaxDecompressedBytes = 50 << 20
	}
	for dcr, streams := range cfg.Streams {
		for stream, schema := range streams {
			for col, typ := range schema {
				if !slices.Contains(ingestTypes, typ) {
					t.Fatalf("azuretest: %s/%s column %s: unknown type %q (want one of %s)", dcr, stream, col, typ, strings.Join(ingestTypes, ", "))
				}
			}
		}
	}

	s := &Ingest{cfg: cfg}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // dropped connections, untrusting clients
	if cfg.TLS != nil {
		s.srv.TLS = cfg.TLS
	}
	s.srv.StartTLS()
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the server; the test's end does it too.
func (s *Ingest) Close() { s.srv.Close() }

// Client returns an HTTP client that trusts the server's default
// certificate (not one from IngestConfig.TLS).
func (s *Ingest) Client() *http.Client { return s.srv.Client() }

// Fail scripts the answers to the next requests, one fault each, after
// those scripted before.
func (s *Ingest) Fail(faults ...IngestFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Requests returns every request the fake answered, in order.
func (s *Ingest) Requests() []IngestRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Batches returns the rows of every request the fake stored, one slice
// per request, in order. Numbers are json.Number.
func (s *Ingest) Batches() [][]map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// Rows returns every row the fake stored, in order.
func (s *Ingest) Rows() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []map[string]any
	for _, b := range s.batches {
		rows = append(rows, b...)
	}
	return rows
}

// NonArrayBodies is the number of requests whose body was JSON but not an
// array: answered 204, nothing stored.
func (s *Ingest) NonArrayBodies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nonArray
}

// ingestAnswer is an answer of the fake.
type ingestAnswer struct {
	status        int
	code, message string
}

func (s *Ingest) serve(w http.ResponseWriter, r *http.Request) {
	rec := IngestRequest{
		Method:          r.Method,
		Path:            r.URL.Path,
		APIVersion:      r.URL.Query().Get("api-version"),
		ContentType:     r.Header.Get("Content-Type"),
		ContentEncoding: r.Header.Get("Content-Encoding"),
		UserAgent:       r.Header.Get("User-Agent"),
		ClientRequestID: r.Header.Get("x-ms-client-request-id"),
		RequestID:       ingestGUID(),
	}
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		rec.Token = strings.TrimSpace(token)
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 4 && strings.EqualFold(parts[0], "dataCollectionRules") && strings.EqualFold(parts[2], "streams") {
		rec.DCR, rec.Stream = parts[1], parts[3]
	}
	w.Header().Set("x-ms-request-id", rec.RequestID)

	// The whole body is read first, even one over the limit, for its
	// digest; a server that has read the body notices a client that goes
	// away.
	wire, readErr := io.ReadAll(io.LimitReader(r.Body, ingestMaxRead))
	sum := sha256.Sum256(wire)
	rec.WireBytes, rec.Digest = len(wire), hex.EncodeToString(sum[:])

	s.mu.Lock()
	var fault *IngestFault
	if len(s.faults) > 0 {
		f := s.faults[0]
		fault = &f
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()

	if fault != nil && fault.Delay > 0 {
		t := time.NewTimer(fault.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rec.Fault = true
			s.record(rec, nil)
			return
		}
	}
	scripted := fault != nil && (fault.Status != 0 || fault.Drop)
	rec.Fault = fault != nil

	var rows []map[string]any
	var a ingestAnswer
	if !scripted || fault.Ingest {
		rows, a = s.handle(r, &rec, wire, readErr)
	}
	if scripted {
		if fault.Drop {
			s.record(rec, rows)
			ingestDrop(w)
			return
		}
		a = ingestAnswer{status: fault.Status, code: fault.Code, message: fault.Message}
		if a.code == "" {
			a.code = strings.ReplaceAll(http.StatusText(a.status), " ", "")
		}
		if a.message == "" {
			a.message = "scripted failure"
		}
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
	}

	rec.Status, rec.Code = a.status, a.code
	s.record(rec, rows)
	if a.status == http.StatusNoContent {
		w.WriteHeader(a.status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("x-ms-error-code", a.code)
	w.WriteHeader(a.status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": a.code, "message": a.message}})
}

// record logs a request and stores its rows (nil: none).
func (s *Ingest) record(rec IngestRequest, rows []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
	if rec.NonArray {
		s.nonArray++
	}
	if rows != nil {
		s.batches = append(s.batches, rows)
	}
}

// handle checks a request against the contract and returns the rows to
// store (nil when none) and the answer.
func (s *Ingest) handle(r *http.Request, rec *IngestRequest, wire []byte, readErr error) ([]map[string]any, ingestAnswer) {
	fail := func(status int, code, format string, args ...any) ([]map[string]any, ingestAnswer) {
		return nil, ingestAnswer{status: status, code: code, message: fmt.Sprintf(format, args...)}
	}

	if rec.DCR == "" || rec.Stream == "" {
		return fail(http.StatusNotFound, "NotFound", "no resource at %s: the path is /dataCollectionRules/{dcrImmutableId}/streams/{streamName}", r.URL.Path)
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "method %s is not allowed: use POST", r.Method)
	}
	if rec.APIVersion != "2023-01-01" {
		return fail(http.StatusBadRequest, "InvalidApiVersion", "api-version %q is not supported: use 2023-01-01", rec.APIVersion)
	}
	if rec.Token == "" || !s.cfg.Validate(rec.Token, s.cfg.Audience) {
		return fail(http.StatusUnauthorized, "InvalidToken", "the bearer token is missing, invalid, expired or not for audience %s", s.cfg.Audience)
	}
	streams, ok := s.cfg.Streams[rec.DCR]
	if !ok {
		return fail(http.StatusNotFound, "NotFound", "data collection rule %s was not found at this endpoint", rec.DCR)
	}
	schema, ok := streams[rec.Stream]
	if !ok {
		return fail(http.StatusNotFound, "NotFound", "data collection rule %s declares no stream %s", rec.DCR, rec.Stream)
	}
	if !s.cfg.Authorized(rec.Token, rec.DCR) {
		return fail(http.StatusForbidden, "OperationFailed", "the caller may not ingest through data collection rule %s", rec.DCR)
	}
	if mt, _, err := mime.ParseMediaType(rec.ContentType); err != nil || mt != "application/json" {
		return fail(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "content type %q is not application/json", rec.ContentType)
	}

	if readErr != nil {
		return fail(http.StatusBadRequest, "InvalidBody", "cannot read the body: %v", readErr)
	}
	if len(wire) > s.cfg.MaxBodyBytes {
		return fail(http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", "the body of %d bytes is over the limit of %d", len(wire), s.cfg.MaxBodyBytes)
	}
	raw := wire
	switch enc := strings.ToLower(strings.TrimSpace(rec.ContentEncoding)); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err != nil {
			return fail(http.StatusBadRequest, "InvalidContentEncoding", "the body is not gzip: %v", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, int64(s.cfg.MaxDecompressedBytes)+1))
		if err != nil {
			return fail(http.StatusBadRequest, "InvalidContentEncoding", "cannot decompress the body: %v", err)
		}
		if len(raw) > s.cfg.MaxDecompressedBytes {
			return fail(http.StatusRequestEntityTooLarge, "ContentLengthLimitExceeded", "the body decompresses to more than %d bytes", s.cfg.MaxDecompressedBytes)
		}
	default:
		return fail(http.StatusBadRequest, "InvalidContentEncoding", "content encoding %q is not supported: use gzip or none", enc)
	}
	rec.RawBytes = len(raw)

	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		return fail(http.StatusBadRequest, "InvalidJson", "the body is not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(http.StatusBadRequest, "InvalidJson", "the body has data after its JSON value")
	}
	records, ok := body.([]any)
	if !ok {
		rec.NonArray = true
		return nil, ingestAnswer{status: http.StatusNoContent}
	}

	rows := make([]map[string]any, 0, len(records))
	for i, v := range records {
		row, ok := v.(map[string]any)
		if !ok {
			return fail(http.StatusBadRequest, "InvalidArgument", "record %d is not a JSON object", i)
		}
		if schema != nil {
			for col, val := range row {
				typ, declared := schema[col]
				if !declared {
					delete(row, col)
					rec.DroppedColumns++
					continue
				}
				if !ingestTypeOK(typ, val) {
					return fail(http.StatusBadRequest, "InvalidArgument", "record %d: column %s holds %s, not a value of type %s", i, col, ingestKind(val), typ)
				}
			}
		}
		rows = append(rows, row)
	}
	rec.Rows = len(rows)
	return rows, ingestAnswer{status: http.StatusNoContent}
}

// ingestTypeOK reports whether a decoded JSON value fits a column type.
func ingestTypeOK(typ string, v any) bool {
	if v == nil {
		return true
	}
	switch typ {
	case "dynamic":
		return true
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "int", "long":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	case "real":
		_, ok := v.(json.Number)
		return ok
	case "datetime":
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	case "guid":
		s, ok := v.(string)
		return ok && len(s) == 36 && strings.Count(s, "-") == 4
	}
	return false
}

func ingestKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// ingestDrop closes the connection without an answer.
func ingestDrop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("azuretest: the server cannot drop a connection")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(fmt.Sprintf("azuretest: drop connection: %v", err))
	}
	conn.Close()
}

func ingestGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
