package modern

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/modern/azuretest"
)

const (
	sendTestDCR    = "dcr-00112233445566778899aabbccddeeff"
	sendTestStream = "Custom-OTBridgeTest"
	sendTestToken  = "eyJ0eXAiOiJKV1QifQ.sendtest-token-7f3a9c.sig"
	sendTestStale  = "eyJ0eXAiOiJKV1QifQ.sendtest-stale-2b8e1d.sig"
)

// sendTestSchema is the stream declaration of sendTestMapper's rows.
var sendTestSchema = azuretest.IngestSchema{
	"TimeGenerated": "datetime", "Key": "string", "Title": "string",
	"Count": "long", "Path": "string", "Message": "string",
}

// sendTestMapper is a trivial RowMapper: an alert titled "bad ..." gets a
// Count of the wrong type, which the fake refuses with 400; one titled
// "unmappable" cannot be mapped.
type sendTestMapper struct{}

func (sendTestMapper) AppendRow(dst []byte, a *bridge.Alert, path bridge.Path) ([]byte, int, error) {
	if a.Title == "unmappable" {
		return dst, 0, errors.New("no column for this alert")
	}
	var count any = len(a.Message)
	if strings.HasPrefix(a.Title, "bad") {
		count = "many"
	}
	row, err := json.Marshal(map[string]any{
		"TimeGenerated": a.DetectedAt.Format(time.RFC3339Nano),
		"Key":           a.Key(),
		"Title":         a.Title,
		"Count":         count,
		"Path":          string(path),
		"Message":       a.Message,
	})
	return append(dst, row...), 1, err
}

func sendTestAlerts(n int, bad ...int) []*bridge.Alert {
	alerts := make([]*bridge.Alert, n)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range alerts {
		a := &bridge.Alert{
			Sensor:     "plant-a",
			UUID:       fmt.Sprintf("1-%d", 1740830400000+i),
			DetectedAt: t0.Add(time.Duration(i) * time.Second),
			Title:      fmt.Sprintf("alert %d", i),
			Message:    fmt.Sprintf("alert %d: %s", i, strings.Repeat(fmt.Sprintf("modbus write to register %d; ", i*7919%1000), 10)),
		}
		if slices.Contains(bad, i) {
			a.Title = fmt.Sprintf("bad alert %d", i)
		}
		alerts[i] = a
	}
	return alerts
}

// sendTestCred hands out its tokens in turn, moving to the next when the
// current one is invalidated.
type sendTestCred struct {
	mu          sync.Mutex
	tokens      []string
	i           int
	calls       int
	scopes      []string
	invalidated []string
}

func (c *sendTestCred) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.scopes = opts.Scopes
	return azcore.AccessToken{Token: c.tokens[min(c.i, len(c.tokens)-1)], ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (c *sendTestCred) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidated = append(c.invalidated, token)
	if c.tokens[min(c.i, len(c.tokens)-1)] == token {
		c.i++
	}
}

// sendTestLog is a slog JSON log in memory.
type sendTestLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *sendTestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the decoded log lines.
func (l *sendTestLog) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func (l *sendTestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count is the number of lines at level with msg.
func (l *sendTestLog) count(t *testing.T, level, msg string) int {
	n := 0
	for _, m := range l.lines(t) {
		if m["level"] == level && m["msg"] == msg {
			n++
		}
	}
	return n
}

type sendTest struct {
	ing  *azuretest.Ingest
	cred *sendTestCred
	log  *sendTestLog
	cfg  Config
	d    *Destination
}

// newSendTest starts a fake API and a destination for it. The
// destination's retries wait milliseconds.
func newSendTest(t *testing.T, icfg azuretest.IngestConfig, mod func(*Config)) *sendTest {
	t.Helper()
	if icfg.Streams == nil {
		icfg.Streams = map[string]map[string]azuretest.IngestSchema{sendTestDCR: {sendTestStream: sendTestSchema}}
	}
	if icfg.Tokens == nil && icfg.Validate == nil {
		icfg.Tokens = []string{sendTestToken}
	}
	st := &sendTest{
		ing:  azuretest.NewIngest(t, icfg),
		cred: &sendTestCred{tokens: []string{sendTestToken}},
		log:  &sendTestLog{},
	}
	st.cfg = Config{
		Name:           "sentinel",
		Endpoint:       st.ing.URL,
		DCRImmutableID: sendTestDCR,
		Stream:         sendTestStream,
		Batch:          BatchConfig{MaxBytes: 4096, MaxUncompressedBytes: 16384},
		Retry:          RetryConfig{MaxAttempts: 5, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxRetryAfter: 3 * time.Millisecond},
	}
	if mod != nil {
		mod(&st.cfg)
	}
	st.newDestination(t, st.ing.Client())
	return st
}

func (st *sendTest) newDestination(t *testing.T, hc *http.Client) {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(st.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := NewDestination(st.cfg, st.cred, hc, sendTestMapper{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	st.d = d
}

// stored counts the stored rows by alert key.
func (st *sendTest) stored() map[string]int {
	n := map[string]int{}
	for _, row := range st.ing.Rows() {
		n[row["Key"].(string)]++
	}
	return n
}

// checkNoSecret fails if a token appears in the log or the texts.
func (st *sendTest) checkNoSecret(t *testing.T, texts ...string) {
	t.Helper()
	for _, tok := range []string{sendTestToken, sendTestStale} {
		secret := strings.Split(tok, ".")[1]
		if strings.Contains(st.log.String(), secret) {
			t.Errorf("the log holds a bearer token")
		}
		for _, s := range texts {
			if strings.Contains(s, secret) {
				t.Errorf("%q holds a bearer token", s)
			}
		}
	}
}

// checkRequests checks what every request carried.
func (st *sendTest) checkRequests(t *testing.T) {
	t.Helper()
	ids := map[string]bool{}
	for _, r := range st.ing.Requests() {
		if r.Method != http.MethodPost || r.APIVersion != APIVersion || r.DCR != sendTestDCR || r.Stream != sendTestStream {
			t.Errorf("request %s %s api-version %q", r.Method, r.Path, r.APIVersion)
		}
		if r.ContentType != "application/json" || (r.ContentEncoding != "gzip") != (st.cfg.Batch.Compression == "none") {
			t.Errorf("request with Content-Type %q, Content-Encoding %q", r.ContentType, r.ContentEncoding)
		}
		if !strings.HasPrefix(r.UserAgent, "otbridge/") {
			t.Errorf("request with User-Agent %q", r.UserAgent)
		}
		if _, err := uuid.Parse(r.ClientRequestID); err != nil || ids[r.ClientRequestID] {
			t.Errorf("request with x-ms-client-request-id %q: want a new GUID per attempt", r.ClientRequestID)
		}
		ids[r.ClientRequestID] = true
	}
	if n := st.ing.NonArrayBodies(); n != 0 {
		t.Errorf("%d bodies were not JSON arrays", n)
	}
}

func TestDestination_Send(t *testing.T) {
	for _, compression := range []string{"gzip", "none"} {
		t.Run(compression, func(t *testing.T) {
			st := newSendTest(t, azuretest.IngestConfig{}, func(c *Config) { c.Batch.Compression = compression })
			alerts := sendTestAlerts(300)
			rep, err := st.d.Send(context.Background(), alerts)
			if err != nil {
				t.Fatal(err)
			}
			reqs := st.ing.Requests()
			if rep.Delivered != len(alerts) || len(rep.Rejected) != 0 || len(rep.Pending) != 0 || rep.Retries != 0 || rep.Requests != len(reqs) {
				t.Errorf("report %+v with %d requests", rep, len(reqs))
			}
			if rep.Truncated != len(alerts) {
				t.Errorf("Truncated = %d, want the mapper's %d", rep.Truncated, len(alerts))
			}
			if len(reqs) < 3 {
				t.Errorf("%d requests, want several batches", len(reqs))
			}
			stored := st.stored()
			for _, a := range alerts {
				if stored[a.Key()] != 1 {
					t.Errorf("alert %s stored %d times", a.Key(), stored[a.Key()])
				}
			}
			if len(stored) != len(alerts) {
				t.Errorf("%d keys stored, want %d", len(stored), len(alerts))
			}
			for _, r := range reqs {
				if r.WireBytes > st.cfg.Batch.MaxBytes || r.RawBytes > st.cfg.Batch.MaxUncompressedBytes || r.Token != sendTestToken {
					t.Errorf("request of %d bytes, %d decompressed, token %v", r.WireBytes, r.RawBytes, r.Token == sendTestToken)
				}
			}
			if s := st.cred.scopes; len(s) != 1 || s[0] != "https://monitor.azure.com/.default" {
				t.Errorf("token scopes %q", s)
			}
			st.checkRequests(t)
			st.checkNoSecret(t)
		})
	}
}

func TestDestination_Send_empty(t *testing.T) {
	st := newSendTest(t, azuretest.IngestConfig{}, nil)
	rep, err := st.d.Send(context.Background(), nil)
	if err != nil || rep.Requests != 0 || len(st.ing.Requests()) != 0 {
		t.Errorf("Send(nil) = %+v, %v with %d requests", rep, err, len(st.ing.Requests()))
	}
}

func TestDestination_Send_faults(t *testing.T) {
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		faults []azuretest.IngestFault
		// capped: a Retry-After over the cap was logged.
		capped bool
		// duplicates: rows stored twice because an answer was lost.
		duplicates bool
		// timeout: the client gives up on slow answers; on a loaded
		// machine one of them may have stored its rows, so duplicates
		// are allowed.
		timeout bool
	}{
		{name: "429 retry-after seconds", faults: []azuretest.IngestFault{{Status: 429, RetryAfter: "30"}}, capped: true},
		{name: "429 retry-after date", faults: []azuretest.IngestFault{{Status: 429, RetryAfter: date}}, capped: true},
		{name: "429 without retry-after", faults: []azuretest.IngestFault{{Status: 429}}},
		{name: "503 retry-after", faults: []azuretest.IngestFault{{Status: 503, RetryAfter: "120"}, {Status: 503, RetryAfter: "0"}}, capped: true},
		{name: "500", faults: []azuretest.IngestFault{{Status: 500}, {Status: 500}}},
		{name: "502 504", faults: []azuretest.IngestFault{{Status: 502}, {Status: 504}}},
		{name: "dropped connection", faults: []azuretest.IngestFault{{Drop: true}}},
		{name: "timeout", faults: []azuretest.IngestFault{{Delay: time.Minute}}, timeout: true},
		{name: "413", faults: []azuretest.IngestFault{{Status: 413, Code: "ContentLengthLimitExceeded"}}},
		{name: "mixed", faults: []azuretest.IngestFault{{Status: 503}, {Drop: true}, {Status: 429, RetryAfter: "1"}, {Status: 500}}, capped: true},
		{name: "answer lost after storing", faults: []azuretest.IngestFault{{Ingest: true, Drop: true}}, duplicates: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newSendTest(t, azuretest.IngestConfig{}, nil)
			if tt.timeout {
				hc := st.ing.Client()
				hc.Timeout = time.Second
				st.newDestination(t, hc)
			}
			st.ing.Fail(tt.faults...)
			alerts := sendTestAlerts(200)
			rep, err := st.d.Send(context.Background(), alerts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Delivered != len(alerts) || len(rep.Rejected) != 0 || len(rep.Pending) != 0 {
				t.Errorf("report %+v", rep)
			}
			if tt.faults[0].Status == 413 {
				if rep.Retries != 0 {
					t.Errorf("%d retries after a 413, want a split", rep.Retries)
				}
			} else if rep.Retries < len(tt.faults) {
				t.Errorf("%d retries, want at least %d", rep.Retries, len(tt.faults))
			}

			// At least once: every alert is stored, and only the lost
			// answer stores any twice.
			dup := 0
			stored := st.stored()
			for _, a := range alerts {
				switch n := stored[a.Key()]; {
				case n == 0:
					t.Fatalf("alert %s lost", a.Key())
				case n > 1:
					dup++
				}
			}
			if (dup > 0) != tt.duplicates && !tt.timeout {
				t.Errorf("%d alerts stored twice", dup)
			}
			if got := st.log.count(t, "WARN", "retry-after over the cap, waiting less") > 0; got != tt.capped {
				t.Errorf("capped Retry-After logged: %v, want %v", got, tt.capped)
			}
			// A 413 body is never sent again.
			seen413 := map[string]bool{}
			for _, r := range st.ing.Requests() {
				if seen413[r.Digest] {
					t.Errorf("a body refused with 413 was sent again")
				}
				if r.Status == 413 {
					seen413[r.Digest] = true
				}
			}
			st.checkRequests(t)
			st.checkNoSecret(t)
		})
	}
}

func TestDestination_Send_retryAfterCap(t *testing.T) {
	// Retry-After asks an hour; the destination waits its cap, which the
	// test sees through the backoff policy and the log, not the clock.
	st := newSendTest(t, azuretest.IngestConfig{}, nil)
	base := st.d.Backoff
	var waits []time.Duration
	st.d.Backoff = func(n int, resp *http.Response) time.Duration {
		w := base(n, resp)
		waits = append(waits, w)
		return w
	}
	st.ing.Fail(azuretest.IngestFault{Status: 429, RetryAfter: "3600"})
	if _, err := st.d.Send(context.Background(), sendTestAlerts(5)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] != st.cfg.Retry.MaxRetryAfter {
		t.Errorf("waits %v, want one of the cap %v", waits, st.cfg.Retry.MaxRetryAfter)
	}
	var line map[string]any
	for _, m := range st.log.lines(t) {
		if m["msg"] == "retry-after over the cap, waiting less" {
			line = m
		}
	}
	if line == nil || line["retry_after"] != float64(time.Hour) || line["wait"] != float64(st.cfg.Retry.MaxRetryAfter) || line["status"] != float64(429) {
		t.Errorf("cap log line %v", line)
	}
}

func TestDestination_Send_tokenRefresh(t *testing.T) {
	st := newSendTest(t, azuretest.IngestConfig{}, nil)
	st.cred.tokens = []string{sendTestStale, sendTestToken}
	alerts := sendTestAlerts(100)
	rep, err := st.d.Send(context.Background(), alerts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != len(alerts) || rep.Retries != 1 {
		t.Errorf("report %+v, want all delivered after one retry", rep)
	}
	if !slices.Equal(st.cred.invalidated, []string{sendTestStale}) {
		t.Errorf("invalidated %d tokens, want the refused one", len(st.cred.invalidated))
	}
	reqs := st.ing.Requests()
	if reqs[0].Status != 401 || reqs[0].Token != sendTestStale || reqs[1].Status != 204 || reqs[1].Token != sendTestToken {
		t.Errorf("first requests: %d with the stale token %v, then %d", reqs[0].Status, reqs[0].Token == sendTestStale, reqs[1].Status)
	}
	if reqs[0].Digest != reqs[1].Digest {
		t.Error("the retry after a refresh sent another body")
	}
	st.checkRequests(t)
	st.checkNoSecret(t)
}

func TestDestination_Send_permanent(t *testing.T) {
	otherDCR := "dcr-ffeeddccbbaa99887766554433221100"
	tests := []struct {
		name     string
		icfg     azuretest.IngestConfig
		fault    *azuretest.IngestFault
		status   int
		code     string
		requests int
		hint     []string
	}{
		{
			name:     "403 no role",
			icfg:     azuretest.IngestConfig{Authorized: func(string, string) bool { return false }},
			status:   403,
			code:     "OperationFailed",
			requests: 1,
			hint:     []string{"Monitoring Metrics Publisher", sendTestDCR, "30 minutes"},
		},
		{
			name:     "404 unknown DCR",
			icfg:     azuretest.IngestConfig{Streams: map[string]map[string]azuretest.IngestSchema{otherDCR: {sendTestStream: nil}}},
			status:   404,
			code:     "NotFound",
			requests: 1,
			hint:     []string{"dcr_immutable_id " + sendTestDCR, "stream " + sendTestStream, "endpoint https://127.0.0.1:"},
		},
		{
			name:     "404 unknown stream",
			icfg:     azuretest.IngestConfig{Streams: map[string]map[string]azuretest.IngestSchema{sendTestDCR: {"Custom-Other": nil}}},
			status:   404,
			code:     "NotFound",
			requests: 1,
			hint:     []string{sendTestDCR, sendTestStream},
		},
		{
			name:     "401 after refresh",
			icfg:     azuretest.IngestConfig{Tokens: []string{"another"}},
			status:   401,
			code:     "InvalidToken",
			requests: 2,
			hint:     []string{"credential", "cloud.audience https://monitor.azure.com"},
		},
		{
			name:     "501",
			fault:    &azuretest.IngestFault{Status: 501},
			status:   501,
			code:     "NotImplemented",
			requests: 1,
			hint:     []string{"endpoint"},
		},
		{
			name:     "405",
			fault:    &azuretest.IngestFault{Status: 405},
			status:   405,
			code:     "MethodNotAllowed",
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newSendTest(t, tt.icfg, nil)
			if tt.fault != nil {
				st.ing.Fail(*tt.fault)
			}
			alerts := sendTestAlerts(100)
			rep, err := st.d.Send(context.Background(), alerts)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("Send error %v, want an *APIError", err)
			}
			if ae.Status != tt.status || ae.Code != tt.code || !ae.Permanent || ae.Attempts != tt.requests || ae.Message == "" {
				t.Errorf("APIError %+v", ae)
			}
			reqs := st.ing.Requests()
			last := reqs[len(reqs)-1]
			if len(reqs) != tt.requests || ae.RequestID != last.RequestID || ae.ClientRequestID != last.ClientRequestID {
				t.Errorf("%d requests, want %d; error ids %s %s, last request %s %s",
					len(reqs), tt.requests, ae.RequestID, ae.ClientRequestID, last.RequestID, last.ClientRequestID)
			}
			for _, h := range tt.hint {
				if !strings.Contains(ae.Hint, h) || !strings.Contains(err.Error(), h) {
					t.Errorf("error %q does not say %q", err, h)
				}
			}
			if strings.Contains(err.Error(), "api-version") {
				t.Errorf("error %q shows the query", err)
			}
			// The caller keeps every alert.
			if rep.Delivered != 0 || len(rep.Pending) != len(alerts) || rep.Pending[0] != 0 || rep.Pending[len(alerts)-1] != len(alerts)-1 {
				t.Errorf("report delivered %d, pending %d of %d", rep.Delivered, len(rep.Pending), len(alerts))
			}
			if n := st.log.count(t, "ERROR", "cannot deliver batch, rows kept"); n != 1 {
				t.Errorf("%d error lines, want 1", n)
			}
			st.checkRequests(t)
			st.checkNoSecret(t, err.Error())
		})
	}
}

func TestDestination_Send_attemptsExhausted(t *testing.T) {
	st := newSendTest(t, azuretest.IngestConfig{}, nil)
	for range st.cfg.Retry.MaxAttempts {
		st.ing.Fail(azuretest.IngestFault{Status: 503, Code: "ServiceUnavailable", Message: "the ingestion pipeline is busy"})
	}
	alerts := sendTestAlerts(100)
	rep, err := st.d.Send(context.Background(), alerts)
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("Send error %v, want an *APIError", err)
	}
	reqs := st.ing.Requests()
	last := reqs[len(reqs)-1]
	if ae.Permanent || ae.Status != 503 || ae.Code != "ServiceUnavailable" || ae.Message != "the ingestion pipeline is busy" ||
		ae.Attempts != st.cfg.Retry.MaxAttempts || len(reqs) != ae.Attempts || ae.RequestID != last.RequestID {
		t.Errorf("APIError %+v after %d requests", ae, len(reqs))
	}
	if len(rep.Pending) != len(alerts) || rep.Retries != st.cfg.Retry.MaxAttempts-1 {
		t.Errorf("report %+v", rep)
	}
	// The same failure is logged once at Warn, the repeats at Debug.
	if n := st.log.count(t, "WARN", "post batch failed, retrying"); n != 1 {
		t.Errorf("%d warnings for the same failure, want 1", n)
	}

	// The next Send succeeds, and says so once.
	if _, err := st.d.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	if n := st.log.count(t, "INFO", "delivery recovered"); n != 1 {
		t.Errorf("%d recovery lines, want 1", n)
	}
}

func TestDestination_Send_bisect(t *testing.T) {
	bad := []int{3, 17, 18, 39}
	st := newSendTest(t, azuretest.IngestConfig{}, func(c *Config) {
		c.Batch = BatchConfig{MaxBytes: APILimitBytes}
	})
	alerts := sendTestAlerts(40, bad...)
	alerts[25].Title = "unmappable"
	rep, err := st.d.Send(context.Background(), alerts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != len(alerts)-len(bad)-1 || len(rep.Pending) != 0 {
		t.Errorf("report %+v", rep)
	}

	var rejected []int
	for _, r := range rep.Rejected {
		rejected = append(rejected, r.ID)
		if r.Key != alerts[r.ID].Key() {
			t.Errorf("rejection %d has key %q, want %q", r.ID, r.Key, alerts[r.ID].Key())
		}
		if r.ID == 25 {
			if r.Reason != ReasonMapping {
				t.Errorf("unmappable alert rejected for %s", r.Reason)
			}
			continue
		}
		var ae *APIError
		if r.Reason != ReasonRejected || !errors.As(r.Err, &ae) || ae.Status != 400 || ae.Code != "InvalidArgument" || !strings.Contains(ae.Message, "column Count") {
			t.Errorf("rejection %d: %s %v", r.ID, r.Reason, r.Err)
		}
	}
	slices.Sort(rejected)
	if want := []int{3, 17, 18, 25, 39}; !slices.Equal(rejected, want) {
		t.Errorf("rejected %v, want %v", rejected, want)
	}
	stored := st.stored()
	for i, a := range alerts {
		want := 1
		if slices.Contains(rejected, i) {
			want = 0
		}
		if stored[a.Key()] != want {
			t.Errorf("alert %d stored %d times, want %d", i, stored[a.Key()], want)
		}
	}
	if n := st.log.count(t, "ERROR", "rows rejected, to dead-letter"); n != 2 {
		t.Errorf("%d dead-letter lines, want one per reason", n)
	}
	st.checkRequests(t)
}

func TestDestination_Send_splitsOn413(t *testing.T) {
	// The service's limit is below the destination's: 413s split batches
	// until they fit, and a row too large alone is rejected.
	st := newSendTest(t, azuretest.IngestConfig{MaxBodyBytes: 1500}, func(c *Config) {
		c.Batch = BatchConfig{MaxBytes: 8192, MaxUncompressedBytes: 65536, Compression: "none"}
	})
	alerts := sendTestAlerts(30)
	alerts[7].Message = strings.Repeat("x", 2000)
	rep, err := st.d.Send(context.Background(), alerts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != 29 || len(rep.Rejected) != 1 || rep.Rejected[0].ID != 7 || rep.Rejected[0].Reason != ReasonRowTooLarge {
		t.Fatalf("report %+v", rep)
	}
	var ae *APIError
	if !errors.As(rep.Rejected[0].Err, &ae) || ae.Status != 413 || ae.Code != "ContentLengthLimitExceeded" || !strings.Contains(ae.Hint, "max_field_bytes") {
		t.Errorf("rejection error %v", rep.Rejected[0].Err)
	}
	seen413 := map[string]bool{}
	for _, r := range st.ing.Requests() {
		if seen413[r.Digest] {
			t.Errorf("a body refused with 413 was sent again")
		}
		if r.Status == 413 {
			seen413[r.Digest] = true
		}
	}
	if len(seen413) < 2 {
		t.Errorf("%d bodies refused with 413, want splits", len(seen413))
	}
}

func TestDestination_Send_cancelInterruptsWait(t *testing.T) {
	st := newSendTest(t, azuretest.IngestConfig{}, func(c *Config) { c.Retry.MaxRetryAfter = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := st.d.Backoff
	waiting := make(chan time.Duration, 1)
	st.d.Backoff = func(n int, resp *http.Response) time.Duration {
		w := base(n, resp)
		waiting <- w
		return w
	}
	st.ing.Fail(azuretest.IngestFault{Status: 429, RetryAfter: "3600"})

	type result struct {
		rep Report
		err error
	}
	done := make(chan result, 1)
	alerts := sendTestAlerts(10)
	go func() {
		rep, err := st.d.Send(ctx, alerts)
		done <- result{rep, err}
	}()
	if w := <-waiting; w != time.Hour {
		t.Errorf("waiting %v, want the hour Retry-After asks", w)
	}
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Send still waiting after cancel")
	}
	if !errors.Is(res.err, context.Canceled) || len(res.rep.Pending) != len(alerts) {
		t.Errorf("Send = %+v, %v; want context.Canceled with every alert pending", res.rep, res.err)
	}
	if n := len(st.ing.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestDestination_Send_logs(t *testing.T) {
	st := newSendTest(t, azuretest.IngestConfig{}, nil)
	st.cred.tokens = []string{sendTestStale, sendTestToken}
	st.ing.Fail(
		azuretest.IngestFault{Status: 503},
		azuretest.IngestFault{Status: 503},
		azuretest.IngestFault{Drop: true},
	)
	rep, err := st.d.Send(context.Background(), sendTestAlerts(100))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Retries != 4 {
		t.Errorf("%d retries, want 4 (two 503s, a dropped connection, a 401)", rep.Retries)
	}

	lines := st.log.lines(t)
	retryable := 0
	for _, m := range lines {
		if m["destination"] != "sentinel" {
			t.Errorf("log line without the destination: %v", m)
		}
		if m["component"] == "retryablehttp" {
			retryable++
			if m["level"] != "DEBUG" {
				t.Errorf("retryablehttp logged at %v: %v", m["level"], m)
			}
		}
		for k := range m {
			if k != strings.ToLower(k) || strings.Contains(k, "-") {
				t.Errorf("log key %q is not snake_case", k)
			}
		}
	}
	if retryable == 0 {
		t.Error("no retryablehttp line reached slog")
	}
	// Two different failures, each warned once; then recovered.
	if n := st.log.count(t, "WARN", "post batch failed, retrying"); n != 2 {
		t.Errorf("%d warnings, want 2 (503, then the dropped connection)", n)
	}
	if n := st.log.count(t, "INFO", "delivery recovered"); n != 1 {
		t.Errorf("%d recovery lines, want 1", n)
	}
	if st.log.count(t, "DEBUG", "post batch") == 0 {
		t.Error("attempts not logged at Debug")
	}
	st.checkNoSecret(t)
	if strings.Contains(st.log.String(), "Bearer") {
		t.Error("the log shows an Authorization header")
	}
}

func TestDestination_Send_tokenFailure(t *testing.T) {
	st := newSendTest(t, azuretest.IngestConfig{}, nil)
	boom := errors.New("authority unreachable")
	d, err := NewDestination(st.cfg, failingCred{boom}, st.ing.Client(), sendTestMapper{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.Send(context.Background(), sendTestAlerts(3))
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, boom) || ae.Permanent || len(rep.Pending) != 3 {
		t.Errorf("Send = %+v, %v; want a token error with every alert pending", rep, err)
	}
	if len(st.ing.Requests()) != 0 {
		t.Error("requests sent without a token")
	}
}

type failingCred struct{ err error }

func (c failingCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, c.err
}

func TestNewDestination_refuses(t *testing.T) {
	good := Config{Name: "s", Endpoint: "https://dce.example", DCRImmutableID: sendTestDCR, Stream: sendTestStream}
	cred := &sendTestCred{tokens: []string{"t"}}
	if _, err := NewDestination(good, cred, http.DefaultClient, sendTestMapper{}, nil); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	bad := good
	bad.Endpoint = "http://dce.example"
	if _, err := NewDestination(bad, cred, http.DefaultClient, sendTestMapper{}, nil); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("http endpoint: %v", err)
	}
	if _, err := NewDestination(good, nil, http.DefaultClient, sendTestMapper{}, nil); err == nil {
		t.Error("no credential accepted")
	}
	if _, err := NewDestination(good, cred, nil, sendTestMapper{}, nil); err == nil {
		t.Error("no http client accepted")
	}
	if _, err := NewDestination(good, cred, http.DefaultClient, nil, nil); err == nil {
		t.Error("no mapper accepted")
	}
}

func TestDestination_Deliver(t *testing.T) {
	// A streaming caller batches with its own Batcher and delivers.
	st := newSendTest(t, azuretest.IngestConfig{}, nil)
	bt, err := NewBatcher(st.d.cfg.Batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	var batches []*Batch
	for i, a := range sendTestAlerts(50, 20) {
		row, _, _ := sendTestMapper{}.AppendRow(nil, a, bridge.PathModern)
		ready, err := bt.Add(1000+i, row)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, ready...)
	}
	batches = append(batches, bt.Flush()...)
	delivered := 0
	var rejected []Rejection
	for _, b := range batches {
		rep, err := st.d.Deliver(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		delivered += rep.Delivered
		rejected = append(rejected, rep.Rejected...)
	}
	if delivered != 49 || len(rejected) != 1 || rejected[0].ID != 1020 || rejected[0].Key != "" {
		t.Errorf("delivered %d, rejected %+v", delivered, rejected)
	}
}
