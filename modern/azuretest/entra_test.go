package azuretest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/otbridge/otbridge/modern/azuretest"
)

const (
	testClientID = "11111111-2222-4333-8444-555555555555"
	testSecret   = "Xy7~fake.secret-value_0123456789abcdefghij"
)

// trustingClient is an HTTP client that trusts only the fake's CA, read
// from its CA file as a user's CA bundle would be.
func trustingClient(t *testing.T, e *azuretest.Entra) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(e.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

func clientOptions(t *testing.T, e *azuretest.Entra) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.AuthorityHost(), Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Transport: trustingClient(t, e),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

func scope(e *azuretest.Entra) []string { return []string{e.Audience() + "/.default"} }

func TestEntra_ClientSecretCredential(t *testing.T) {
	e := azuretest.NewEntra(t, azuretest.EntraConfig{})
	e.AddClientSecret(testClientID, testSecret)

	cred, err := azidentity.NewClientSecretCredential(e.TenantID(), testClientID, testSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            clientOptions(t, e),
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: scope(e)})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if !e.Validate(tok.Token, e.Audience()) {
		t.Errorf("Validate(token, %q) = false, want true: %v", e.Audience(), e.CheckToken(tok.Token, e.Audience()))
	}
	if e.Validate(tok.Token, "https://monitor.azure.us") {
		t.Error("Validate accepted the token for another audience")
	}
	if e.Validate(tok.Token+"x", e.Audience()) {
		t.Error("Validate accepted a tampered token")
	}
	if d := time.Until(tok.ExpiresOn); d < 55*time.Minute || d > 61*time.Minute {
		t.Errorf("token expires in %v, want about 1h", d)
	}

	// What MSAL asks for, in order: the OpenID configuration, then a token.
	reqs := e.Requests()
	want := []string{
		"GET /" + e.TenantID() + "/v2.0/.well-known/openid-configuration",
		"POST /" + e.TenantID() + "/oauth2/v2.0/token",
	}
	if len(reqs) != len(want) {
		t.Fatalf("requests = %+v, want %v", reqs, want)
	}
	for i, r := range reqs {
		if got := r.Method + " " + r.Path; got != want[i] {
			t.Errorf("request %d = %s, want %s", i, got, want[i])
		}
	}
	if r := reqs[1]; r.Auth != "client_secret" || r.ClientID != testClientID || r.GrantType != "client_credentials" || r.Status != 200 {
		t.Errorf("token request = %+v", r)
	}

	// The SDK caches the token: a second call asks nothing.
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: scope(e)}); err != nil {
		t.Fatal(err)
	}
	if n := e.TokenRequests(); n != 1 {
		t.Errorf("TokenRequests = %d after a cached call, want 1", n)
	}
}

func TestEntra_ClientCertificateCredential(t *testing.T) {
	e := azuretest.NewEntra(t, azuretest.EntraConfig{})
	cc := azuretest.NewEntraClientCert(t, "otbridge-test")
	e.AddClientCertificate(testClientID, cc.Cert)

	for _, chain := range []bool{false, true} {
		cred, err := azidentity.NewClientCertificateCredential(e.TenantID(), testClientID, []*x509.Certificate{cc.Cert}, cc.Key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions:            clientOptions(t, e),
			DisableInstanceDiscovery: true,
			SendCertificateChain:     chain,
		})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: scope(e)})
		if err != nil {
			t.Fatalf("chain %t: GetToken: %v", chain, err)
		}
		if !e.Validate(tok.Token, e.Audience()) {
			t.Errorf("chain %t: token does not validate", chain)
		}
		reqs := e.Requests()
		last := reqs[len(reqs)-1]
		if last.Auth != "client_assertion" || last.X5C != chain {
			t.Errorf("chain %t: token request = %+v", chain, last)
		}
	}

	// A certificate the app registration does not have is refused.
	other := azuretest.NewEntraClientCert(t, "not-uploaded")
	cred, err := azidentity.NewClientCertificateCredential(e.TenantID(), testClientID, []*x509.Certificate{other.Cert}, other.Key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions:            clientOptions(t, e),
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: scope(e)})
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != 401 || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Errorf("unregistered certificate: err = %v, want a 401 AADSTS700027", err)
	}
}

// errorBody is the service's error shape.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
	TraceID     string `json:"trace_id"`
}

func post(t *testing.T, hc *http.Client, u string, form url.Values) (int, errorBody) {
	t.Helper()
	resp, err := hc.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var eb errorBody
	_ = json.Unmarshal(body, &eb)
	return resp.StatusCode, eb
}

func TestEntra_ErrorAnswers(t *testing.T) {
	e := azuretest.NewEntra(t, azuretest.EntraConfig{})
	e.AddClientSecret(testClientID, testSecret)
	e.AddClientSecret(testClientID, "old-secret")
	e.ExpireClientSecret(testClientID, "old-secret")
	hc := trustingClient(t, e)
	tokenURL := strings.TrimSuffix(e.AuthorityHost(), "/") + "/" + e.TenantID() + "/oauth2/v2.0/token"
	good := func() url.Values {
		return url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {testClientID},
			"client_secret": {testSecret},
			"scope":         {e.Audience() + "/.default openid offline_access profile"},
		}
	}

	tests := []struct {
		name       string
		url        string
		edit       func(url.Values)
		wantStatus int
		wantError  string
		wantCode   int
	}{
		{"ok", tokenURL, func(url.Values) {}, 200, "", 0},
		{"double slash scope", tokenURL, func(f url.Values) { f.Set("scope", e.Audience()+"//.default") }, 200, "", 0},
		{"wrong secret", tokenURL, func(f url.Values) { f.Set("client_secret", "nope") }, 401, "invalid_client", 7000215},
		{"expired secret", tokenURL, func(f url.Values) { f.Set("client_secret", "old-secret") }, 401, "invalid_client", 7000222},
		{"no secret", tokenURL, func(f url.Values) { f.Del("client_secret") }, 401, "invalid_client", 7000216},
		{"unknown client", tokenURL, func(f url.Values) { f.Set("client_id", "99999999-2222-4333-8444-555555555555") }, 400, "unauthorized_client", 700016},
		{"unknown tenant", strings.Replace(tokenURL, e.TenantID(), "contoso.example", 1), func(url.Values) {}, 400, "invalid_tenant", 90002},
		{"wrong audience", tokenURL, func(f url.Values) { f.Set("scope", "https://monitor.azure.us/.default") }, 400, "invalid_resource", 500011},
		{"scope without .default", tokenURL, func(f url.Values) { f.Set("scope", e.Audience()+"/user_impersonation") }, 400, "invalid_scope", 1002012},
		{"no scope", tokenURL, func(f url.Values) { f.Del("scope") }, 400, "invalid_request", 900144},
		{"wrong grant", tokenURL, func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type", 70003},
		{"bad assertion", tokenURL, func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			f.Set("client_assertion", "not.a.jwt")
		}, 400, "invalid_request", 50027},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := good()
			tt.edit(form)
			status, eb := post(t, hc, tt.url, form)
			if status != tt.wantStatus || eb.Error != tt.wantError {
				t.Fatalf("answer = %d %q, want %d %q (%s)", status, eb.Error, tt.wantStatus, tt.wantError, eb.Description)
			}
			if tt.wantCode == 0 {
				return
			}
			if len(eb.Codes) != 1 || eb.Codes[0] != tt.wantCode {
				t.Errorf("error_codes = %v, want [%d]", eb.Codes, tt.wantCode)
			}
			if !strings.HasPrefix(eb.Description, "AADSTS") || !strings.Contains(eb.Description, "Trace ID: "+eb.TraceID) {
				t.Errorf("error_description = %q, want AADSTS... and the trace id", eb.Description)
			}
			if strings.Contains(eb.Description, testSecret) {
				t.Error("the error answer holds the secret")
			}
		})
	}

	// The OpenID configuration of an unknown tenant is refused the same way.
	resp, err := hc.Get(strings.TrimSuffix(e.AuthorityHost(), "/") + "/contoso.example/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("openid-configuration of an unknown tenant: %d, want 400", resp.StatusCode)
	}
}

func TestEntra_FailNext(t *testing.T) {
	e := azuretest.NewEntra(t, azuretest.EntraConfig{})
	e.AddClientSecret(testClientID, testSecret)
	hc := trustingClient(t, e)
	tokenURL := strings.TrimSuffix(e.AuthorityHost(), "/") + "/" + e.TenantID() + "/oauth2/v2.0/token"
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {e.Audience() + "/.default"},
	}

	e.FailNext(2, 503)
	for i, want := range []int{503, 503, 200} {
		if status, eb := post(t, hc, tokenURL, form); status != want {
			t.Errorf("request %d: status %d (%s), want %d", i, status, eb.Error, want)
		}
	}
	if got := e.TokenRequests(); got != 3 {
		t.Errorf("TokenRequests = %d, want 3", got)
	}
	if got := e.TokensIssued(); got != 1 {
		t.Errorf("TokensIssued = %d, want 1", got)
	}
}

func TestEntra_TokenExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := azuretest.NewEntra(t, azuretest.EntraConfig{TokenLifetime: 10 * time.Minute, Now: clock})
	e.AddClientSecret(testClientID, testSecret)
	hc := trustingClient(t, e)
	resp, err := hc.PostForm(strings.TrimSuffix(e.AuthorityHost(), "/")+"/"+e.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "scope": {e.Audience() + "/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 600 {
		t.Errorf("answer = %+v, want a Bearer token for 600 s", tr)
	}
	if err := e.CheckToken(tr.AccessToken, e.Audience()); err != nil {
		t.Fatalf("fresh token: %v", err)
	}

	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	if err := e.CheckToken(tr.AccessToken, e.Audience()); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("CheckToken after the lifetime = %v, want expired", err)
	}
}

func TestEntra_TLSConfig(t *testing.T) {
	e := azuretest.NewEntra(t, azuretest.EntraConfig{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.TLS = e.TLSConfig("127.0.0.1")
	srv.StartTLS()
	defer srv.Close()

	// The same CA file makes another fake trusted.
	resp, err := trustingClient(t, e).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d", resp.StatusCode)
	}

	// A client with only the system roots does not trust the fake.
	sys := &http.Client{Transport: &http.Transport{}}
	if _, err := sys.Get(e.AuthorityHost()); err == nil {
		t.Error("a client without the CA trusted the fake")
	}
}
