package modern_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/otbridge/otbridge/modern"
	"github.com/otbridge/otbridge/modern/azuretest"
)

const (
	clientID = "0d3c8f52-7a41-4c1e-9b7e-2f6a1c9d4e10"
	secret   = "Q8x~kT2.fakeSecretValue_for-tests-0123456789"
)

// entraSetup is a fake Entra ID and a destination config that reaches it
// as a custom cloud, trusting it through the CA bundle file.
type entraSetup struct {
	entra *azuretest.Entra
	cfg   modern.Config
	dir   string
	logs  *bytes.Buffer
	log   *slog.Logger
}

func newEntraSetup(t *testing.T, ec azuretest.EntraConfig) *entraSetup {
	t.Helper()
	e := azuretest.NewEntra(t, ec)
	e.AddClientSecret(clientID, secret)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := modern.Config{
		Name:           "sentinel",
		Endpoint:       "https://dce.example.test",
		DCRImmutableID: "dcr-00000000000000000000000000000000",
		Stream:         "Custom-OTBridge",
		CABundleFile:   e.CAFile(),
		Timeout:        10 * time.Second,
		Cloud:          modern.CloudConfig{Name: modern.CloudCustom, AuthorityHost: e.AuthorityHost(), Audience: e.Audience()},
		Credential: modern.CredentialConfig{
			Type:             modern.CredentialClientSecret,
			TenantID:         e.TenantID(),
			ClientID:         clientID,
			ClientSecretFile: secretFile,
		},
	}.WithDefaults()
	if ps := cfg.Validate(); len(ps) > 0 {
		t.Fatalf("test config is invalid: %v", ps)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &entraSetup{entra: e, cfg: cfg, dir: dir, logs: &logs, log: log}
}

// credential builds the credential over an HTTP client from
// NewHTTPClient that refuses to dial anything but loopback.
func (s *entraSetup) credential(t *testing.T) (azcore.TokenCredential, error) {
	t.Helper()
	hc, err := modern.NewHTTPClient(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	loopbackOnly(t, hc)
	return modern.NewCredential(s.cfg, hc, s.log)
}

func (s *entraSetup) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(s.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loopbackOnly makes the client fail the test on a dial outside loopback.
func loopbackOnly(t *testing.T, hc *http.Client) {
	tr := hc.Transport.(*http.Transport)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("dial to %s refused: tests stay on loopback", addr)
			return nil, errors.New("non-loopback dial in a test")
		}
		return dial(ctx, network, addr)
	}
}

func token(ctx context.Context, cred azcore.TokenCredential, cfg modern.Config) (azcore.AccessToken, error) {
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{modern.Scope(cfg)}})
}

// noLeak fails if any of the texts holds a secret.
func noLeak(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, text := range texts {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%q leaked into %q", s, text)
			}
		}
	}
}

func TestNewCredential_ClientSecret(t *testing.T) {
	s := newEntraSetup(t, azuretest.EntraConfig{})
	cred, err := s.credential(t)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cred.(*modern.Credential); !ok {
		t.Errorf("NewCredential returned a %T, want *modern.Credential", cred)
	}

	tok, err := token(context.Background(), cred, s.cfg)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if !s.entra.Validate(tok.Token, s.cfg.Cloud.Audience) {
		t.Errorf("the token does not validate: %v", s.entra.CheckToken(tok.Token, s.cfg.Cloud.Audience))
	}

	// The second call is served from the cache.
	again, err := token(context.Background(), cred, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again.Token != tok.Token || s.entra.TokenRequests() != 1 {
		t.Errorf("second GetToken made %d token requests in all, want 1 and the same token", s.entra.TokenRequests())
	}
	noLeak(t, []string{secret, tok.Token}, s.logs.String())
}

func TestNewCredential_RefreshesBeforeExpiry(t *testing.T) {
	t.Parallel()
	// A 3 s token is replaced after half its life: 1.5 s.
	s := newEntraSetup(t, azuretest.EntraConfig{TokenLifetime: 3 * time.Second})
	cred, err := s.credential(t)
	if err != nil {
		t.Fatal(err)
	}
	first, err := token(context.Background(), cred, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token(context.Background(), cred, s.cfg); err != nil || s.entra.TokenRequests() != 1 {
		t.Fatalf("an immediate second call made %d token requests (%v), want 1", s.entra.TokenRequests(), err)
	}
	time.Sleep(time.Until(first.ExpiresOn.Add(-time.Second)))
	second, err := token(context.Background(), cred, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.entra.TokenRequests() != 2 || second.Token == first.Token {
		t.Errorf("a second before expiry: %d token requests, want 2 and a new token", s.entra.TokenRequests())
	}
	if !second.ExpiresOn.After(first.ExpiresOn) {
		t.Errorf("the new token expires at %v, not after the old one (%v)", second.ExpiresOn, first.ExpiresOn)
	}
}

func TestNewCredential_TransientFailureRetried(t *testing.T) {
	t.Parallel()
	s := newEntraSetup(t, azuretest.EntraConfig{})
	cred, err := s.credential(t)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK retries a 500 on its own.
	s.entra.FailNext(1, http.StatusInternalServerError)
	if _, err := token(context.Background(), cred, s.cfg); err != nil {
		t.Fatalf("GetToken after one 500: %v", err)
	}
	if n := s.entra.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestNewCredential_WrongSecretReportedOnce(t *testing.T) {
	s := newEntraSetup(t, azuretest.EntraConfig{})
	const wrong = "Wr0ng~secret.value_0123456789abcdefghijkl"
	if err := os.WriteFile(s.cfg.Credential.ClientSecretFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := s.credential(t)
	if err != nil {
		t.Fatal(err)
	}

	var texts []string
	for i := range 3 {
		_, err := token(context.Background(), cred, s.cfg)
		var ce *modern.CredentialError
		if !errors.As(err, &ce) {
			t.Fatalf("attempt %d: err = %v, want a *CredentialError", i, err)
		}
		if ce.Kind != modern.CredentialRejected || ce.Status != 401 || ce.Code != "AADSTS7000215" || ce.Temporary() {
			t.Errorf("attempt %d: %+v", i, ce)
		}
		if !strings.Contains(ce.Hint, "client secret is wrong") || !strings.Contains(ce.Hint, "credential.client_secret_file") {
			t.Errorf("hint %q does not say what to fix", ce.Hint)
		}
		texts = append(texts, err.Error())
	}
	if n := strings.Count(s.logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d Warn lines for three identical failures, want 1:\n%s", n, s.logs)
	}

	// The secret is fixed in its file: the next attempt reads it.
	if err := os.WriteFile(s.cfg.Credential.ClientSecretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := token(context.Background(), cred, s.cfg)
	if err != nil {
		t.Fatalf("after fixing the secret file: %v", err)
	}
	if !strings.Contains(s.logs.String(), `level=INFO msg="token obtained after failures" credential_type=client-secret failures=3`) {
		t.Errorf("no recovery line:\n%s", s.logs)
	}
	noLeak(t, []string{wrong, secret, tok.Token}, append(texts, s.logs.String())...)
}

func TestNewCredential_Rejections(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*testing.T, *entraSetup)
		wantCode string
		wantHint string
	}{
		{"expired secret", func(t *testing.T, s *entraSetup) { s.entra.ExpireClientSecret(clientID, secret) },
			"AADSTS7000222", "has expired"},
		{"unknown client", func(t *testing.T, s *entraSetup) { s.cfg.Credential.ClientID = "99999999-7a41-4c1e-9b7e-2f6a1c9d4e10" },
			"AADSTS700016", "check credential.client_id"},
		{"unknown tenant", func(t *testing.T, s *entraSetup) { s.cfg.Credential.TenantID = "contoso.example" },
			"AADSTS90002", "check credential.tenant_id"},
		{"wrong audience", func(t *testing.T, s *entraSetup) { s.cfg.Cloud.Audience = "https://monitor.azure.us" },
			"AADSTS500011", "check cloud.audience"},
		{"certificate not uploaded", func(t *testing.T, s *entraSetup) {
			c := azuretest.NewEntraClientCert(t, "not-uploaded")
			s.cfg.Credential = modern.CredentialConfig{
				Type: modern.CredentialClientCertificate, TenantID: s.entra.TenantID(), ClientID: clientID,
				CertificateFile: s.write(t, "cert.pem", c.PEM()), DisableInstanceDiscovery: true,
			}
		}, "AADSTS700027", "upload that certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newEntraSetup(t, azuretest.EntraConfig{})
			tt.edit(t, s)
			cred, err := s.credential(t)
			if err != nil {
				t.Fatal(err)
			}
			_, err = token(context.Background(), cred, s.cfg)
			var ce *modern.CredentialError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *CredentialError", err)
			}
			if ce.Kind != modern.CredentialRejected || ce.Code != tt.wantCode || !strings.Contains(ce.Hint, tt.wantHint) {
				t.Errorf("got %s %s, hint %q; want %s and a hint with %q", ce.Kind, ce.Code, ce.Hint, tt.wantCode, tt.wantHint)
			}
			noLeak(t, []string{secret}, err.Error(), s.logs.String())
		})
	}
}

func TestNewCredential_ClientCertificate(t *testing.T) {
	s := newEntraSetup(t, azuretest.EntraConfig{})
	c := azuretest.NewEntraClientCert(t, "otbridge")
	s.entra.AddClientCertificate(clientID, c.Cert)
	const password = "pfx-Passw0rd!"
	t.Setenv("OTB_TEST_PFX_PASSWORD", password)

	legacy, err := pkcs12.LegacyDES.Encode(c.Key, c.Cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edit  func(*modern.CredentialConfig)
		chain bool
	}{
		{"PEM", func(cc *modern.CredentialConfig) { cc.CertificateFile = s.write(t, "cert.pem", c.PEM()) }, false},
		{"PEM with chain", func(cc *modern.CredentialConfig) {
			cc.CertificateFile = s.write(t, "cert.pem", c.PEM())
			cc.SendCertificateChain = true
		}, true},
		{"PFX, password file", func(cc *modern.CredentialConfig) {
			cc.CertificateFile = s.write(t, "cert.pfx", legacy)
			cc.CertificatePasswordFile = s.write(t, "pfx-password", []byte(password+"\r\n"))
		}, false},
		{"PFX, password variable", func(cc *modern.CredentialConfig) {
			cc.CertificateFile = s.write(t, "cert.pfx", legacy)
			cc.CertificatePasswordEnv = "OTB_TEST_PFX_PASSWORD"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.cfg.Credential = modern.CredentialConfig{
				Type: modern.CredentialClientCertificate, TenantID: s.entra.TenantID(), ClientID: clientID,
				DisableInstanceDiscovery: true,
			}
			tt.edit(&s.cfg.Credential)
			if ps := s.cfg.Validate(); len(ps) > 0 {
				t.Fatalf("invalid config: %v", ps)
			}
			cred, err := s.credential(t)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := token(context.Background(), cred, s.cfg)
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if !s.entra.Validate(tok.Token, s.cfg.Cloud.Audience) {
				t.Error("the token does not validate")
			}
			reqs := s.entra.Requests()
			if last := reqs[len(reqs)-1]; last.Auth != "client_assertion" || last.X5C != tt.chain {
				t.Errorf("token request %+v, want a client assertion with x5c %t", last, tt.chain)
			}
			noLeak(t, []string{password, tok.Token}, s.logs.String())
		})
	}
}

func TestNewCredential_CertificateFileProblems(t *testing.T) {
	s := newEntraSetup(t, azuretest.EntraConfig{})
	c := azuretest.NewEntraClientCert(t, "otbridge")
	const password = "pfx-Passw0rd!"
	legacy, err := pkcs12.LegacyDES.Encode(c.Key, c.Cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	modern2023, err := pkcs12.Modern2023.Encode(c.Key, c.Cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	certOnly := c.PEM()[:bytes.Index(c.PEM(), []byte("-----BEGIN PRIVATE KEY"))]

	tests := []struct {
		name      string
		file      []byte
		password  string
		wantField string
		want      string
	}{
		{"no key in PEM", certOnly, "", "credential.certificate_file", "needs the private key too"},
		{"PFX without password", legacy, "", "credential.certificate_file", "needs its password"},
		{"PFX wrong password", legacy, "not-it", "credential.certificate_file", "the password does not open the PFX file"},
		{"modern PFX", modern2023, password, "credential.certificate_file", "openssl pkcs12"},
		{"garbage", []byte("not a certificate"), "", "credential.certificate_file", "give a PEM file"},
		{"empty password file", legacy, "\n", "credential.certificate_password_file", "file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.cfg.Credential = modern.CredentialConfig{
				Type: modern.CredentialClientCertificate, TenantID: s.entra.TenantID(), ClientID: clientID,
				CertificateFile: s.write(t, "cert", tt.file),
			}
			if tt.password != "" {
				s.cfg.Credential.CertificatePasswordFile = s.write(t, "password", []byte(tt.password))
			}
			_, err := s.credential(t)
			var fe *modern.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a *FieldError for %s saying %q", err, tt.wantField, tt.want)
			}
			noLeak(t, []string{password, "not-it"}, err.Error())
		})
	}
}

func TestNewCredential_SecretSourceProblems(t *testing.T) {
	s := newEntraSetup(t, azuretest.EntraConfig{})
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTB_TEST_EMPTY", "")

	tests := []struct {
		name       string
		file, env  string
		wantField  string
		wantSource string
		want       string
		notExist   bool
	}{
		{"missing file", filepath.Join(dir, "nope"), "", "credential.client_secret_file", filepath.Join(dir, "nope"), "cannot read", true},
		{"directory", dir, "", "credential.client_secret_file", dir, "cannot read", false},
		{"empty file", empty, "", "credential.client_secret_file", empty, "file is empty: write the client secret into it", false},
		{"unset variable", "", "OTB_TEST_UNSET_VARIABLE", "credential.client_secret_env", "OTB_TEST_UNSET_VARIABLE", "is not set", false},
		{"empty variable", "", "OTB_TEST_EMPTY", "credential.client_secret_env", "OTB_TEST_EMPTY", "is empty", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.cfg.Credential.ClientSecretFile, s.cfg.Credential.ClientSecretEnv = tt.file, tt.env
			_, err := s.credential(t)
			var fe *modern.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Field != tt.wantField || fe.Source != tt.wantSource || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want field %s, source %s and %q", err, tt.wantField, tt.wantSource, tt.want)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %t", !tt.notExist)
			}
			if !strings.Contains(err.Error(), tt.wantField) || !strings.Contains(err.Error(), tt.wantSource) {
				t.Errorf("err %q does not name the field and the source", err)
			}
		})
	}

	// A secret file removed after start: the failure names the file.
	s = newEntraSetup(t, azuretest.EntraConfig{})
	if err := os.WriteFile(s.cfg.Credential.ClientSecretFile, []byte("Wr0ng~secret.value_0123456789abcdefghijkl"), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := s.credential(t)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token(context.Background(), cred, s.cfg); err == nil {
		t.Fatal("a wrong secret got a token")
	}
	if err := os.Remove(s.cfg.Credential.ClientSecretFile); err != nil {
		t.Fatal(err)
	}
	_, err = token(context.Background(), cred, s.cfg)
	var ce *modern.CredentialError
	if !errors.As(err, &ce) || ce.Kind != modern.CredentialMisconfigured || !strings.Contains(err.Error(), s.cfg.Credential.ClientSecretFile) {
		t.Errorf("err = %v, want a misconfigured *CredentialError naming the file", err)
	}
}

func TestNewCredential_Types(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "federated-token")
	if err := os.WriteFile(tokenFile, []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2ln"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "")
	t.Setenv("AZURE_TENANT_ID", "")
	t.Setenv("AZURE_CLIENT_ID", "")

	tests := []struct {
		name      string
		cc        modern.CredentialConfig
		wantField string // "" when NewCredential succeeds
	}{
		{"default", modern.CredentialConfig{Type: modern.CredentialDefault}, ""},
		{"system managed identity", modern.CredentialConfig{Type: modern.CredentialManagedIdentity}, ""},
		{"user-assigned by client id", modern.CredentialConfig{Type: modern.CredentialManagedIdentity, ManagedIdentityClientID: clientID}, ""},
		{"user-assigned by resource id", modern.CredentialConfig{Type: modern.CredentialManagedIdentity,
			ManagedIdentityResourceID: "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/otbridge"}, ""},
		{"workload identity", modern.CredentialConfig{Type: modern.CredentialWorkloadIdentity, TenantID: "t", ClientID: clientID, TokenFile: tokenFile}, ""},
		{"workload identity without token file", modern.CredentialConfig{Type: modern.CredentialWorkloadIdentity, TenantID: "t", ClientID: clientID}, "credential.token_file"},
		{"workload identity, token file missing", modern.CredentialConfig{Type: modern.CredentialWorkloadIdentity, TenantID: "t", ClientID: clientID, TokenFile: filepath.Join(dir, "nope")}, "credential.token_file"},
		{"workload identity without tenant", modern.CredentialConfig{Type: modern.CredentialWorkloadIdentity, ClientID: clientID, TokenFile: tokenFile}, "credential.tenant_id"},
		{"azure cli", modern.CredentialConfig{Type: modern.CredentialAzureCLI}, ""},
		{"unknown", modern.CredentialConfig{Type: "kerberos"}, "credential.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := modern.Config{Credential: tt.cc}.WithDefaults()
			cred, err := modern.NewCredential(cfg, nil, nil)
			if tt.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := cred.(*modern.Credential); !ok {
					t.Errorf("got a %T", cred)
				}
				return
			}
			var fe *modern.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Errorf("err = %v, want a *FieldError for %s", err, tt.wantField)
			}
		})
	}
}

func TestScope(t *testing.T) {
	tests := []struct {
		cloud modern.CloudConfig
		want  string
	}{
		{modern.CloudConfig{}, "https://monitor.azure.com/.default"},
		{modern.CloudConfig{Name: modern.CloudUSGov}, "https://monitor.azure.us/.default"},
		{modern.CloudConfig{Name: modern.CloudChina}, "https://monitor.azure.cn/.default"},
		{modern.CloudConfig{Name: modern.CloudCustom, AuthorityHost: "https://login.example/", Audience: "https://monitor.example/"}, "https://monitor.example/.default"},
	}
	for _, tt := range tests {
		if got := modern.Scope(modern.Config{Cloud: tt.cloud}); got != tt.want {
			t.Errorf("Scope(%+v) = %q, want %q", tt.cloud, got, tt.want)
		}
	}
}

func ExampleScope() {
	fmt.Println(modern.Scope(modern.Config{Cloud: modern.CloudConfig{Name: modern.CloudUSGov}}))
	// Output: https://monitor.azure.us/.default
}

func TestNewCredential_SecretIDInsteadOfValue(t *testing.T) {
	s := newEntraSetup(t, azuretest.EntraConfig{})
	const secretID = "8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f"
	if err := os.WriteFile(s.cfg.Credential.ClientSecretFile, []byte(secretID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := s.credential(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.logs.String(), "level=WARN") || !strings.Contains(s.logs.String(), "secret's ID") {
		t.Errorf("no warning at start about a GUID secret:\n%s", s.logs)
	}
	_, err = token(context.Background(), cred, s.cfg)
	var ce *modern.CredentialError
	if !errors.As(err, &ce) || !strings.Contains(ce.Hint, "is a GUID") {
		t.Errorf("err = %v, want a hint about the secret's ID", err)
	}
	noLeak(t, []string{secretID}, err.Error(), s.logs.String())
}
