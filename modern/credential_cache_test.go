package modern

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeInner is an underlying credential: it issues numbered tokens of a
// lifetime, or fails with err.
type fakeInner struct {
	clock    *fakeClock
	lifetime time.Duration
	delay    time.Duration

	mu    sync.Mutex
	calls int
	err   error
}

func (f *fakeInner) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: fmt.Sprintf("token-%d", f.calls), ExpiresOn: f.clock.Now().Add(f.lifetime)}, nil
}

func (f *fakeInner) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeInner) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// testCredential returns a Credential over inner, with the secret given
// as read, logging into the returned buffer at Debug.
func testCredential(t *testing.T, typ string, inner *fakeInner, secret string) (*Credential, *bytes.Buffer, *int) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{Credential: CredentialConfig{Type: typ, TenantID: "tenant-1", ClientID: "client-1", ClientSecretFile: "/run/secrets/otbridge"}}.WithDefaults()
	builds := 0
	c := newCredential(cfg, func() (built, error) {
		builds++
		return built{cred: inner, secrets: []string{secret}}, nil
	}, log, inner.clock.Now)
	return c, &logs, &builds
}

var scopeOpts = policy.TokenRequestOptions{Scopes: []string{"https://monitor.azure.com/.default"}}

func getToken(t *testing.T, c *Credential) string {
	t.Helper()
	tok, err := c.GetToken(context.Background(), scopeOpts)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	return tok.Token
}

func TestCredential_CachesUntilRefreshTime(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	inner := &fakeInner{clock: clock, lifetime: time.Hour}
	c, _, _ := testCredential(t, CredentialClientSecret, inner, "s3cret")

	if got := getToken(t, c); got != "token-1" {
		t.Fatalf("first token %q", got)
	}
	clock.Add(55*time.Minute - time.Second)
	if got := getToken(t, c); got != "token-1" || inner.Calls() != 1 {
		t.Fatalf("just before the refresh time: token %q after %d calls, want the cached token-1", got, inner.Calls())
	}
	clock.Add(2 * time.Second)
	if got := getToken(t, c); got != "token-2" {
		t.Fatalf("5 minutes before expiry: token %q, want a new one", got)
	}

	// Other scopes are cached apart.
	tok, err := c.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://other/.default"}})
	if err != nil || tok.Token != "token-3" {
		t.Fatalf("other scope: %q, %v", tok.Token, err)
	}
	// A claims challenge always reaches the authority.
	tok, err = c.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: scopeOpts.Scopes, Claims: `{"access_token":{}}`})
	if err != nil || tok.Token != "token-4" {
		t.Fatalf("claims challenge: %q, %v", tok.Token, err)
	}
	if got := getToken(t, c); got != "token-2" {
		t.Fatalf("after the claims challenge: %q, want the cached token-2", got)
	}
}

func TestRefreshTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		lifetime  time.Duration
		refreshOn time.Duration // from now; 0: none
		want      time.Duration // from now
	}{
		{"an hour", time.Hour, 0, 55 * time.Minute},
		{"short lived: half", 4 * time.Minute, 0, 2 * time.Minute},
		{"refresh_in earlier", 24 * time.Hour, 12 * time.Hour, 12 * time.Hour},
		{"refresh_in later than the margin", time.Hour, 59 * time.Minute, 55 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := azcore.AccessToken{ExpiresOn: now.Add(tt.lifetime)}
			if tt.refreshOn != 0 {
				tok.RefreshOn = now.Add(tt.refreshOn)
			}
			if got := refreshTime(tok, now).Sub(now); got != tt.want {
				t.Errorf("refresh after %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCredential_FailedRefreshKeepsToken(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	inner := &fakeInner{clock: clock, lifetime: time.Hour}
	c, logs, _ := testCredential(t, CredentialClientSecret, inner, "s3cret")
	getToken(t, c)

	// Entra ID is unreachable when the token is due for refresh: the
	// current token is still handed out, and the refresh tried again
	// every 30 seconds.
	inner.fail(errors.New(`Post "https://login.microsoftonline.com/t/oauth2/v2.0/token": dial tcp 20.190.1.1:443: i/o timeout`))
	clock.Add(56 * time.Minute)
	if got := getToken(t, c); got != "token-1" {
		t.Fatalf("failed refresh: %q, want token-1", got)
	}
	calls := inner.Calls()
	clock.Add(10 * time.Second)
	if getToken(t, c); inner.Calls() != calls {
		t.Error("the refresh was tried again within 30 seconds")
	}
	clock.Add(25 * time.Second)
	if getToken(t, c); inner.Calls() != calls+1 {
		t.Error("the refresh was not tried again after 30 seconds")
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d Warn lines for one repeated failure, want 1:\n%s", n, logs)
	}

	// Close to expiry the token is no longer handed out.
	clock.Add(4*time.Minute - 35*time.Second + time.Second)
	_, err := c.GetToken(context.Background(), scopeOpts)
	var ce *CredentialError
	if !errors.As(err, &ce) || ce.Kind != CredentialUnreachable || !ce.Temporary() {
		t.Fatalf("near expiry: err = %v, want an unreachable *CredentialError", err)
	}

	inner.fail(nil)
	if got := getToken(t, c); got == "token-1" {
		t.Error("recovered, but still the old token")
	}
	if !strings.Contains(logs.String(), `msg="token obtained after failures"`) || !strings.Contains(logs.String(), "failures=3") {
		t.Errorf("no recovery line with the failure count:\n%s", logs)
	}
}

func TestCredential_OneFetchAtATime(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	inner := &fakeInner{clock: clock, lifetime: time.Hour, delay: 50 * time.Millisecond}
	c, _, _ := testCredential(t, CredentialClientSecret, inner, "s3cret")

	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetToken(context.Background(), scopeOpts); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := inner.Calls(); n != 1 {
		t.Errorf("16 concurrent callers made %d token requests, want 1", n)
	}
}

func TestCredential_WaitHonoursContext(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	inner := &fakeInner{clock: clock, lifetime: time.Hour}
	c, logs, _ := testCredential(t, CredentialClientSecret, inner, "s3cret")

	c.slot <- struct{}{} // a fetch in progress
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.GetToken(ctx, scopeOpts)
	<-c.slot
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	var ce *CredentialError
	if errors.As(err, &ce) || strings.Contains(logs.String(), "WARN") {
		t.Error("the end of the caller's context was reported as a credential failure")
	}
}

func TestCredential_Invalidate(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	inner := &fakeInner{clock: clock, lifetime: time.Hour}
	c, _, builds := testCredential(t, CredentialClientSecret, inner, "s3cret")

	getToken(t, c)
	c.Invalidate("some-other-token")
	if got := getToken(t, c); got != "token-1" {
		t.Fatalf("invalidating another token changed the cache: %q", got)
	}
	c.Invalidate("token-1")
	if got := getToken(t, c); got != "token-2" {
		t.Fatalf("after Invalidate: %q, want a new token", got)
	}
	if *builds != 2 {
		t.Errorf("%d builds, want 2: a refused token must not come back from the SDK's cache", *builds)
	}
}

// entraFailure is an azidentity error carrying an Entra ID answer.
func entraFailure(status int, oauthErr string, code int, desc string) error {
	body := fmt.Sprintf(`{"error":%q,"error_description":"AADSTS%d: %s\r\nTrace ID: 0b7c3a4e-1f2d-4e5f-8a9b-%012d\r\nCorrelation ID: 5e6f7a8b-1c2d-4e3f-9a0b-1c2d3e4f5a6b\r\nTimestamp: 2026-03-01 12:00:00Z","error_codes":[%d]}`,
		oauthErr, code, desc, time.Now().UnixNano()%1e12, code)
	req, _ := http.NewRequest(http.MethodPost, "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", nil)
	return &azidentity.AuthenticationFailedError{RawResponse: &http.Response{
		StatusCode: status,
		Status:     http.StatusText(status),
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}}
}

func TestCredential_ReportsFailureOnce(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	inner := &fakeInner{clock: clock, lifetime: time.Hour}
	c, logs, builds := testCredential(t, CredentialClientSecret, inner, "s3cret")

	// The same failure three times, with new trace ids each time.
	for range 3 {
		inner.fail(entraFailure(401, "invalid_client", 7000215, "Invalid client secret provided."))
		_, err := c.GetToken(context.Background(), scopeOpts)
		var ce *CredentialError
		if !errors.As(err, &ce) || ce.Code != "AADSTS7000215" || ce.Kind != CredentialRejected || ce.Status != 401 {
			t.Fatalf("err = %#v", err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d Warn lines for one failure repeated, want 1:\n%s", n, logs)
	}
	if *builds != 3 {
		t.Errorf("%d builds after 3 rejections, want 3 (files are read again)", *builds)
	}

	// A different failure is logged; then the recovery.
	inner.fail(entraFailure(401, "invalid_client", 7000222, "The client secret keys are expired."))
	_, _ = c.GetToken(context.Background(), scopeOpts)
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
		t.Errorf("%d Warn lines after a different failure, want 2:\n%s", n, logs)
	}
	inner.fail(nil)
	getToken(t, c)
	if !strings.Contains(logs.String(), "level=INFO msg=\"token obtained after failures\" credential_type=client-secret failures=4") {
		t.Errorf("no recovery line:\n%s", logs)
	}
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), "token-") {
		t.Errorf("a secret or a token is in the logs:\n%s", logs)
	}
}

func TestCredential_Scrubs(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	inner := &fakeInner{clock: clock, lifetime: time.Hour}
	const secret = "Ab~cd.ef/gh+ij"
	c, logs, _ := testCredential(t, CredentialClientSecret, inner, secret)
	tok := getToken(t, c) // a token the credential knows

	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	inner.fail(fmt.Errorf("boom: client_secret=%s&client_assertion=%s Authorization: Bearer opaque-token-value %q, secret %s (escaped %s) and %s",
		"Ab~cd.ef%2Fgh%2Bij", jwt, `{"access_token":"abc123"}`, secret, "Ab~cd.ef%2Fgh%2Bij", tok))
	clock.Add(time.Hour)
	_, err := c.GetToken(context.Background(), scopeOpts)
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{secret, "Ab~cd.ef%2Fgh%2Bij", jwt, "eyJ", "opaque-token-value", "abc123", tok} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error holds %q: %v", s, err)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("logs hold %q:\n%s", s, logs)
		}
	}
	if !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), redacted) {
		t.Errorf("error lost its message: %v", err)
	}
}

func TestClassifyAndHint(t *testing.T) {
	pub := Config{Credential: CredentialConfig{Type: CredentialClientSecret, TenantID: "tenant-1", ClientID: "client-1", ClientSecretFile: "/s"}}.WithDefaults()
	with := func(edit func(*Config)) Config {
		c := pub
		edit(&c)
		return c.WithDefaults()
	}
	certCfg := with(func(c *Config) {
		c.Credential = CredentialConfig{Type: CredentialClientCertificate, TenantID: "tenant-1", ClientID: "client-1", CertificateFile: "/c.pem"}
	})
	tests := []struct {
		name     string
		cfg      Config
		cur      *built
		err      error
		wantKind CredentialErrorKind
		wantCode string
		wantHint []string
	}{
		{"wrong secret", pub, nil, entraFailure(401, "invalid_client", 7000215, "Invalid client secret provided."),
			CredentialRejected, "AADSTS7000215", []string{"client secret is wrong", "Value (not its Secret ID)", "credential.client_secret_file"}},
		{"secret id given", pub, &built{secretLooksLikeID: true}, entraFailure(401, "invalid_client", 7000215, "Invalid client secret provided."),
			CredentialRejected, "AADSTS7000215", []string{"is a GUID", "secret's ID"}},
		{"secret in env", with(func(c *Config) { c.Credential.ClientSecretFile, c.Credential.ClientSecretEnv = "", "OTB_SECRET" }), nil,
			entraFailure(401, "invalid_client", 7000215, "Invalid client secret provided."),
			CredentialRejected, "AADSTS7000215", []string{"credential.client_secret_env"}},
		{"expired secret", pub, nil, entraFailure(401, "invalid_client", 7000222, "The provided client secret keys are expired."),
			CredentialRejected, "AADSTS7000222", []string{"has expired", "Certificates & secrets"}},
		{"unknown app", pub, nil, entraFailure(400, "unauthorized_client", 700016, "Application not found."),
			CredentialRejected, "AADSTS700016", []string{`no application "client-1" in tenant "tenant-1"`, "credential.client_id"}},
		{"unknown tenant", pub, nil, entraFailure(400, "invalid_tenant", 90002, "Tenant not found."),
			CredentialRejected, "AADSTS90002", []string{"credential.tenant_id", "cloud.name", "login.microsoftonline.com"}},
		{"certificate not uploaded", certCfg, &built{thumbprint: "ABCDEF0123"}, entraFailure(401, "invalid_client", 700027, "Client assertion failed signature validation."),
			CredentialRejected, "AADSTS700027", []string{"does not accept the certificate", "thumbprint ABCDEF0123", "upload"}},
		{"assertion time", certCfg, nil, entraFailure(401, "invalid_client", 700024, "Client assertion is not within its valid time range."),
			CredentialRejected, "AADSTS700024", []string{"clock"}},
		{"federated token expired", with(func(c *Config) { c.Credential = CredentialConfig{Type: CredentialWorkloadIdentity} }), nil,
			entraFailure(400, "invalid_client", 700024, "Client assertion is not within its valid time range."),
			CredentialRejected, "AADSTS700024", []string{"federated token", "AZURE_FEDERATED_TOKEN_FILE"}},
		{"no federated credential", with(func(c *Config) { c.Credential = CredentialConfig{Type: CredentialWorkloadIdentity} }), nil,
			entraFailure(400, "invalid_request", 70021, "No matching federated identity record found."),
			CredentialRejected, "AADSTS70021", []string{"federated identity credential", "subject"}},
		{"audience", pub, nil, entraFailure(400, "invalid_resource", 500011, "The resource principal was not found."),
			CredentialRejected, "AADSTS500011", []string{"cloud.audience", "https://monitor.azure.com"}},
		{"disabled app", pub, nil, entraFailure(400, "unauthorized_client", 7000112, "Application is disabled."),
			CredentialRejected, "AADSTS7000112", []string{"disabled"}},
		{"throttled", pub, nil, entraFailure(429, "temporarily_unavailable", 90033, "Try again."),
			CredentialUnreachable, "AADSTS90033", []string{"throttling or failing"}},
		{"service error", pub, nil, entraFailure(503, "temporarily_unavailable", 90033, "Try again."),
			CredentialUnreachable, "AADSTS90033", []string{"otbridge keeps trying"}},
		{"untrusted TLS", pub, nil, errors.New(`ClientSecretCredential: Post "https://login.microsoftonline.com/t": tls: failed to verify certificate: x509: certificate signed by unknown authority`),
			CredentialUnreachable, "", []string{"not trusted", "ca_bundle_file"}},
		{"refused", with(func(c *Config) { c.Cloud = CloudConfig{Name: CloudUSGov} }), nil, errors.New(`dial tcp 10.1.1.1:443: connect: connection refused`),
			CredentialUnreachable, "", []string{"cannot reach login.microsoftonline.us", "HTTPS_PROXY"}},
		{"file", pub, nil, &FieldError{Field: "credential.client_secret_file", Source: "/s", Err: errors.New("file is empty")},
			CredentialMisconfigured, "", []string{"fix credential.client_secret_file"}},
		{"no managed identity", with(func(c *Config) { c.Credential = CredentialConfig{Type: CredentialManagedIdentity} }), nil,
			errors.New("ManagedIdentityCredential: no response from the IMDS endpoint"),
			CredentialUnavailable, "", []string{"no managed identity endpoint answered"}},
		{"identity not assigned", with(func(c *Config) {
			c.Credential = CredentialConfig{Type: CredentialManagedIdentity, ManagedIdentityClientID: "x"}
		}), nil,
			&azidentity.AuthenticationFailedError{RawResponse: &http.Response{StatusCode: 400, Body: io.NopCloser(strings.NewReader(`{"error":"invalid_request","error_description":"Identity not found"}`))}},
			CredentialRejected, "", []string{"is assigned to this machine"}},
		{"azure cli", with(func(c *Config) { c.Credential = CredentialConfig{Type: CredentialAzureCLI} }), nil,
			errors.New("AzureCLICredential: Azure CLI not found on path"),
			CredentialUnavailable, "", []string{"az login"}},
		{"default chain", with(func(c *Config) { c.Credential = CredentialConfig{Type: CredentialDefault} }), nil,
			errors.New("DefaultAzureCredential: failed to acquire a token.\nAttempted credentials:\n\tEnvironmentCredential: missing environment variable AZURE_TENANT_ID"),
			CredentialUnavailable, "", []string{"set credential.type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := classify(tt.cfg.Credential.Type, tt.err)
			ce.Hint = hint(tt.cfg, ce, tt.cur)
			if ce.Kind != tt.wantKind || ce.Code != tt.wantCode {
				t.Errorf("kind %q code %q, want %q %q (msg %q)", ce.Kind, ce.Code, tt.wantKind, tt.wantCode, ce.Msg)
			}
			for _, w := range tt.wantHint {
				if !strings.Contains(ce.Hint, w) {
					t.Errorf("hint %q lacks %q", ce.Hint, w)
				}
			}
			if strings.Contains(ce.Msg, "\n") || strings.Contains(ce.Msg, "Trace ID") {
				t.Errorf("message is not one line without trace ids: %q", ce.Msg)
			}
			if !errors.Is(ce, tt.err) {
				t.Error("the SDK's error is not wrapped")
			}
		})
	}
}
