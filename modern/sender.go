package modern

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/otbridge/otbridge/bridge"
)

// maxErrorBody is the most of an error answer the sender reads.
const maxErrorBody = 64 << 10

// TokenInvalidator is a credential with a token cache that can drop a
// token the service refused (*Credential is one). After a 401 the
// destination invalidates the refused token and asks GetToken again, so
// the one more attempt carries a token fresh from Entra ID. Without it,
// GetToken may return the same cached token, the attempt fails the same
// way, and the failure is permanent.
type TokenInvalidator interface {
	Invalidate(token string)
}

// Destination posts alerts, as rows of its profile, to one stream of one
// data collection rule through the Logs Ingestion API.
//
// Delivery is at least once. The API has no idempotency key: when the
// service stores a batch but its 204 is lost (a dropped connection, a
// timeout), the retry stores the rows again, and pending rows handed back
// after such an attempt may already be stored too. Rows carry the alert
// key, so duplicates can be found in the workspace.
//
// Who retries what: a Destination retries one request itself, as its
// Classifier and Backoff say (see Action), and splits a batch the service
// refuses whole (400, 413) until the refused rows are alone. What it then
// hands back is final for this call: delivered rows, rejected rows that
// can never be sent as they are (the caller dead-letters them), and
// pending rows with an error, which the caller keeps and sends again
// later. Send and Deliver are safe for concurrent use.
type Destination struct {
	// Classify, Backoff and UserAgent are set by NewDestination and may be
	// replaced before the first Send.
	Classify  Classifier
	Backoff   Backoff
	UserAgent string

	cfg    Config
	url    string
	scope  string
	cred   azcore.TokenCredential
	hc     *http.Client
	mapper RowMapper
	log    *slog.Logger
	now    func() time.Time

	// Failures are logged when they differ from the last one.
	mu          sync.Mutex
	lastFailure string
	failures    int
}

// NewDestination returns the destination of cfg, which it completes with
// WithDefaults and validates. cred gives the tokens, for the scope
// "<audience>/.default". hc is the HTTP client of the destination (CA
// bundle, proxy); the destination uses a copy that follows no redirect and
// has cfg.Timeout when hc has no timeout. log nil discards logs.
func NewDestination(cfg Config, cred azcore.TokenCredential, hc *http.Client, mapper RowMapper, log *slog.Logger) (*Destination, error) {
	cfg = cfg.WithDefaults()
	if ps := cfg.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Field + ": " + p.Msg
		}
		return nil, fmt.Errorf("new destination %q: %s", cfg.Name, strings.Join(msgs, "; "))
	}
	switch {
	case cred == nil:
		return nil, fmt.Errorf("new destination %q: no credential", cfg.Name)
	case hc == nil:
		return nil, fmt.Errorf("new destination %q: no http client", cfg.Name)
	case mapper == nil:
		return nil, fmt.Errorf("new destination %q: no row mapper", cfg.Name)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	client := *hc
	if client.Timeout == 0 {
		client.Timeout = cfg.Timeout
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	d := &Destination{
		Classify:  DefaultClassifier,
		UserAgent: defaultUserAgent(),
		cfg:       cfg,
		url: strings.TrimRight(cfg.Endpoint, "/") + "/dataCollectionRules/" + url.PathEscape(cfg.DCRImmutableID) +
			"/streams/" + url.PathEscape(cfg.Stream) + "?api-version=" + APIVersion,
		scope:  Scope(cfg),
		cred:   cred,
		hc:     &client,
		mapper: mapper,
		log:    log.With("destination", cfg.Name),
		now:    time.Now,
	}
	d.Backoff = NewBackoff(cfg.Retry, d.now, nil)
	return d, nil
}

func defaultUserAgent() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "otbridge/" + v
}

// Report is what one Send or Deliver did with its rows. Row ids are the
// alerts' indexes for Send, and the batcher's ids for Deliver.
type Report struct {
	// Delivered is the number of rows the service accepted.
	Delivered int
	// Rejected are rows that can never be sent as they are: the caller
	// dead-letters them with the reason.
	Rejected []Rejection
	// Pending are the ids of rows neither delivered nor rejected, in
	// order; only when an error is returned. The caller keeps them.
	Pending []int
	// Truncated is the number of field values the mapper cut to the
	// field limit.
	Truncated int
	// Requests is the number of HTTP requests made, Retries those of them
	// that repeated the body of an earlier one.
	Requests int
	Retries  int
}

// Rejection is one row that cannot be delivered.
type Rejection struct {
	// ID is the row's id; Key the alert's Key (Send only).
	ID  int
	Key string
	// Reason is one of the Reason constants; Err a *RowError, an
	// *APIError with the service's answer to the row alone, or the
	// mapper's error.
	Reason string
	Err    error
}

// Send maps the alerts to rows for the modern path, packs them into
// batches and posts them in order. It returns an error, with the
// undelivered alerts in Report.Pending, when a batch fails for good: its
// attempts ran out (the *APIError is not Permanent) or the service refuses
// every batch alike (403, 404, 401 after a refresh: Permanent, and the
// hint says what to fix), or ctx ends (ctx.Err()). Rejected alerts are
// never part of an error.
func (d *Destination) Send(ctx context.Context, alerts []*bridge.Alert) (Report, error) {
	var rep Report
	bt, err := NewBatcher(d.cfg.Batch, d.now)
	if err != nil {
		return rep, err
	}

	err = d.send(ctx, bt, alerts, &rep)
	for i := range rep.Rejected {
		rep.Rejected[i].Key = alerts[rep.Rejected[i].ID].Key()
	}
	d.logRejected(rep.Rejected)
	slices.Sort(rep.Pending)
	return rep, err
}

func (d *Destination) send(ctx context.Context, bt *Batcher, alerts []*bridge.Alert, rep *Report) error {
	// keep marks what is not decided once a batch fails for good: the
	// open batch and the alerts after the ith.
	keep := func(i int) {
		rep.Pending = append(rep.Pending, bt.ids...)
		for k := i + 1; k < len(alerts); k++ {
			rep.Pending = append(rep.Pending, k)
		}
	}
	n := 0
	deliverAll := func(ready []*Batch) error {
		for j, b := range ready {
			n++
			if err := d.deliver(ctx, b, rep); err != nil {
				for _, rest := range ready[j+1:] {
					rep.Pending = append(rep.Pending, rest.IDs...)
				}
				return fmt.Errorf("batch %d: %w", n, err)
			}
		}
		return nil
	}

	var row []byte
	for i, a := range alerts {
		var trunc int
		var err error
		row, trunc, err = d.mapper.AppendRow(row[:0], a, bridge.PathModern)
		rep.Truncated += trunc
		if err != nil {
			rep.Rejected = append(rep.Rejected, Rejection{ID: i, Reason: ReasonMapping, Err: fmt.Errorf("map row: %w", err)})
			continue
		}

		ready, err := bt.Add(i, row)
		var re *RowError
		switch {
		case errors.As(err, &re):
			rep.Rejected = append(rep.Rejected, Rejection{ID: i, Reason: re.Reason, Err: err})
		case err != nil:
			rep.Pending = append(rep.Pending, i)
		}
		if derr := deliverAll(ready); derr != nil {
			keep(i)
			return derr
		}
		if err != nil && re == nil {
			keep(i)
			return err
		}
	}
	return deliverAll(bt.Flush())
}

// Deliver posts one batch made by a Batcher with this destination's batch
// settings, splitting it as the service requires. Errors are those of
// Send.
func (d *Destination) Deliver(ctx context.Context, b *Batch) (Report, error) {
	var rep Report
	err := d.deliver(ctx, b, &rep)
	d.logRejected(rep.Rejected)
	slices.Sort(rep.Pending)
	return rep, err
}

// deliver posts a batch and, when the service refuses it whole, its
// halves, recursively.
func (d *Destination) deliver(ctx context.Context, b *Batch, rep *Report) error {
	action, err := d.post(ctx, b, rep)
	switch action {
	case ActionDone:
		rep.Delivered += b.Len()
		return nil
	case ActionSplit, ActionBisect:
		if b.Len() == 1 {
			reason := ReasonRejected
			if action == ActionSplit {
				reason = ReasonRowTooLarge
			}
			rep.Rejected = append(rep.Rejected, Rejection{ID: b.IDs[0], Reason: reason, Err: err})
			return nil
		}
		left, right, serr := b.split()
		if serr != nil {
			rep.Pending = append(rep.Pending, b.IDs...)
			return serr
		}
		d.log.Debug("split batch", "status", statusOf(err), "rows", b.Len(), "left_rows", left.Len(), "right_rows", right.Len())
		if err := d.deliver(ctx, left, rep); err != nil {
			rep.Pending = append(rep.Pending, right.IDs...)
			return err
		}
		return d.deliver(ctx, right, rep)
	}
	rep.Pending = append(rep.Pending, b.IDs...)
	return err
}

func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// postState is what one post learns over its attempts.
type postState struct {
	rows     int
	attempts int
	// clientID is the x-ms-client-request-id of the current attempt,
	// token its bearer token.
	clientID, token string
	// refreshed: a 401 was answered with a fresh token; refreshNow: the
	// next attempt needs one.
	refreshed, refreshNow bool
	action                Action
	last                  *APIError
	tokenErr              error
}

// post sends one batch through go-retryablehttp and returns the action of
// the last answer, with an *APIError unless the batch was delivered.
func (d *Destination) post(ctx context.Context, b *Batch, rep *Report) (Action, error) {
	st := &postState{rows: b.Len(), action: ActionRetry}
	defer func() {
		rep.Requests += st.attempts
		rep.Retries += max(st.attempts-1, 0)
	}()

	tok, err := d.token(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ActionRetry, ctx.Err()
		}
		ae := d.tokenError(err, 0)
		d.noteFailure(ae, slog.LevelWarn, "get token failed, rows kept", st.rows)
		return ActionRetry, ae
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, d.url, b.Body)
	if err != nil {
		return ActionFail, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if b.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("User-Agent", d.UserAgent)
	st.clientID, st.token = uuid.NewString(), tok
	req.Header.Set("x-ms-client-request-id", st.clientID)
	req.Header.Set("Authorization", "Bearer "+tok)

	c := &retryablehttp.Client{
		HTTPClient: d.hc,
		Logger:     retryLog{d.log.With("component", "retryablehttp")},
		RetryMax:   d.cfg.Retry.MaxAttempts - 1,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return d.check(ctx, st, resp, err)
		},
		Backoff: func(_, _ time.Duration, n int, resp *http.Response) time.Duration {
			return d.wait(st, n, resp)
		},
		PrepareRetry: func(r *http.Request) error { return d.prepare(st, r) },
		// Keep the last answer, whose body check has read, for the
		// error below.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, err := c.Do(req)
	if resp != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}

	switch {
	case st.action == ActionDone && err == nil:
		d.noteSuccess()
		return ActionDone, nil
	case ctx.Err() != nil:
		return ActionRetry, ctx.Err()
	case st.tokenErr != nil:
		ae := d.tokenError(st.tokenErr, st.attempts)
		d.noteFailure(ae, slog.LevelWarn, "get token failed, rows kept", st.rows)
		return ActionRetry, ae
	case st.last == nil:
		// No attempt was classified: the request could not be made.
		return ActionFail, &APIError{URL: redactURL(d.url), Attempts: st.attempts, Permanent: true, Err: err}
	}

	ae := st.last
	ae.Attempts = st.attempts
	ae.Permanent = st.action != ActionRetry
	ae.Hint = d.hint(ae.Status, ae.Err, st.action)
	if st.action == ActionFail || st.action == ActionRefresh {
		d.noteFailure(ae, slog.LevelError, "cannot deliver batch, rows kept", st.rows)
	}
	return st.action, ae
}

// check is the CheckRetry of a post: it classifies the answer, keeps what
// it says about a failure, and says whether to try again.
func (d *Destination) check(ctx context.Context, st *postState, resp *http.Response, err error) (bool, error) {
	st.attempts++
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	st.action = d.Classify(resp, err)
	if st.action != ActionDone {
		st.last = d.describe(st, resp, err)
	}
	if d.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []any{"attempt", st.attempts, "rows", st.rows, "action", st.action.String(), "client_request_id", st.clientID}
		if resp != nil {
			attrs = append(attrs, "status", resp.StatusCode, "request_id", resp.Header.Get("x-ms-request-id"))
		} else {
			attrs = append(attrs, "error", redactError(err))
		}
		d.log.Debug("post batch", attrs...)
	}

	switch st.action {
	case ActionRetry:
		msg := "post batch failed, retrying"
		if st.attempts >= d.cfg.Retry.MaxAttempts {
			msg = "post batch failed, no attempts left, rows kept"
		}
		d.noteFailure(st.last, slog.LevelWarn, msg, st.rows)
		return true, nil
	case ActionRefresh:
		if !st.refreshed {
			st.refreshed, st.refreshNow = true, true
			d.log.Debug("token refused, refreshing", "client_request_id", st.clientID)
			return true, nil
		}
	}
	return false, nil
}

// wait is the Backoff of a post.
func (d *Destination) wait(st *postState, n int, resp *http.Response) time.Duration {
	if st.refreshNow {
		return 0
	}
	w := d.Backoff(n, resp)
	if asked, ok := retryAfter(resp, d.now()); ok && asked > w {
		d.log.Warn("retry-after over the cap, waiting less", "status", resp.StatusCode, "retry_after", asked, "wait", w)
	}
	return w
}

// prepare is the PrepareRetry of a post: a new client request id and a
// current token for every attempt.
func (d *Destination) prepare(st *postState, r *http.Request) error {
	if inv, ok := d.cred.(TokenInvalidator); ok && st.refreshNow {
		inv.Invalidate(st.token)
	}
	st.refreshNow = false
	tok, err := d.token(r.Context())
	if err != nil {
		st.tokenErr = err
		return err
	}
	r.Header = r.Header.Clone() // the previous attempt's request shares the map
	st.clientID, st.token = uuid.NewString(), tok
	r.Header.Set("x-ms-client-request-id", st.clientID)
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// token gets a token for the destination's scope.
func (d *Destination) token(ctx context.Context) (string, error) {
	tok, err := d.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{d.scope}})
	if err != nil {
		return "", err
	}
	if tok.Token == "" {
		return "", errors.New("credential returned an empty token")
	}
	return tok.Token, nil
}

// tokenError reports a failure to get a token. It is permanent when the
// credential says so (a *CredentialError that is not Temporary).
func (d *Destination) tokenError(err error, attempts int) *APIError {
	ae := &APIError{
		URL:      redactURL(d.url),
		Attempts: attempts,
		Err:      &tokenError{scope: d.scope, err: err},
		Hint:     "cannot get a token from Entra ID: check the credential settings and that the token endpoint is reachable; the rows are kept",
	}
	var temp interface{ Temporary() bool }
	if errors.As(err, &temp) {
		ae.Permanent = !temp.Temporary()
	}
	return ae
}

// tokenError is a failure to get a token.
type tokenError struct {
	scope string
	err   error
}

func (e *tokenError) Error() string { return "get token for " + e.scope + ": " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// describe turns a failed attempt into an APIError. It reads the answer's
// body and leaves a copy in its place.
func (d *Destination) describe(st *postState, resp *http.Response, err error) *APIError {
	e := &APIError{URL: redactURL(d.url), ClientRequestID: st.clientID, Attempts: st.attempts}
	if resp == nil {
		e.Err = redactError(err)
		return e
	}
	e.Status = resp.StatusCode
	e.RequestID = resp.Header.Get("x-ms-request-id")
	e.Code = resp.Header.Get("x-ms-error-code")
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))

	var shape struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &shape) == nil && (shape.Error.Code != "" || shape.Error.Message != "") {
		if e.Code == "" {
			e.Code = shape.Error.Code
		}
		e.Message = shape.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(body))
	}
	if len(e.Message) > 1024 {
		e.Message = strings.ToValidUTF8(e.Message[:1024], "") + "..."
	}
	return e
}

// redactError drops the query of the URL in a transport error.
func redactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	return err
}

// noteFailure logs a failure at level when it differs from the last one,
// at Debug otherwise.
func (d *Destination) noteFailure(e *APIError, level slog.Level, msg string, rows int) {
	key := fmt.Sprintf("%d %s", e.Status, e.Code)
	if e.Status == 0 {
		key = "transport"
		var ne interface{ Timeout() bool }
		switch {
		case errors.As(e.Err, new(*tokenError)):
			key = "token"
		case errors.As(e.Err, &ne) && ne.Timeout():
			key = "timeout"
		}
	}
	d.mu.Lock()
	d.failures++
	same := key == d.lastFailure
	d.lastFailure = key
	d.mu.Unlock()

	if same {
		level = slog.LevelDebug
	}
	attrs := []any{"rows", rows, "attempt", e.Attempts, "status", e.Status}
	if e.Code != "" {
		attrs = append(attrs, "error_code", e.Code)
	}
	if e.Message != "" {
		attrs = append(attrs, "error", e.Message)
	} else if e.Err != nil {
		attrs = append(attrs, "error", e.Err)
	}
	if e.RequestID != "" {
		attrs = append(attrs, "request_id", e.RequestID)
	}
	attrs = append(attrs, "client_request_id", e.ClientRequestID)
	if level == slog.LevelError && e.Hint != "" {
		attrs = append(attrs, "hint", e.Hint)
	}
	d.log.Log(context.Background(), level, msg, attrs...)
}

// noteSuccess logs once that delivery works again after failures.
func (d *Destination) noteSuccess() {
	d.mu.Lock()
	n := d.failures
	d.failures, d.lastFailure = 0, ""
	d.mu.Unlock()
	if n > 0 {
		d.log.Info("delivery recovered", "failed_attempts", n)
	}
}

// logRejected logs the rejected rows, one line per reason with a count.
func (d *Destination) logRejected(rs []Rejection) {
	if len(rs) == 0 {
		return
	}
	var reasons []string
	count := map[string]int{}
	first := map[string]error{}
	for _, r := range rs {
		if count[r.Reason] == 0 {
			reasons = append(reasons, r.Reason)
			first[r.Reason] = r.Err
		}
		count[r.Reason]++
	}
	for _, reason := range reasons {
		d.log.Error("rows rejected, to dead-letter", "count", count[reason], "reason", reason, "error", first[reason])
	}
}

// retryLog passes go-retryablehttp's own messages to slog at Debug,
// whatever level it gives them: the destination logs what matters itself.
// URL queries in the values are redacted, as in the destination's errors.
type retryLog struct{ l *slog.Logger }

func (r retryLog) Error(msg string, kv ...any) { r.debug(msg, kv) }
func (r retryLog) Warn(msg string, kv ...any)  { r.debug(msg, kv) }
func (r retryLog) Info(msg string, kv ...any)  { r.debug(msg, kv) }
func (r retryLog) Debug(msg string, kv ...any) { r.debug(msg, kv) }

var urlQuery = regexp.MustCompile(`\?[^\s"]*`)

func (r retryLog) debug(msg string, kv []any) {
	if !r.l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	for i, v := range kv {
		switch v := v.(type) {
		case string:
			kv[i] = urlQuery.ReplaceAllString(v, "?redacted")
		case error:
			kv[i] = urlQuery.ReplaceAllString(v.Error(), "?redacted")
		}
	}
	r.l.Debug(msg, kv...)
}
