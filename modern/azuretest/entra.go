// Package azuretest holds fakes of the Azure services otbridge talks to,
// for tests: each is served over TLS on 127.0.0.1 and behaves enough like
// the real service for the real Azure SDK clients to work against it.
package azuretest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EntraConfig configures a fake Entra ID. Zero fields take the default in
// their comment.
type EntraConfig struct {
	// TenantID is the one tenant the fake knows. Default
	// 5d1e7a90-0000-4000-8000-000000000001.
	TenantID string
	// Audience is the one resource the fake issues tokens for: a token
	// request's scope must be Audience + "/.default". Default
	// https://monitor.azure.com.
	Audience string
	// TokenLifetime is how long issued tokens last. Default 1h.
	TokenLifetime time.Duration
	// Now is the fake's clock, for the expiry of the tokens it issues and
	// checks. Default time.Now. The Azure SDK computes expiry from
	// expires_in with its own clock.
	Now func() time.Time
}

// Entra is a fake Microsoft Entra ID token service (the v2.0 endpoints of
// one tenant) for the client credentials grant. It serves:
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration, which MSAL
//     fetches first to learn the token endpoint and the issuer (and
//     checks that the issuer's host is the authority's);
//   - POST /{tenant}/oauth2/v2.0/token, with client_secret or with a
//     client_assertion JWT (PS256 or RS256) signed by a registered
//     certificate.
//
// Instance discovery is not served: MSAL asks login.microsoftonline.com
// for it, so credentials must set DisableInstanceDiscovery. Errors have
// the real service's shape and AADSTS codes. Tokens are HS256 JWTs that
// only this fake can check (see CheckToken).
type Entra struct {
	cfg     EntraConfig
	srv     *httptest.Server
	ca      *entraCA
	signKey []byte
	t       testing.TB

	mu         sync.Mutex
	apps       map[string]*entraApp // by client id
	requests   []EntraRequest
	tokenReqs  int
	metaReqs   int
	issued     int
	failNext   int
	failStatus int
	caFile     string
}

type entraApp struct {
	secrets map[string]bool // secret value: expired
	certs   []*x509.Certificate
}

// EntraRequest is one request the fake answered. It never holds a secret
// or an assertion.
type EntraRequest struct {
	Method, Path string
	// Tenant is the tenant in the path.
	Tenant string
	// GrantType, ClientID and Scope are the token request's form values.
	GrantType, ClientID, Scope string
	// Auth is "client_secret", "client_assertion" or "".
	Auth string
	// X5C is true when the client assertion carried its certificate chain.
	X5C bool
	// Status is the HTTP status of the answer.
	Status int
	// Code is the AADSTS code of an error answer, such as "AADSTS7000215".
	Code string
}

// NewEntra starts a fake Entra ID over TLS on 127.0.0.1, with a CA of its
// own, and stops it when the test ends.
func NewEntra(t testing.TB, cfg EntraConfig) *Entra {
	t.Helper()
	if cfg.TenantID == "" {
		cfg.TenantID = "5d1e7a90-0000-4000-8000-000000000001"
	}
	if cfg.Audience == "" {
		cfg.Audience = "https://monitor.azure.com"
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	ca, err := newEntraCA()
	if err != nil {
		t.Fatalf("azuretest: new CA: %v", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatalf("azuretest: signing key: %v", err)
	}
	e := &Entra{cfg: cfg, ca: ca, signKey: key, t: t, apps: map[string]*entraApp{}}

	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	e.srv.TLS = e.TLSConfig("127.0.0.1", "::1", "localhost")
	e.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that do not trust the CA
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

// Close stops the server; the test's end does it too.
func (e *Entra) Close() { e.srv.Close() }

// AuthorityHost is the authority host URL to configure, such as
// https://127.0.0.1:41234/.
func (e *Entra) AuthorityHost() string { return e.srv.URL + "/" }

// TenantID is the tenant the fake knows.
func (e *Entra) TenantID() string { return e.cfg.TenantID }

// Audience is the resource the fake issues tokens for.
func (e *Entra) Audience() string { return e.cfg.Audience }

// CAPEM is the PEM of the fake's CA certificate.
func (e *Entra) CAPEM() []byte { return e.ca.pem }

// CAFile writes the CA certificate's PEM to a file in a temporary
// directory of the test, once, and returns its path: give it as the CA
// bundle file so that clients trust the fake the way users trust an
// inspecting proxy.
func (e *Entra) CAFile() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.caFile == "" {
		path := filepath.Join(e.t.TempDir(), "entra-ca.pem")
		if err := os.WriteFile(path, e.ca.pem, 0o600); err != nil {
			e.t.Fatalf("azuretest: write CA file: %v", err)
		}
		e.caFile = path
	}
	return e.caFile
}

// TLSConfig returns a server TLS configuration with a certificate for the
// hosts (names or IP addresses) issued by the fake's CA, so that another
// fake server is trusted through the same CA file.
func (e *Entra) TLSConfig(hosts ...string) *tls.Config {
	cert, err := e.ca.issue(hosts)
	if err != nil {
		e.t.Fatalf("azuretest: issue server certificate: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// AddClientSecret registers an application with a client secret; an
// application may have several secrets and certificates.
func (e *Entra) AddClientSecret(clientID, secret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.app(clientID).secrets[secret] = false
}

// ExpireClientSecret makes a registered secret expired: requests with it
// get AADSTS7000222.
func (e *Entra) ExpireClientSecret(clientID, secret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.app(clientID).secrets[secret] = true
}

// AddClientCertificate registers an application's certificate: client
// assertions signed by its key are accepted.
func (e *Entra) AddClientCertificate(clientID string, cert *x509.Certificate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.app(clientID)
	a.certs = append(a.certs, cert)
}

func (e *Entra) app(clientID string) *entraApp {
	a, ok := e.apps[clientID]
	if !ok {
		a = &entraApp{secrets: map[string]bool{}}
		e.apps[clientID] = a
	}
	return a
}

// FailNext makes the next n token requests fail with the HTTP status
// (such as 500, 503 or 429) and a transient error body, whatever they
// hold.
func (e *Entra) FailNext(n, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failNext, e.failStatus = n, status
}

// TokenRequests is how many token requests the fake received, failed
// ones included.
func (e *Entra) TokenRequests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokenReqs
}

// MetadataRequests is how many OpenID configuration requests the fake
// received.
func (e *Entra) MetadataRequests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.metaReqs
}

// TokensIssued is how many tokens the fake issued.
func (e *Entra) TokensIssued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.issued
}

// Requests returns every request the fake answered, in order.
func (e *Entra) Requests() []EntraRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]EntraRequest(nil), e.requests...)
}

// Validate reports whether token is a token the fake issued for the
// audience and not expired, as a resource server would check it.
func (e *Entra) Validate(token, audience string) bool {
	return e.CheckToken(token, audience) == nil
}

// CheckToken is Validate saying why a token is refused.
func (e *Entra) CheckToken(token, audience string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("malformed token")
	}
	mac := hmac.New(sha256.New, e.signKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return errors.New("token signature is invalid")
	}
	var c entraTokenClaims
	if err := entraDecodeSegment(parts[1], &c); err != nil {
		return fmt.Errorf("malformed token claims: %w", err)
	}
	if !strings.EqualFold(strings.TrimRight(c.Aud, "/"), strings.TrimRight(audience, "/")) {
		return fmt.Errorf("token audience is %q, want %q", c.Aud, audience)
	}
	if exp := time.Unix(c.Exp, 0); !e.cfg.Now().Before(exp) {
		return fmt.Errorf("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	return nil
}

// entraTokenClaims are the claims of the tokens the fake issues.
type entraTokenClaims struct {
	Aud   string `json:"aud"`
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	AppID string `json:"appid"`
	Tid   string `json:"tid"`
	Iat   int64  `json:"iat"`
	Nbf   int64  `json:"nbf"`
	Exp   int64  `json:"exp"`
	Jti   string `json:"jti"`
}

// entraAnswer is an error answer: HTTP status, OAuth error, AADSTS number
// and description.
type entraAnswer struct {
	status int
	err    string
	code   int
	desc   string
}

func (e *Entra) serve(w http.ResponseWriter, r *http.Request) {
	rec := EntraRequest{Method: r.Method, Path: r.URL.Path}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) > 0 {
		rec.Tenant = parts[0]
	}
	rest := strings.Join(parts[min(1, len(parts)):], "/")

	var ans *entraAnswer
	switch {
	case rest == "v2.0/.well-known/openid-configuration" && r.Method == http.MethodGet:
		e.mu.Lock()
		e.metaReqs++
		e.mu.Unlock()
		if ans = e.checkTenant(rec.Tenant); ans == nil {
			e.writeJSON(w, &rec, http.StatusOK, e.openIDConfiguration(rec.Tenant))
		}
	case rest == "oauth2/v2.0/token" && r.Method == http.MethodPost:
		e.mu.Lock()
		e.tokenReqs++
		e.mu.Unlock()
		ans = e.token(w, r, &rec)
	default:
		// Not an Entra ID error: nothing real answers here either.
		e.writeJSON(w, &rec, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "this fake does not serve " + r.Method + " " + r.URL.Path})
	}
	if ans != nil {
		e.writeError(w, &rec, ans)
	}
	e.mu.Lock()
	e.requests = append(e.requests, rec)
	e.mu.Unlock()
}

func (e *Entra) checkTenant(tenant string) *entraAnswer {
	if strings.EqualFold(tenant, e.cfg.TenantID) {
		return nil
	}
	return &entraAnswer{http.StatusBadRequest, "invalid_tenant", 90002,
		fmt.Sprintf("Tenant '%s' not found. Check the tenant ID and that you are signing in to the right cloud.", tenant)}
}

func (e *Entra) issuer(tenant string) string {
	return e.srv.URL + "/" + strings.ToLower(tenant) + "/v2.0"
}

func (e *Entra) tokenEndpoint(tenant string) string {
	return e.srv.URL + "/" + strings.ToLower(tenant) + "/oauth2/v2.0/token"
}

func (e *Entra) openIDConfiguration(tenant string) map[string]any {
	base := e.srv.URL + "/" + strings.ToLower(tenant)
	return map[string]any{
		"issuer":                                e.issuer(tenant),
		"token_endpoint":                        e.tokenEndpoint(tenant),
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   "127.0.0.1",
	}
}

// token answers a token request: nil when it wrote a token.
func (e *Entra) token(w http.ResponseWriter, r *http.Request, rec *EntraRequest) *entraAnswer {
	if err := r.ParseForm(); err != nil {
		return &entraAnswer{http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded."}
	}
	f := r.PostForm
	rec.GrantType, rec.ClientID, rec.Scope = f.Get("grant_type"), f.Get("client_id"), f.Get("scope")
	switch {
	case f.Get("client_secret") != "":
		rec.Auth = "client_secret"
	case f.Get("client_assertion") != "":
		rec.Auth = "client_assertion"
	}

	e.mu.Lock()
	failing := e.failNext > 0
	status := e.failStatus
	if failing {
		e.failNext--
	}
	e.mu.Unlock()
	if failing {
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		return &entraAnswer{status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."}
	}

	if ans := e.checkTenant(rec.Tenant); ans != nil {
		return ans
	}
	if rec.GrantType != "client_credentials" {
		return &entraAnswer{http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", rec.GrantType)}
	}
	if rec.ClientID == "" {
		return &entraAnswer{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."}
	}
	e.mu.Lock()
	app, known := e.apps[rec.ClientID]
	e.mu.Unlock()
	if !known {
		return &entraAnswer{http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. The app may not be installed by the tenant's administrator, or the request went to the wrong tenant.", rec.ClientID, rec.Tenant)}
	}

	if ans := e.authenticate(f.Get("client_secret"), f.Get("client_assertion_type"), f.Get("client_assertion"), app, rec); ans != nil {
		return ans
	}
	if ans := e.checkScope(rec.Scope, rec.Tenant); ans != nil {
		return ans
	}

	tok, lifetime := e.issue(rec.Tenant, rec.ClientID)
	e.writeJSON(w, rec, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(lifetime / time.Second),
		"ext_expires_in": int(lifetime / time.Second),
		"access_token":   tok,
	})
	return nil
}

// authenticate checks the client's secret or assertion.
func (e *Entra) authenticate(secret, assertionType, assertion string, app *entraApp, rec *EntraRequest) *entraAnswer {
	if secret != "" {
		e.mu.Lock()
		expired, ok := app.secrets[secret]
		e.mu.Unlock()
		switch {
		case !ok:
			return &entraAnswer{http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Check that the request carries the secret's value, not its ID, for a secret of app '%s'.", rec.ClientID)}
		case expired:
			return &entraAnswer{http.StatusUnauthorized, "invalid_client", 7000222,
				fmt.Sprintf("The client secret keys of app '%s' have expired. Create new keys for the app.", rec.ClientID)}
		}
		return nil
	}
	if assertion == "" {
		return &entraAnswer{http.StatusUnauthorized, "invalid_client", 7000216,
			"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."}
	}
	if assertionType != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return &entraAnswer{http.StatusBadRequest, "invalid_request", 50027, fmt.Sprintf("The client_assertion_type '%s' is not supported.", assertionType)}
	}
	e.mu.Lock()
	certs := append([]*x509.Certificate(nil), app.certs...)
	e.mu.Unlock()
	return e.checkAssertion(assertion, certs, rec)
}

// checkAssertion verifies a client assertion JWT against the app's
// certificates: signature, audience (loosely), issuer and subject, time.
func (e *Entra) checkAssertion(assertion string, certs []*x509.Certificate, rec *EntraRequest) *entraAnswer {
	malformed := &entraAnswer{http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return malformed
	}
	var hdr struct {
		Alg     string   `json:"alg"`
		X5t     string   `json:"x5t"`
		X5tS256 string   `json:"x5t#S256"`
		X5c     []string `json:"x5c"`
	}
	var claims struct {
		Aud string      `json:"aud"`
		Iss string      `json:"iss"`
		Sub string      `json:"sub"`
		Exp json.Number `json:"exp"`
		Nbf json.Number `json:"nbf"`
	}
	if entraDecodeSegment(parts[0], &hdr) != nil || entraDecodeSegment(parts[1], &claims) != nil {
		return malformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return malformed
	}
	rec.X5C = len(hdr.X5c) > 0

	// The certificate is found by its thumbprint, as the service does.
	var cert *x509.Certificate
	thumb := hdr.X5tS256
	for _, c := range certs {
		s256 := sha256.Sum256(c.Raw)
		s1 := sha1.Sum(c.Raw)
		if (hdr.X5tS256 != "" && entraThumbEqual(hdr.X5tS256, s256[:])) || (hdr.X5t != "" && entraThumbEqual(hdr.X5t, s1[:])) {
			cert = c
			break
		}
	}
	if thumb == "" {
		thumb = hdr.X5t
	}
	notRegistered := &entraAnswer{http.StatusUnauthorized, "invalid_client", 700027,
		fmt.Sprintf("Client assertion failed signature validation. [Reason - The key used to sign it was not found on the application., Thumbprint of key used by client: '%s']", thumb)}
	if cert == nil {
		return notRegistered
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return notRegistered
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch hdr.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		err = fmt.Errorf("unsupported alg %q", hdr.Alg)
	}
	if err != nil {
		return &entraAnswer{http.StatusUnauthorized, "invalid_client", 700027,
			fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The signature does not verify with the key., Thumbprint of key used by client: '%s']", thumb)}
	}

	if claims.Iss != rec.ClientID || claims.Sub != rec.ClientID {
		return &entraAnswer{http.StatusUnauthorized, "invalid_client", 700021,
			fmt.Sprintf("Client assertion application identifier doesn't match 'client_id' parameter. Review the iss and sub claims ('%s', '%s').", claims.Iss, claims.Sub)}
	}
	if !strings.Contains(strings.ToLower(claims.Aud), "/oauth2/") || !strings.Contains(strings.ToLower(claims.Aud), strings.ToLower(rec.Tenant)) {
		return &entraAnswer{http.StatusUnauthorized, "invalid_client", 700212,
			fmt.Sprintf("The audience '%s' of the client assertion is not this token endpoint.", claims.Aud)}
	}
	now := e.cfg.Now()
	exp, errExp := claims.Exp.Int64()
	nbf, errNbf := claims.Nbf.Int64()
	const skew = 5 * time.Minute
	if errExp != nil || errNbf != nil || now.Add(-skew).After(time.Unix(exp, 0)) || now.Add(skew).Before(time.Unix(nbf, 0)) {
		return &entraAnswer{http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range."}
	}
	return nil
}

// checkScope accepts one scope of the configured audience with /.default,
// beside the OpenID scopes MSAL adds.
func (e *Entra) checkScope(scope, tenant string) *entraAnswer {
	var resources []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		resources = append(resources, s)
	}
	if len(resources) == 0 {
		return &entraAnswer{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."}
	}
	if len(resources) > 1 || !strings.HasSuffix(resources[0], "/.default") {
		return &entraAnswer{http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have one scope value with /.default suffixed to the resource identifier (application ID URI).", scope)}
	}
	resource := strings.TrimRight(strings.TrimSuffix(resources[0], "/.default"), "/")
	if !strings.EqualFold(resource, strings.TrimRight(e.cfg.Audience, "/")) {
		return &entraAnswer{http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. The application may not be installed by the tenant's administrator, or the resource is wrong.", resource, tenant)}
	}
	return nil
}

// issue makes a token for the audience.
func (e *Entra) issue(tenant, clientID string) (string, time.Duration) {
	now := e.cfg.Now()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := entraTokenClaims{
		Aud: e.cfg.Audience, Iss: e.issuer(tenant), Sub: clientID, AppID: clientID,
		Tid: strings.ToLower(tenant), Iat: now.Unix(), Nbf: now.Unix(),
		Exp: now.Add(e.cfg.TokenLifetime).Unix(), Jti: base64.RawURLEncoding.EncodeToString(jti),
	}
	hdr, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	body, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(body)
	mac := hmac.New(sha256.New, e.signKey)
	mac.Write([]byte(signed))

	e.mu.Lock()
	e.issued++
	e.mu.Unlock()
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), e.cfg.TokenLifetime
}

func (e *Entra) writeJSON(w http.ResponseWriter, rec *EntraRequest, status int, v any) {
	rec.Status = status
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the service's error shape: the description ends with
// trace and correlation ids and a timestamp, on lines of their own.
func (e *Entra) writeError(w http.ResponseWriter, rec *EntraRequest, a *entraAnswer) {
	trace, corr := entraGUID(), entraGUID()
	ts := e.cfg.Now().UTC().Format("2006-01-02 15:04:05Z")
	rec.Code = "AADSTS" + strconv.Itoa(a.code)
	e.writeJSON(w, rec, a.status, map[string]any{
		"error":             a.err,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", a.code, a.desc, trace, corr, ts),
		"error_codes":       []int{a.code},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("%s/error?code=%d", e.srv.URL, a.code),
	})
}

func entraGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func entraDecodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return d.Decode(v)
}

// entraThumbEqual compares a JWT thumbprint header, base64 in either
// alphabet, with a digest.
func entraThumbEqual(header string, digest []byte) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(header); err == nil {
			return hmac.Equal(b, digest)
		}
	}
	return false
}

// EntraClientCert is an application's client certificate and its key.
type EntraClientCert struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// NewEntraClientCert makes a self-signed client certificate with an RSA
// key, as one made for an app registration.
func NewEntraClientCert(t testing.TB, commonName string) *EntraClientCert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("azuretest: client key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: entraSerial(),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("azuretest: client certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("azuretest: client certificate: %v", err)
	}
	return &EntraClientCert{Cert: cert, Key: key}
}

// PEM is the certificate and its PKCS#8 private key, in one PEM file.
func (c *EntraClientCert) PEM() []byte {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		panic(err) // an RSA key always marshals
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}

// entraCA is a test certificate authority.
type entraCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newEntraCA() (*entraCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          entraSerial(),
		Subject:               pkix.Name{CommonName: "otbridge azuretest CA", Organization: []string{"otbridge tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &entraCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// issue makes a server certificate for the hosts.
func (ca *entraCA) issue(hosts []string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: entraSerial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func entraSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
