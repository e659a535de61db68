package modern

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Action is what the sender does after one answer of the service.
type Action int

// The actions, as DefaultClassifier assigns them:
//
//	answer                             action         then
//	2xx (the API answers 204)          ActionDone     the rows are delivered
//	401                                ActionRefresh  fresh token, one more attempt, then permanent
//	400                                ActionBisect   halve the batch until the refused rows are alone
//	413                                ActionSplit    halve the batch; the same body is never resent
//	408, 429, 5xx except 501,          ActionRetry    wait (429, 503: Retry-After, capped; else
//	network errors and timeouts                       backoff), up to MaxAttempts in all
//	403, 404, 501, other 3xx and 4xx,  ActionFail     permanent for the batch: the caller keeps
//	untrusted certificates                            the rows, the hint says what to fix
const (
	ActionDone Action = iota
	ActionRetry
	ActionRefresh
	ActionSplit
	ActionBisect
	ActionFail
)

func (a Action) String() string {
	switch a {
	case ActionDone:
		return "done"
	case ActionRetry:
		return "retry"
	case ActionRefresh:
		return "refresh"
	case ActionSplit:
		return "split"
	case ActionBisect:
		return "bisect"
	case ActionFail:
		return "fail"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Classifier decides what to do after one attempt. resp is nil when err is
// set: the request got no answer. It must not read resp.Body.
type Classifier func(resp *http.Response, err error) Action

// DefaultClassifier classifies answers of the Logs Ingestion API as the
// table at Action says.
func DefaultClassifier(resp *http.Response, err error) Action {
	if err != nil {
		if isPermanentTransportError(err) {
			return ActionFail
		}
		return ActionRetry
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return ActionDone
	case s == http.StatusUnauthorized:
		return ActionRefresh
	case s == http.StatusBadRequest:
		return ActionBisect
	case s == http.StatusRequestEntityTooLarge:
		return ActionSplit
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
		return ActionRetry
	case s == http.StatusNotImplemented:
		return ActionFail
	case s >= 500 && s < 600:
		return ActionRetry
	}
	return ActionFail
}

// isPermanentTransportError reports errors that another attempt cannot
// cure: an untrusted or mismatched certificate, a malformed request.
func isPermanentTransportError(err error) bool {
	if isCertError(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol scheme") || strings.Contains(msg, "invalid header")
}

// isCertError reports a certificate the client does not trust.
func isCertError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
	)
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify)
}

// Backoff says how long to wait before retry n (0 before the second
// attempt) after the answer resp, nil when the attempt got no answer.
type Backoff func(n int, resp *http.Response) time.Duration

// NewBackoff returns the default backoff policy. On 429 and 503 it waits
// what Retry-After asks (seconds or an HTTP date, read against now), at
// most r.MaxRetryAfter. Otherwise, and when Retry-After is absent or
// unreadable, it waits a random time between r.MinBackoff and
// r.MinBackoff doubled n+1 times, at most r.MaxBackoff ("full jitter", so
// that many clients throttled together do not come back together).
// jitter(k) returns a uniform random number in [0, k); nil is math/rand.
// now nil is time.Now.
func NewBackoff(r RetryConfig, now func() time.Time, jitter func(k int64) int64) Backoff {
	if now == nil {
		now = time.Now
	}
	if jitter == nil {
		jitter = rand.Int64N
	}
	return func(n int, resp *http.Response) time.Duration {
		if d, ok := retryAfter(resp, now()); ok {
			return min(d, r.MaxRetryAfter)
		}
		ceil := r.MinBackoff
		for i := 0; i <= n && ceil < r.MaxBackoff; i++ {
			ceil *= 2
		}
		ceil = min(ceil, r.MaxBackoff)
		if ceil <= r.MinBackoff {
			return r.MinBackoff
		}
		return r.MinBackoff + time.Duration(jitter(int64(ceil-r.MinBackoff)+1))
	}
}

// retryAfter reads the Retry-After of a 429 or 503 answer.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	return ParseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// ParseRetryAfter reads a Retry-After value: delta-seconds ("120") or an
// HTTP date ("Fri, 31 Dec 1999 23:59:59 GMT", read against now; a date in
// the past is no wait). ok is false for an empty or unreadable value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second) // no overflow; the cap applies anyway
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// APIError is a request the service did not accept: an answer other than
// 2xx, or no answer after every attempt. It carries what a support request
// to Microsoft needs.
type APIError struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Code is the service's error code (x-ms-error-code, else error.code
	// of the JSON body) and Message its error.message, or the start of a
	// body that is not the JSON error shape.
	Code    string
	Message string
	// RequestID is the service's x-ms-request-id; ClientRequestID the
	// x-ms-client-request-id otbridge sent, a new GUID per attempt. Both
	// are of the last attempt.
	RequestID       string
	ClientRequestID string
	// URL is the request URL, query redacted.
	URL string
	// Attempts is the number of attempts made with this body.
	Attempts int
	// Permanent says another attempt will fail the same way until the
	// configuration or the data changes. A failure that is not permanent
	// ran out of attempts; the caller keeps the rows and tries later.
	Permanent bool
	// Hint says what to do, for the user.
	Hint string
	// Err is the transport or token error, when there was no answer.
	Err error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("post ")
	b.WriteString(e.URL)
	b.WriteString(": ")
	switch {
	case e.Status != 0:
		b.WriteString(strconv.Itoa(e.Status))
		if e.Code != "" {
			b.WriteString(" " + e.Code)
		}
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("no answer")
	}
	var ids []string
	if e.RequestID != "" {
		ids = append(ids, "x-ms-request-id "+e.RequestID)
	}
	if e.ClientRequestID != "" {
		ids = append(ids, "x-ms-client-request-id "+e.ClientRequestID)
	}
	if e.Attempts > 0 {
		ids = append(ids, fmt.Sprintf("%d attempt%s", e.Attempts, plural(e.Attempts)))
	}
	if len(ids) > 0 {
		b.WriteString(" (" + strings.Join(ids, ", ") + ")")
	}
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// hint says what the user can do about a failed request. action is the
// classification of the last attempt.
func (d *Destination) hint(status int, err error, action Action) string {
	c := &d.cfg
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Sprintf("the service refused the token even after a refresh: check the credential (tenant, client id, secret or certificate) and that cloud.audience %s is the Azure Monitor audience of the workspace's cloud", c.Cloud.Audience)
	case status == http.StatusForbidden:
		return fmt.Sprintf("grant the identity the Monitoring Metrics Publisher role on the data collection rule %s (not only on the workspace); a new role assignment can take up to 30 minutes to apply", c.DCRImmutableID)
	case status == http.StatusNotFound:
		return fmt.Sprintf("check dcr_immutable_id %s, stream %s and endpoint %s: the DCR must exist with that immutable id, declare that input stream, and be reachable at that endpoint (its data collection endpoint, or its own logsIngestion endpoint for a Direct DCR)", c.DCRImmutableID, c.Stream, redactURL(c.Endpoint))
	case status == http.StatusBadRequest:
		return "the service refused this row: compare it with the DCR's stream declaration (otbridge azure dcr prints the one the profile expects)"
	case status == http.StatusRequestEntityTooLarge:
		return fmt.Sprintf("the service refused this row as too large: lower batch.max_field_bytes (now %d) so long fields are truncated", c.Batch.MaxFieldBytes)
	case status == http.StatusTooManyRequests:
		return "the DCR is throttled (12,000 requests or 2 GB a minute); the rows are kept and sent again later"
	case status >= 300 && status < 400:
		return "the endpoint redirects: use the ingestion URL of the data collection endpoint or the DCR's logsIngestion endpoint"
	case status >= 500 && status != http.StatusNotImplemented:
		return "the service kept failing; the rows are kept and sent again later"
	case status != 0:
		return "the service refused the request: check the endpoint"
	case err != nil && isCertError(err):
		return "the endpoint's certificate is not trusted: if a proxy inspects TLS, add its CA to ca_bundle_file"
	case err != nil && action == ActionFail:
		return "the request cannot be made: check the endpoint"
	case err != nil:
		return "cannot reach the endpoint: check the network, HTTPS_PROXY and NO_PROXY; the rows are kept and sent again later"
	}
	return ""
}
