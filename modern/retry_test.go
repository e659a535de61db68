package modern

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDefaultClassifier(t *testing.T) {
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "https://dce.example/x", Err: err} }
	tests := []struct {
		status int
		err    error
		want   Action
	}{
		{status: 204, want: ActionDone},
		{status: 200, want: ActionDone},
		{status: 400, want: ActionBisect},
		{status: 401, want: ActionRefresh},
		{status: 403, want: ActionFail},
		{status: 404, want: ActionFail},
		{status: 405, want: ActionFail},
		{status: 408, want: ActionRetry},
		{status: 409, want: ActionFail},
		{status: 413, want: ActionSplit},
		{status: 415, want: ActionFail},
		{status: 429, want: ActionRetry},
		{status: 500, want: ActionRetry},
		{status: 501, want: ActionFail},
		{status: 502, want: ActionRetry},
		{status: 503, want: ActionRetry},
		{status: 504, want: ActionRetry},
		{status: 302, want: ActionFail},
		{err: urlErr(io.EOF), want: ActionRetry},
		{err: urlErr(syscall.ECONNRESET), want: ActionRetry},
		{err: urlErr(syscall.ECONNREFUSED), want: ActionRetry},
		{err: urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{IsTimeout: true}}), want: ActionRetry},
		{err: urlErr(x509.UnknownAuthorityError{}), want: ActionFail},
		{err: urlErr(x509.HostnameError{Host: "dce.example"}), want: ActionFail},
		{err: urlErr(errors.New("unsupported protocol scheme \"ftp\"")), want: ActionFail},
	}
	for _, tt := range tests {
		var resp *http.Response
		if tt.err == nil {
			resp = &http.Response{StatusCode: tt.status, Header: http.Header{}}
		}
		if got := DefaultClassifier(resp, tt.err); got != tt.want {
			t.Errorf("DefaultClassifier(%d, %v) = %s, want %s", tt.status, tt.err, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Saturday, 01-Mar-25 12:01:00 GMT", time.Minute, true}, // RFC 850
		{"Sat Mar  1 12:00:10 2025", 10 * time.Second, true},    // asctime
		{"Sat, 01 Mar 2025 11:00:00 GMT", 0, true},              // past
		{"99999999999999", 24 * time.Hour, true},
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewBackoff(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	r := RetryConfig{MinBackoff: time.Second, MaxBackoff: 10 * time.Second, MaxRetryAfter: time.Minute}
	answer := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h}
	}

	// The jitter's extremes give the bounds of each wait.
	lowest := NewBackoff(r, func() time.Time { return now }, func(int64) int64 { return 0 })
	highest := NewBackoff(r, func() time.Time { return now }, func(k int64) int64 { return k - 1 })
	for n, ceil := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if lo, hi := lowest(n, nil), highest(n, nil); lo != r.MinBackoff || hi != ceil {
			t.Errorf("retry %d waits from %v to %v, want from %v to %v", n, lo, hi, r.MinBackoff, ceil)
		}
	}
	if got := highest(200, answer(500, "")); got != r.MaxBackoff {
		t.Errorf("retry 200 waits up to %v, want %v", got, r.MaxBackoff)
	}

	tests := []struct {
		resp *http.Response
		want time.Duration
	}{
		{answer(429, "20"), 20 * time.Second},
		{answer(503, "20"), 20 * time.Second},
		{answer(429, "3600"), time.Minute}, // capped
		{answer(429, "Sat, 01 Mar 2025 12:00:45 GMT"), 45 * time.Second},
		{answer(503, "Sat, 01 Mar 2025 14:00:00 GMT"), time.Minute}, // capped
		{answer(429, "0"), 0},
		{answer(500, "20"), r.MinBackoff}, // Retry-After only counts on 429 and 503
		{answer(429, "later"), r.MinBackoff},
		{answer(503, ""), r.MinBackoff},
	}
	for _, tt := range tests {
		if got := lowest(0, tt.resp); got != tt.want {
			t.Errorf("%d with Retry-After %q: wait %v, want %v", tt.resp.StatusCode, tt.resp.Header.Get("Retry-After"), got, tt.want)
		}
	}

	// The default jitter stays within the bounds.
	def := NewBackoff(r, nil, nil)
	for range 1000 {
		if w := def(1, nil); w < r.MinBackoff || w > 4*time.Second {
			t.Fatalf("wait %v out of [%v, %v]", w, r.MinBackoff, 4*time.Second)
		}
	}
}

func TestAPIError_Error(t *testing.T) {
	e := &APIError{
		Status: 404, Code: "NotFound", Message: "no such rule",
		RequestID: "r-1", ClientRequestID: "c-1", Attempts: 1,
		URL: redactURL("https://dce.example/dataCollectionRules/dcr-1/streams/Custom-A?api-version=2023-01-01"), Hint: "check it",
	}
	want := "post https://dce.example/dataCollectionRules/dcr-1/streams/Custom-A?redacted: 404 NotFound: no such rule (x-ms-request-id r-1, x-ms-client-request-id c-1, 1 attempt): check it"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}

	boom := errors.New("connection reset by peer")
	e = &APIError{URL: "https://dce.example/x", Attempts: 8, Err: boom}
	if got := e.Error(); !strings.Contains(got, "connection reset by peer (8 attempts)") || !errors.Is(e, boom) {
		t.Errorf("Error() = %s", got)
	}
	if s := fmt.Sprint(ActionBisect, Action(99)); s != "bisect action(99)" {
		t.Errorf("Action strings %q", s)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "-1", "", " 7 ", "99999999999999999999", "Fri, 31 Dec 1999 23:59:59 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v: negative wait", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, false: a wait without ok", v, d)
		}
	})
}
