package modern

import (
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Token cache timing.
const (
	// refreshMargin is how long before its expiry a token is replaced. It
	// matches the margin of the SDK's own cache (MSAL), so a refresh that
	// reaches it gets a new token rather than the cached one.
	refreshMargin = 5 * time.Minute
	// refreshRetry is how long a credential that failed to refresh keeps
	// serving its still valid token before it tries again.
	refreshRetry = 30 * time.Second
	// expirySlack is how long before its expiry a token is no longer
	// handed out: a request needs time to reach the service.
	expirySlack = 30 * time.Second
)

// Scope returns the OAuth scope of a token for the destination's Azure
// Monitor audience: the audience and "/.default".
func Scope(cfg Config) string {
	return strings.TrimRight(cfg.WithDefaults().Cloud.Audience, "/") + "/.default"
}

// CredentialErrorKind says why a credential could not get a token.
type CredentialErrorKind string

const (
	// CredentialRejected: Entra ID (or the managed identity endpoint)
	// answered and refused: an id, the secret, the certificate, the
	// federated token or the audience is wrong. Retrying does not help
	// until the configuration or the app registration is fixed; a secret
	// or certificate file is read again on the next attempt.
	CredentialRejected CredentialErrorKind = "rejected"
	// CredentialUnreachable: the authority could not be reached or failed
	// on its side (network, TLS, timeout, HTTP 429 or 5xx). Retrying may
	// help.
	CredentialUnreachable CredentialErrorKind = "unreachable"
	// CredentialUnavailable: the credential type cannot work here (no
	// managed identity endpoint, no Azure CLI login, no workload identity
	// environment).
	CredentialUnavailable CredentialErrorKind = "unavailable"
	// CredentialMisconfigured: a file or variable the configuration names
	// cannot be used; the wrapped error is a *FieldError.
	CredentialMisconfigured CredentialErrorKind = "misconfigured"
)

// CredentialError is the error of every failed GetToken of a *Credential.
// Its text never holds a secret, password, assertion or token; it wraps
// the SDK's error for errors.As (such as
// *azidentity.AuthenticationFailedError), which should not be printed.
type CredentialError struct {
	// Type is the credential type, such as client-secret.
	Type string
	// Kind says why the token could not be had.
	Kind CredentialErrorKind
	// Status is the HTTP status of the authority's answer; 0 without one.
	Status int
	// Code is the Entra ID error code, such as AADSTS7000215; empty when
	// the answer had none.
	Code string
	// Msg is what went wrong, on one line.
	Msg string
	// Hint names what to check or do.
	Hint string

	err error
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("%s credential: %s: %s", e.Type, e.Msg, e.Hint)
}

func (e *CredentialError) Unwrap() error { return e.err }

// Temporary reports whether the failure is on the network or the
// service's side, so that retrying soon may help.
func (e *CredentialError) Temporary() bool { return e.Kind == CredentialUnreachable }

// key identifies a failure for "is this the same as the last one":
// trace ids, timestamps and ports are left out.
func (e *CredentialError) key() string {
	msg := guidPattern.ReplaceAllString(e.Msg, "#")
	msg = digitsPattern.ReplaceAllString(msg, "#")
	return fmt.Sprintf("%s|%d|%s|%s", e.Kind, e.Status, e.Code, msg)
}

// Credential is the token credential of one destination: an azidentity
// credential behind a token cache and failure reporting. It is safe for
// concurrent use.
//
// Caching: a token is handed out until 5 minutes before it expires (half
// its lifetime for shorter tokens, or earlier if the authority asked for
// an earlier refresh), then replaced. If the replacement fails, the
// current token is still handed out until 30 seconds before it expires,
// and the refresh is tried again every 30 seconds. Most azidentity types
// cache in MSAL too, with the same 5 minute margin; this cache also
// covers the Azure CLI, which does not cache, and lets one GetToken per
// request cost nothing.
//
// Failures: each failed GetToken returns a *CredentialError with a hint.
// A failure is logged at Warn when it differs from the previous one, and
// an Info line says when a token is obtained again after failures. After
// a rejection the underlying credential is built again, so a corrected
// secret or certificate file is used without a restart.
type Credential struct {
	typ   string
	cfg   Config
	build func() (built, error)
	log   *slog.Logger
	now   func() time.Time
	slot  chan struct{} // held while a token is fetched

	mu         sync.Mutex
	cur        *built // nil: build before the next fetch
	secrets    map[string]bool
	tokens     map[string]cacheEntry
	failures   int
	lastFailed string // key of the last logged failure
}

// built is one construction of the underlying credential.
type built struct {
	cred azcore.TokenCredential
	// secrets are the secret values read, scrubbed from every message.
	secrets []string
	// thumbprint is the client certificate's SHA-1 thumbprint, as the
	// portal shows it; empty for other types.
	thumbprint string
	// secretLooksLikeID is true when the client secret is a GUID, which
	// is the secret's ID rather than its value.
	secretLooksLikeID bool
	// warnings are problems worth logging once, at start.
	warnings []string
}

type cacheEntry struct {
	tok       azcore.AccessToken
	refreshAt time.Time
	retryAt   time.Time // after a failed refresh, no new try before this
}

// NewCredential returns the destination's token credential, a
// *Credential, for cfg.Credential.Type:
//
//   - default: the Azure SDK's chain (environment, workload identity,
//     managed identity, Azure CLI, Azure Developer CLI);
//   - client-secret: the secret is read from ClientSecretFile (a trailing
//     newline dropped) or from the variable named by ClientSecretEnv;
//   - client-certificate: a PEM or PKCS#12 file, with an optional password
//     from a file or a variable;
//   - managed-identity: the system identity, or a user-assigned one by
//     client id or resource id;
//   - workload-identity: TokenFile or AZURE_FEDERATED_TOKEN_FILE, and the
//     tenant and client ids or AZURE_TENANT_ID and AZURE_CLIENT_ID;
//   - azure-cli: the account logged in with az login.
//
// Requests go through hc (see NewHTTPClient; nil builds one from cfg),
// except the Azure CLI's, which is a program of its own. Files are read
// now, so a missing or empty one fails here with a *FieldError naming the
// setting and the path, and again each time the credential is rebuilt
// after a rejection. log receives failures and recoveries (nil: none).
func NewCredential(cfg Config, hc *http.Client, log *slog.Logger) (azcore.TokenCredential, error) {
	cfg = cfg.WithDefaults()
	if hc == nil {
		var err error
		if hc, err = NewHTTPClient(cfg); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &credentialBuilder{cfg: cfg, hc: hc}
	c := newCredential(cfg, b.build, log, time.Now)

	// Build once now: configuration problems belong to start-up.
	first, err := c.build()
	if err != nil {
		return nil, err
	}
	for _, w := range first.warnings {
		c.log.Warn(w)
	}
	c.use(&first)
	return c, nil
}

// newCredential returns a Credential that builds its underlying credential
// with build.
func newCredential(cfg Config, build func() (built, error), log *slog.Logger, now func() time.Time) *Credential {
	return &Credential{
		typ:     cfg.Credential.Type,
		cfg:     cfg,
		build:   build,
		log:     log.With("credential_type", cfg.Credential.Type),
		now:     now,
		slot:    make(chan struct{}, 1),
		secrets: map[string]bool{},
		tokens:  map[string]cacheEntry{},
	}
}

// use makes b the underlying credential.
func (c *Credential) use(b *built) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = b
	for _, s := range b.secrets {
		if s != "" {
			c.secrets[s] = true
		}
	}
}

// GetToken returns a token for the scopes of opts, from the cache when it
// has one that is not due for refresh. A request with Claims (a claims
// challenge) always goes to the authority and is not cached. Every error
// is a *CredentialError, except the context's own when ctx ends.
func (c *Credential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if opts.Claims != "" {
		if err := c.acquire(ctx); err != nil {
			return azcore.AccessToken{}, err
		}
		defer c.release()
		return c.fetch(ctx, opts)
	}

	key := cacheKey(opts)
	if tok, ok := c.cached(key, c.now()); ok {
		return tok, nil
	}

	// One fetch at a time; whoever waited finds the token it fetched.
	if err := c.acquire(ctx); err != nil {
		return azcore.AccessToken{}, err
	}
	defer c.release()
	now := c.now()
	if tok, ok := c.cached(key, now); ok {
		return tok, nil
	}

	tok, err := c.fetch(ctx, opts)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		// Keep serving a token that is still good while the authority
		// cannot give a new one.
		if e, ok := c.tokens[key]; ok && now.Before(e.tok.ExpiresOn.Add(-expirySlack)) {
			var ce *CredentialError
			if errors.As(err, &ce) {
				e.retryAt = now.Add(refreshRetry)
				c.tokens[key] = e
				return e.tok, nil
			}
		}
		return azcore.AccessToken{}, err
	}
	c.tokens[key] = cacheEntry{tok: tok, refreshAt: refreshTime(tok, now)}
	return tok, nil
}

// Invalidate drops token from the cache, so that the next GetToken gets a
// new one from the authority rather than from any cache. Call it when the
// service refused the token (HTTP 401); callers that saw the same token
// refused cause one refresh between them.
func (c *Credential) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.tokens {
		if e.tok.Token == token {
			delete(c.tokens, k)
			// A new underlying credential has an empty MSAL cache.
			c.cur = nil
		}
	}
}

func (c *Credential) acquire(ctx context.Context) error {
	select {
	case c.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("get token: %w", ctx.Err())
	}
}

func (c *Credential) release() { <-c.slot }

// cached returns the cached token for key if it is not due for refresh,
// or if a refresh failed lately and it is still good.
func (c *Credential) cached(key string, now time.Time) (azcore.AccessToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tokens[key]
	switch {
	case !ok:
		return azcore.AccessToken{}, false
	case now.Before(e.refreshAt):
		return e.tok, true
	case now.Before(e.retryAt) && now.Before(e.tok.ExpiresOn.Add(-expirySlack)):
		return e.tok, true
	}
	return azcore.AccessToken{}, false
}

// fetch gets a token from the underlying credential, building it first if
// needed, and reports the outcome.
func (c *Credential) fetch(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	if cur == nil {
		b, err := c.build()
		if err != nil {
			return azcore.AccessToken{}, c.failed(err)
		}
		cur = &b
		c.use(cur)
	}

	tok, err := cur.cred.GetToken(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return azcore.AccessToken{}, fmt.Errorf("get token: %w", ctx.Err())
		}
		ce := c.failed(err)
		if ce.Kind == CredentialRejected {
			// Read the files again next time: someone may be fixing them.
			c.mu.Lock()
			if c.cur == cur {
				c.cur = nil
			}
			c.mu.Unlock()
		}
		return azcore.AccessToken{}, ce
	}

	c.mu.Lock()
	n := c.failures
	c.failures, c.lastFailed = 0, ""
	c.mu.Unlock()
	if n > 0 {
		c.log.Info("token obtained after failures", "failures", n)
	}
	c.log.Debug("token obtained", "expires_on", tok.ExpiresOn)
	return tok, nil
}

// failed turns err into a *CredentialError, counts it and logs it if it
// differs from the last failure.
func (c *Credential) failed(err error) *CredentialError {
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	ce := classify(c.typ, err)
	ce.Msg = c.scrub(ce.Msg)
	// The hint is made of settings and fixed text, never of a secret.
	ce.Hint = hint(c.cfg, ce, cur)

	c.mu.Lock()
	c.failures++
	n := c.failures
	key := ce.key()
	changed := key != c.lastFailed
	c.lastFailed = key
	c.mu.Unlock()
	if changed {
		attrs := []any{"kind", string(ce.Kind)}
		if ce.Status != 0 {
			attrs = append(attrs, "status", ce.Status)
		}
		if ce.Code != "" {
			attrs = append(attrs, "code", ce.Code)
		}
		attrs = append(attrs, "error", ce.Msg, "hint", ce.Hint, "failures", n)
		c.log.Warn("cannot get token", attrs...)
	}
	return ce
}

// cacheKey identifies the tokens of one kind of request.
func cacheKey(opts policy.TokenRequestOptions) string {
	return fmt.Sprintf("%s|%s|%t", strings.Join(opts.Scopes, " "), opts.TenantID, opts.EnableCAE)
}

// refreshTime is when a token obtained at now is replaced.
func refreshTime(tok azcore.AccessToken, now time.Time) time.Time {
	at := tok.ExpiresOn.Add(-min(refreshMargin, tok.ExpiresOn.Sub(now)/2))
	if !tok.RefreshOn.IsZero() && tok.RefreshOn.After(now) && tok.RefreshOn.Before(at) {
		at = tok.RefreshOn
	}
	return at
}

// Scrubbing patterns: what looks like a token, or a credential in a form
// (name=value) or in JSON ("name": "value"), whatever its value.
var (
	jwtPattern       = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	bearerPattern    = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
	credFieldPattern = regexp.MustCompile(`(?i)\b(client_secret|client_assertion|assertion|access_token|refresh_token|id_token|password)(=|\\?"\s*:\s*\\?"?)[^"\\&\s,;}]+`)
	guidPattern      = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	digitsPattern    = regexp.MustCompile(`[0-9]+`)
	aadstsPattern    = regexp.MustCompile(`AADSTS[0-9]+`)
)

const redacted = "[REDACTED]"

// scrub removes from s every secret the credential read, every token it
// obtained, and whatever looks like a token or credential.
func (c *Credential) scrub(s string) string {
	c.mu.Lock()
	var known []string
	for v := range c.secrets {
		known = append(known, v, url.QueryEscape(v))
	}
	for _, e := range c.tokens {
		known = append(known, e.tok.Token)
	}
	c.mu.Unlock()
	for _, v := range known {
		if v != "" {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	s = jwtPattern.ReplaceAllString(s, redacted)
	s = bearerPattern.ReplaceAllString(s, "Bearer "+redacted)
	return credFieldPattern.ReplaceAllString(s, "${1}${2}"+redacted)
}

// entraError is the JSON error body of Entra ID and of managed identity
// endpoints.
type entraError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

// classify turns a credential's error into a *CredentialError without a
// hint; Msg is not yet scrubbed.
func classify(typ string, err error) *CredentialError {
	ce := &CredentialError{Type: typ, err: err}

	var fe *FieldError
	if errors.As(err, &fe) {
		ce.Kind, ce.Msg = CredentialMisconfigured, fe.Error()
		return ce
	}

	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		resp := afe.RawResponse
		ce.Status = resp.StatusCode
		var eb entraError
		if body, err := runtime.Payload(resp); err == nil {
			_ = json.Unmarshal(body, &eb)
		}
		if len(eb.Codes) > 0 {
			ce.Code = fmt.Sprintf("AADSTS%d", eb.Codes[0])
		}
		msg := firstLine(eb.Description)
		switch {
		case msg == "" && eb.Error == "":
			msg = http.StatusText(resp.StatusCode)
		case msg == "":
			msg = eb.Error
		case eb.Error != "":
			msg = eb.Error + ": " + msg
		}
		where := ""
		if resp.Request != nil {
			where = " from " + resp.Request.URL.Host
		}
		ce.Msg = fmt.Sprintf("%s (HTTP %d%s)", msg, resp.StatusCode, where)
	} else {
		ce.Msg = oneLine(err.Error())
	}
	if ce.Code == "" {
		ce.Code = aadstsPattern.FindString(ce.Msg)
	}

	switch {
	case ce.Status == http.StatusTooManyRequests || ce.Status >= 500:
		ce.Kind = CredentialUnreachable
	case ce.Status >= 400:
		ce.Kind = CredentialRejected
	case isNetworkError(err):
		ce.Kind = CredentialUnreachable
	case ce.Code != "":
		ce.Kind = CredentialRejected
	default:
		ce.Kind = CredentialUnavailable
	}
	return ce
}

// networkSigns are what network and TLS failures say. azidentity keeps
// only the text of some of them, so the text is what can be checked.
var networkSigns = []string{
	"dial tcp", "no such host", "connection refused", "connection reset",
	"i/o timeout", "timeout awaiting", "Client.Timeout", "deadline exceeded",
	"tls:", "x509:", "certificate", "proxyconnect", "EOF", "network is unreachable",
}

func isNetworkError(err error) bool {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) {
		return true
	}
	s := err.Error()
	for _, sign := range networkSigns {
		if strings.Contains(s, sign) {
			return true
		}
	}
	return false
}

// firstLine returns an Entra ID error description without its trace,
// correlation and timestamp lines.
func firstLine(s string) string {
	if i := strings.Index(s, "Trace ID:"); i >= 0 {
		s = s[:i]
	}
	return oneLine(s)
}

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// hint says what to check for a failure.
func hint(cfg Config, ce *CredentialError, cur *built) string {
	cc := cfg.Credential
	secretField := "credential.client_secret_file"
	if cc.ClientSecretEnv != "" {
		secretField = "the variable named by credential.client_secret_env"
	}
	thumb := ""
	if cur != nil && cur.thumbprint != "" {
		thumb = " (thumbprint " + cur.thumbprint + ")"
	}
	host := authorityHost(cfg)

	var fe *FieldError
	if errors.As(ce, &fe) {
		return "fix " + fe.Field + " and otbridge tries again"
	}
	switch strings.TrimPrefix(ce.Code, "AADSTS") {
	case "7000215":
		if cur != nil && cur.secretLooksLikeID {
			return fmt.Sprintf("the client secret in %s is a GUID, which is the secret's ID: put the secret's Value from the app registration's Certificates & secrets page there", secretField)
		}
		return fmt.Sprintf("the client secret is wrong: put the secret's Value (not its Secret ID) from the app registration's Certificates & secrets page in %s", secretField)
	case "7000222":
		return fmt.Sprintf("the client secret has expired: add a new one on the app registration's Certificates & secrets page and put its Value in %s; otbridge reads it again on the next attempt", secretField)
	case "700016":
		return fmt.Sprintf("no application %q in tenant %q: check credential.client_id (the Application (client) ID, not the object ID) and credential.tenant_id, and that the app registration is in that tenant", cc.ClientID, cc.TenantID)
	case "90002", "900023", "90013":
		return fmt.Sprintf("tenant %q is not known to %s: check credential.tenant_id (the Directory (tenant) ID) and cloud.name (a US Government or China tenant is not found in the public cloud)", cc.TenantID, host)
	case "700027", "700025":
		return fmt.Sprintf("the app registration does not accept the certificate in credential.certificate_file%s: upload that certificate on its Certificates & secrets page, or check that the file holds the certificate you uploaded and its private key", thumb)
	case "700024":
		if cc.Type == CredentialWorkloadIdentity {
			return "the federated token has expired or is not yet valid: check that the token file (credential.token_file or AZURE_FEDERATED_TOKEN_FILE) is the projected service account token kept fresh by Kubernetes, and this machine's clock"
		}
		return "the client assertion is outside its valid time: check this machine's clock"
	case "70021", "700211", "700212", "700213":
		return "no federated identity credential of the app registration matches the token: check its issuer (the cluster's OIDC issuer URL), subject (system:serviceaccount:<namespace>:<name>) and audience (api://AzureADTokenExchange)"
	case "500011", "70011", "500001":
		return fmt.Sprintf("the tenant does not know the audience %q: check cloud.audience and cloud.name (https://monitor.azure.com, .us for US Government, .cn for China)", cfg.Cloud.Audience)
	case "7000112", "7000114", "50097":
		return fmt.Sprintf("the application %q is disabled or blocked in the tenant: enable its enterprise application (service principal) or ask the tenant's administrator", cc.ClientID)
	}

	switch {
	case strings.Contains(ce.Msg, "unknown authority") || strings.Contains(ce.Msg, "not trusted") || strings.Contains(ce.Msg, "certificate signed by unknown"):
		return fmt.Sprintf("the TLS certificate of %s is not trusted: if a proxy inspects TLS, put its CA certificate in ca_bundle_file", host)
	case strings.Contains(ce.Msg, "certificate is valid for"):
		return fmt.Sprintf("the TLS certificate does not match the host: check cloud.authority_host (%s) and that HTTPS_PROXY does not point at a proxy that presents its own certificate", host)
	case ce.Status == http.StatusTooManyRequests || ce.Status >= 500:
		return "Entra ID is throttling or failing on its side: otbridge keeps trying"
	case ce.Status == http.StatusNotFound:
		return fmt.Sprintf("%s has no Entra ID endpoint for tenant %q: check cloud.authority_host and credential.tenant_id", host, cc.TenantID)
	case ce.Kind == CredentialUnreachable:
		return fmt.Sprintf("cannot reach %s: check DNS, the firewall and HTTPS_PROXY/NO_PROXY", host)
	}

	switch cc.Type {
	case CredentialClientSecret:
		return fmt.Sprintf("check credential.tenant_id, credential.client_id and the client secret in %s, and that the secret has not expired", secretField)
	case CredentialClientCertificate:
		return fmt.Sprintf("check credential.tenant_id, credential.client_id and that the certificate in credential.certificate_file%s is uploaded to the app registration", thumb)
	case CredentialManagedIdentity:
		if ce.Kind == CredentialRejected {
			return "the managed identity endpoint refused: check that the identity named by credential.managed_identity_client_id or credential.managed_identity_resource_id is assigned to this machine"
		}
		return "no managed identity endpoint answered: run on an Azure resource (VM, App Service, Container Apps, AKS, Arc-enabled server) that has an identity assigned"
	case CredentialWorkloadIdentity:
		return "check credential.tenant_id and credential.client_id (or AZURE_TENANT_ID and AZURE_CLIENT_ID), the token file, and the app registration's federated identity credential"
	case CredentialAzureCLI:
		return "run az login as the user otbridge runs as (az cloud set first for US Government or China), or use another credential type"
	}
	return "no credential of the default chain got a token: set credential.type to the one you mean (client-secret, managed-identity, ...) to see its own error"
}

// authorityHost returns the Entra ID authority host of the cloud.
func authorityHost(cfg Config) string {
	u, err := url.Parse(cloudConfig(cfg).ActiveDirectoryAuthorityHost)
	if err != nil || u.Host == "" {
		return "the Entra ID authority"
	}
	return u.Host
}

// cloudConfig returns the azcore cloud of the destination.
func cloudConfig(cfg Config) cloud.Configuration {
	switch cfg.Cloud.Name {
	case CloudUSGov:
		return cloud.AzureGovernment
	case CloudChina:
		return cloud.AzureChina
	case CloudCustom:
		return cloud.Configuration{
			ActiveDirectoryAuthorityHost: cfg.Cloud.AuthorityHost,
			Services:                     map[cloud.ServiceName]cloud.ServiceConfiguration{},
		}
	}
	return cloud.AzurePublic
}

// credentialBuilder builds the azidentity credential of a destination,
// reading its files each time.
type credentialBuilder struct {
	cfg Config
	hc  *http.Client
}

func (b *credentialBuilder) build() (built, error) {
	cc := b.cfg.Credential
	co := azcore.ClientOptions{
		Cloud:     cloudConfig(b.cfg),
		Transport: b.hc,
		Telemetry: policy.TelemetryOptions{ApplicationID: "otbridge"},
	}

	var (
		out built
		err error
	)
	switch cc.Type {
	case CredentialDefault:
		out.cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions:            co,
			DisableInstanceDiscovery: cc.DisableInstanceDiscovery,
			TenantID:                 cc.TenantID,
		})

	case CredentialClientSecret:
		secret, rerr := readSecret("credential.client_secret_file", cc.ClientSecretFile, "credential.client_secret_env", cc.ClientSecretEnv, "the client secret")
		if rerr != nil {
			return built{}, rerr
		}
		if secret == "" {
			return built{}, &FieldError{Field: "credential.client_secret_file", Err: errors.New("missing: name the file that holds the client secret, or set credential.client_secret_env")}
		}
		out.secrets = []string{secret}
		out.secretLooksLikeID = guidPattern.MatchString(secret) && len(secret) == 36
		if out.secretLooksLikeID {
			out.warnings = append(out.warnings, "the client secret is a GUID, which is usually the secret's ID rather than its value")
		}
		out.cred, err = azidentity.NewClientSecretCredential(cc.TenantID, cc.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            co,
			DisableInstanceDiscovery: cc.DisableInstanceDiscovery,
		})

	case CredentialClientCertificate:
		certs, key, cb, cerr := loadCertificate(cc)
		if cerr != nil {
			return built{}, cerr
		}
		out = cb
		out.cred, err = azidentity.NewClientCertificateCredential(cc.TenantID, cc.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions:            co,
			DisableInstanceDiscovery: cc.DisableInstanceDiscovery,
			SendCertificateChain:     cc.SendCertificateChain,
		})

	case CredentialManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		switch {
		case cc.ManagedIdentityClientID != "":
			o.ID = azidentity.ClientID(cc.ManagedIdentityClientID)
		case cc.ManagedIdentityResourceID != "":
			o.ID = azidentity.ResourceID(cc.ManagedIdentityResourceID)
		}
		out.cred, err = azidentity.NewManagedIdentityCredential(o)

	case CredentialWorkloadIdentity:
		if ferr := checkWorkloadIdentity(cc); ferr != nil {
			return built{}, ferr
		}
		out.cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions:            co,
			ClientID:                 cc.ClientID,
			DisableInstanceDiscovery: cc.DisableInstanceDiscovery,
			TenantID:                 cc.TenantID,
			TokenFilePath:            cc.TokenFile,
		})

	case CredentialAzureCLI:
		out.cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: cc.TenantID})

	default:
		return built{}, &FieldError{Field: "credential.type", Source: cc.Type, Err: fmt.Errorf("unknown credential type (want %s)", strings.Join(CredentialTypes, ", "))}
	}
	if err != nil {
		return built{}, fmt.Errorf("new %s credential: %w", cc.Type, err)
	}
	return out, nil
}

// readSecret reads a secret from the file or the environment variable
// named, dropping a trailing newline. Both empty gives "".
func readSecret(fileField, file, envField, env, what string) (string, error) {
	switch {
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", &FieldError{Field: fileField, Source: file, Err: readFileError(err)}
		}
		s := strings.TrimRight(string(data), "\r\n")
		if s == "" {
			return "", &FieldError{Field: fileField, Source: file, Err: fmt.Errorf("file is empty: write %s into it", what)}
		}
		return s, nil
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", &FieldError{Field: envField, Source: env, Err: fmt.Errorf("environment variable is not set: set it to %s", what)}
		}
		s := strings.TrimRight(v, "\r\n")
		if s == "" {
			return "", &FieldError{Field: envField, Source: env, Err: fmt.Errorf("environment variable is empty: set it to %s", what)}
		}
		return s, nil
	}
	return "", nil
}

// loadCertificate reads the client certificate and its key.
func loadCertificate(cc CredentialConfig) ([]*x509.Certificate, crypto.PrivateKey, built, error) {
	const field = "credential.certificate_file"
	if cc.CertificateFile == "" {
		return nil, nil, built{}, &FieldError{Field: field, Err: errors.New("missing: name the PEM or PFX file with the certificate and its private key")}
	}
	data, err := os.ReadFile(cc.CertificateFile)
	if err != nil {
		return nil, nil, built{}, &FieldError{Field: field, Source: cc.CertificateFile, Err: readFileError(err)}
	}
	if len(data) == 0 {
		return nil, nil, built{}, &FieldError{Field: field, Source: cc.CertificateFile, Err: errors.New("file is empty: give the PEM or PFX file with the certificate and its private key")}
	}
	password, err := readSecret("credential.certificate_password_file", cc.CertificatePasswordFile,
		"credential.certificate_password_env", cc.CertificatePasswordEnv, "the certificate's password")
	if err != nil {
		return nil, nil, built{}, err
	}

	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(data, pw)
	if err != nil {
		why := err.Error()
		if strings.Contains(why, "asn1") {
			why = "it is neither PEM nor PKCS#12 (PFX)"
		}
		return nil, nil, built{}, &FieldError{Field: field, Source: cc.CertificateFile, Err: fmt.Errorf("cannot load the certificate and key: %s: %s", why, certificateAdvice(data, password, err))}
	}

	leaf := certs[0]
	if pub, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		for _, c := range certs {
			if k, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && k.Equal(pub.Public()) {
				leaf = c
				break
			}
		}
	}
	sum := sha1.Sum(leaf.Raw)
	b := built{thumbprint: strings.ToUpper(hex.EncodeToString(sum[:]))}
	if password != "" {
		b.secrets = []string{password}
	}
	if time.Now().After(leaf.NotAfter) {
		b.warnings = append(b.warnings, fmt.Sprintf("the client certificate %s expired on %s: Entra ID refuses it; upload a new one", b.thumbprint, leaf.NotAfter.Format(time.DateOnly)))
	}
	return certs, key, b, nil
}

// certificateAdvice says what to do when a certificate file cannot be
// parsed.
func certificateAdvice(data []byte, password string, err error) string {
	msg := err.Error()
	isPEM := strings.Contains(string(data), "-----BEGIN")
	switch {
	case isPEM && strings.Contains(string(data), "ENCRYPTED"):
		return "an encrypted PEM key cannot be read: decrypt it (openssl pkey -in key.pem -out plain.pem) or use a PFX file with a password"
	case isPEM && password != "":
		return "a PEM file takes no password: remove credential.certificate_password_file or credential.certificate_password_env"
	case isPEM && strings.Contains(msg, "private key"):
		return "the PEM file needs the private key too: put the CERTIFICATE block and the PRIVATE KEY block in one file"
	case isPEM:
		return "give a PEM file with a CERTIFICATE block and an unencrypted PRIVATE KEY block"
	case strings.Contains(msg, "password"):
		if password == "" {
			return "the PFX file needs its password: set credential.certificate_password_file or credential.certificate_password_env"
		}
		return "the password does not open the PFX file: check credential.certificate_password_file or credential.certificate_password_env"
	case strings.Contains(msg, "algorithm") || strings.Contains(msg, "not supported"):
		return "this PFX file uses algorithms the Azure SDK cannot read (such as AES with a SHA-256 MAC): convert it to PEM (openssl pkcs12 -in cert.pfx -nodes -out cert.pem) or export it again with openssl pkcs12 -export -legacy"
	}
	return "give a PEM file, or a PKCS#12 (PFX) file and its password"
}

// checkWorkloadIdentity checks that workload identity has what azidentity
// needs, from the configuration or the environment.
func checkWorkloadIdentity(cc CredentialConfig) error {
	const field = "credential.token_file"
	file := cc.TokenFile
	if file == "" {
		file = os.Getenv("AZURE_FEDERATED_TOKEN_FILE")
	}
	if file == "" {
		return &FieldError{Field: field, Err: errors.New("missing: set it or AZURE_FEDERATED_TOKEN_FILE to the projected service account token file")}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return &FieldError{Field: field, Source: file, Err: readFileError(err)}
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return &FieldError{Field: field, Source: file, Err: errors.New("file is empty: it should hold the service account token Kubernetes projects")}
	}
	if cc.TenantID == "" && os.Getenv("AZURE_TENANT_ID") == "" {
		return &FieldError{Field: "credential.tenant_id", Err: errors.New("missing: set it or AZURE_TENANT_ID to the directory (tenant) id")}
	}
	if cc.ClientID == "" && os.Getenv("AZURE_CLIENT_ID") == "" {
		return &FieldError{Field: "credential.client_id", Err: errors.New("missing: set it or AZURE_CLIENT_ID to the application (client) id")}
	}
	return nil
}
