package azuretest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	ingestTestDCR    = "dcr-00112233445566778899aabbccddeeff"
	ingestTestStream = "Custom-Alerts"
	ingestTestToken  = "token-1"
)

func newIngestTest(t *testing.T, mod func(*IngestConfig)) *Ingest {
	cfg := IngestConfig{
		Streams: map[string]map[string]IngestSchema{ingestTestDCR: {
			ingestTestStream: {"TimeGenerated": "datetime", "Title": "string", "Count": "long", "Score": "real", "Ok": "boolean", "Extra": "dynamic"},
			"Custom-Any":     nil,
		}},
		Tokens: []string{ingestTestToken},
	}
	if mod != nil {
		mod(&cfg)
	}
	return NewIngest(t, cfg)
}

// ingestTestPost is one request to the fake.
type ingestTestPost struct {
	method, path, query, token, contentType, encoding string
	body                                              []byte
}

func ingestTestDefault(body string) ingestTestPost {
	return ingestTestPost{
		method: http.MethodPost, path: "/dataCollectionRules/" + ingestTestDCR + "/streams/" + ingestTestStream,
		query: "api-version=2023-01-01", token: ingestTestToken, contentType: "application/json", body: []byte(body),
	}
}

type ingestTestAnswer struct {
	status                  int
	code, message           string
	errorCode, requestID    string
	retryAfter, contentType string
}

func (s *Ingest) post(t *testing.T, p ingestTestPost) (ingestTestAnswer, error) {
	t.Helper()
	req, err := http.NewRequest(p.method, s.URL+p.path+"?"+p.query, bytes.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	req.Header.Set("Content-Type", p.contentType)
	if p.encoding != "" {
		req.Header.Set("Content-Encoding", p.encoding)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return ingestTestAnswer{}, err
	}
	defer resp.Body.Close()
	a := ingestTestAnswer{
		status: resp.StatusCode, errorCode: resp.Header.Get("x-ms-error-code"),
		requestID: resp.Header.Get("x-ms-request-id"), retryAfter: resp.Header.Get("Retry-After"),
		contentType: resp.Header.Get("Content-Type"),
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		var shape struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(body, &shape); err != nil {
			t.Fatalf("error body %q is not the API's JSON shape: %v", body, err)
		}
		a.code, a.message = shape.Error.Code, shape.Error.Message
	}
	return a, nil
}

func ingestTestGzip(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

func TestIngest_contract(t *testing.T) {
	good := `[{"TimeGenerated":"2025-03-01T12:00:00Z","Title":"a","Count":3,"Score":1.5,"Ok":true,"Extra":{"x":[1]}}]`
	tests := []struct {
		name   string
		mod    func(*IngestConfig)
		post   func(p *ingestTestPost)
		status int
		code   string
		rows   int
	}{
		{name: "accepted", status: 204, rows: 1},
		{name: "accepted gzip", post: func(p *ingestTestPost) { p.body, p.encoding = ingestTestGzip(good), "gzip" }, status: 204, rows: 1},
		{name: "empty array", post: func(p *ingestTestPost) { p.body = []byte(`[]`) }, status: 204},
		{name: "nulls", post: func(p *ingestTestPost) { p.body = []byte(`[{"Title":null,"Count":null}]`) }, status: 204, rows: 1},
		{name: "no token", post: func(p *ingestTestPost) { p.token = "" }, status: 401, code: "InvalidToken"},
		{name: "wrong token", post: func(p *ingestTestPost) { p.token = "token-2" }, status: 401, code: "InvalidToken"},
		{name: "validator", mod: func(c *IngestConfig) {
			c.Validate = func(token, audience string) bool { return token == "v" && audience == "https://monitor.azure.com" }
		}, post: func(p *ingestTestPost) { p.token = "v" }, status: 204, rows: 1},
		{name: "unknown DCR", post: func(p *ingestTestPost) {
			p.path = "/dataCollectionRules/dcr-ffffffffffffffffffffffffffffffff/streams/" + ingestTestStream
		}, status: 404, code: "NotFound"},
		{name: "unknown stream", post: func(p *ingestTestPost) {
			p.path = "/dataCollectionRules/" + ingestTestDCR + "/streams/Custom-Other"
		}, status: 404, code: "NotFound"},
		{name: "other path", post: func(p *ingestTestPost) { p.path = "/streams/" + ingestTestStream }, status: 404, code: "NotFound"},
		{name: "no role", mod: func(c *IngestConfig) { c.Authorized = func(string, string) bool { return false } }, status: 403, code: "OperationFailed"},
		{name: "GET", post: func(p *ingestTestPost) { p.method = http.MethodGet }, status: 405, code: "MethodNotAllowed"},
		{name: "api-version", post: func(p *ingestTestPost) { p.query = "api-version=2021-11-01-preview" }, status: 400, code: "InvalidApiVersion"},
		{name: "content type", post: func(p *ingestTestPost) { p.contentType = "text/plain" }, status: 415, code: "UnsupportedMediaType"},
		{name: "over 1 MiB", post: func(p *ingestTestPost) {
			p.body = []byte(`[{"Title":"` + strings.Repeat("a", 1<<20) + `"}]`)
		}, status: 413, code: "ContentLengthLimitExceeded"},
		{name: "over 1 MiB compressed", post: func(p *ingestTestPost) {
			p.body = make([]byte, 1<<20+1)
			p.encoding = "gzip"
		}, status: 413, code: "ContentLengthLimitExceeded"},
		{name: "decompressed over the cap", mod: func(c *IngestConfig) { c.MaxDecompressedBytes = 1000 }, post: func(p *ingestTestPost) {
			p.body, p.encoding = ingestTestGzip(`[{"Title":"`+strings.Repeat("a", 2000)+`"}]`), "gzip"
		}, status: 413, code: "ContentLengthLimitExceeded"},
		{name: "not gzip", post: func(p *ingestTestPost) { p.encoding = "gzip" }, status: 400, code: "InvalidContentEncoding"},
		{name: "brotli", post: func(p *ingestTestPost) { p.encoding = "br" }, status: 400, code: "InvalidContentEncoding"},
		{name: "not JSON", post: func(p *ingestTestPost) { p.body = []byte(`[{"Title":`) }, status: 400, code: "InvalidJson"},
		{name: "trailing data", post: func(p *ingestTestPost) { p.body = []byte(`[{"Title":"a"}] [{}]`) }, status: 400, code: "InvalidJson"},
		{name: "record not an object", post: func(p *ingestTestPost) { p.body = []byte(`[{"Title":"a"},1]`) }, status: 400, code: "InvalidArgument"},
		{name: "long holds a string", post: func(p *ingestTestPost) { p.body = []byte(`[{"Title":"a"},{"Count":"3"}]`) }, status: 400, code: "InvalidArgument"},
		{name: "long holds a fraction", post: func(p *ingestTestPost) { p.body = []byte(`[{"Count":3.5}]`) }, status: 400, code: "InvalidArgument"},
		{name: "datetime not RFC 3339", post: func(p *ingestTestPost) { p.body = []byte(`[{"TimeGenerated":"01/03/2025"}]`) }, status: 400, code: "InvalidArgument"},
		{name: "boolean holds a number", post: func(p *ingestTestPost) { p.body = []byte(`[{"Ok":1}]`) }, status: 400, code: "InvalidArgument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIngestTest(t, tt.mod)
			p := ingestTestDefault(good)
			if tt.post != nil {
				tt.post(&p)
			}
			a, err := s.post(t, p)
			if err != nil {
				t.Fatal(err)
			}
			if a.status != tt.status || a.code != tt.code || a.errorCode != tt.code {
				t.Errorf("answer %d %q (x-ms-error-code %q), want %d %q", a.status, a.code, a.errorCode, tt.status, tt.code)
			}
			if a.status != 204 && (a.message == "" || !strings.HasPrefix(a.contentType, "application/json")) {
				t.Errorf("error answer without a message or JSON content type: %+v", a)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || a.requestID == "" || reqs[0].RequestID != a.requestID || reqs[0].Status != tt.status {
				t.Errorf("request log %+v, answer id %q", reqs, a.requestID)
			}
			if n := len(s.Rows()); n != tt.rows {
				t.Errorf("%d rows stored, want %d", n, tt.rows)
			}
			if s.NonArrayBodies() != 0 {
				t.Error("array body counted as not an array")
			}
		})
	}
}

func TestIngest_nonArrayBody(t *testing.T) {
	// Like the real service: 204 and nothing stored, which the fake
	// records so that tests can assert a client never does it.
	for _, body := range []string{`{"Title":"a"}`, `"a"`, `null`} {
		s := newIngestTest(t, nil)
		a, err := s.post(t, ingestTestDefault(body))
		if err != nil {
			t.Fatal(err)
		}
		if a.status != 204 || len(s.Rows()) != 0 || s.NonArrayBodies() != 1 || !s.Requests()[0].NonArray {
			t.Errorf("%s: answer %d, %d rows, %d non-array bodies", body, a.status, len(s.Rows()), s.NonArrayBodies())
		}
	}
}

func TestIngest_dropsUndeclaredColumns(t *testing.T) {
	s := newIngestTest(t, nil)
	if a, err := s.post(t, ingestTestDefault(`[{"Title":"a","Unknown":1,"Other":"x"},{"Title":"b"}]`)); err != nil || a.status != 204 {
		t.Fatalf("answer %+v, %v", a, err)
	}
	rows := s.Rows()
	if len(rows) != 2 || len(rows[0]) != 1 || rows[0]["Title"] != "a" || rows[1]["Title"] != "b" {
		t.Errorf("rows %v", rows)
	}
	if r := s.Requests()[0]; r.DroppedColumns != 2 || r.Rows != 2 {
		t.Errorf("request log %+v", r)
	}

	// A stream without a schema keeps every column.
	p := ingestTestDefault(`[{"Anything":{"goes":true}}]`)
	p.path = "/dataCollectionRules/" + ingestTestDCR + "/streams/Custom-Any"
	if a, err := s.post(t, p); err != nil || a.status != 204 {
		t.Fatalf("answer %+v, %v", a, err)
	}
	if b := s.Batches(); len(b) != 2 || b[1][0]["Anything"] == nil {
		t.Errorf("batches %v", b)
	}
}

func TestIngest_Fail(t *testing.T) {
	s := newIngestTest(t, nil)
	date := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	s.Fail(
		IngestFault{Status: 429, RetryAfter: "17"},
		IngestFault{Status: 503, RetryAfter: date, Code: "ServerBusy", Message: "busy"},
		IngestFault{Drop: true},
		IngestFault{Ingest: true, Status: 500},
		IngestFault{Delay: 10 * time.Millisecond},
	)
	body := `[{"Title":"a"}]`

	a, err := s.post(t, ingestTestDefault(body))
	if err != nil || a.status != 429 || a.retryAfter != "17" || a.code != "TooManyRequests" || a.requestID == "" {
		t.Errorf("first answer %+v, %v", a, err)
	}
	a, err = s.post(t, ingestTestDefault(body))
	if err != nil || a.status != 503 || a.retryAfter != date || a.code != "ServerBusy" || a.message != "busy" {
		t.Errorf("second answer %+v, %v", a, err)
	}
	if _, err = s.post(t, ingestTestDefault(body)); err == nil {
		t.Error("third request answered, want a dropped connection")
	}
	if len(s.Rows()) != 0 {
		t.Error("rows stored by failed requests")
	}
	a, err = s.post(t, ingestTestDefault(body))
	if err != nil || a.status != 500 || len(s.Rows()) != 1 {
		t.Errorf("fourth answer %+v, %v, %d rows: want 500 after storing", a, err, len(s.Rows()))
	}
	a, err = s.post(t, ingestTestDefault(body))
	if err != nil || a.status != 204 || len(s.Rows()) != 2 {
		t.Errorf("fifth answer %+v, %v: want a delayed 204", a, err)
	}
	a, err = s.post(t, ingestTestDefault(body))
	if err != nil || a.status != 204 {
		t.Errorf("answer after the faults %+v, %v", a, err)
	}

	reqs := s.Requests()
	if len(reqs) != 6 {
		t.Fatalf("%d requests logged, want 6", len(reqs))
	}
	for i, r := range reqs {
		if r.Fault != (i < 5) || r.DCR != ingestTestDCR || r.Stream != ingestTestStream || r.Token != ingestTestToken || r.WireBytes != len(body) || r.Digest == "" {
			t.Errorf("request %d logged as %+v", i, r)
		}
	}
	if reqs[2].Status != 0 {
		t.Errorf("dropped request logged with status %d", reqs[2].Status)
	}
}
