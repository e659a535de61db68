package modern

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "transport test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// file writes the CA certificate to a PEM file, after the extra text.
func (ca *testCA) file(t *testing.T, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := append([]byte(extra), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// server starts a TLS server for the hosts with a certificate of the CA.
func (ca *testCA) server(t *testing.T, h http.Handler, maxVersion uint16, hosts ...string) *httptest.Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
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
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MaxVersion: maxVersion}
	if maxVersion != 0 && maxVersion < tls.VersionTLS12 {
		srv.TLS.MinVersion = tls.VersionTLS10
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

var noContent = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

func TestNewHTTPClient_CABundle(t *testing.T) {
	ca := newTestCA(t)
	srv := ca.server(t, noContent, 0, "127.0.0.1")

	// Without the bundle the server's CA is not trusted.
	hc, err := newHTTPClient(Config{}, noProxy)
	if err != nil {
		t.Fatal(err)
	}
	var uae x509.UnknownAuthorityError
	if _, err := hc.Get(srv.URL); !errors.As(err, &uae) {
		t.Fatalf("without the CA bundle: err = %v, want an unknown authority", err)
	}

	// With it the CA is trusted; other PEM blocks in the file are skipped.
	key := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
	hc, err = newHTTPClient(Config{CABundleFile: ca.file(t, key)}, noProxy)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("with the CA bundle: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestNewHTTPClient_RefusesOldTLS(t *testing.T) {
	ca := newTestCA(t)
	srv := ca.server(t, noContent, tls.VersionTLS11, "127.0.0.1")
	hc, err := newHTTPClient(Config{CABundleFile: ca.file(t, "")}, noProxy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.1 server: err = %v, want a protocol version failure", err)
	}
}

func TestNewHTTPClient_CABundleProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name     string
		path     string
		want     string
		notExist bool
	}{
		{"missing", filepath.Join(dir, "nope.pem"), "cannot read", true},
		{"empty", write("empty.pem", ""), "holds no certificate", false},
		{"not PEM", write("der.cer", "0\x82\x01\x0a..."), "holds no certificate", false},
		{"key only", write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "holds no certificate", false},
		{"broken certificate", write("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "PEM block 1 is not a valid certificate", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHTTPClient(Config{CABundleFile: tt.path})
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "ca_bundle_file" || fe.Source != tt.path {
				t.Fatalf("err = %v, want a *FieldError for ca_bundle_file %s", err, tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("err = %q, want the path and %q", err, tt.want)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %t", !tt.notExist)
			}
		})
	}
}

// connectProxy is an HTTPS proxy on 127.0.0.1 that tunnels every CONNECT
// to one local server, whatever host it names, so a test can use a
// non-loopback name (which the proxy rules do not skip) without any DNS
// or outside dial.
type connectProxy struct {
	*httptest.Server
	mu      sync.Mutex
	targets []string
}

func newConnectProxy(t *testing.T, upstream string) *connectProxy {
	p := &connectProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		p.mu.Lock()
		p.targets = append(p.targets, r.Host)
		p.mu.Unlock()
		up, err := net.Dial("tcp", upstream)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
			return
		}
		go func() { _, _ = io.Copy(up, rw) }()
		_, _ = io.Copy(conn, up)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *connectProxy) Targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

func TestNewHTTPClient_ProxyFromEnvironment(t *testing.T) {
	ca := newTestCA(t)
	srv := ca.server(t, noContent, 0, "dce.example.test")
	proxy := newConnectProxy(t, srv.Listener.Addr().String())
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")

	hc, err := NewHTTPClient(Config{CABundleFile: ca.file(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	// The name resolves nowhere: only the proxy can reach it.
	resp, err := hc.Get("https://dce.example.test/dataCollectionRules")
	if err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status %d", resp.StatusCode)
	}
	if got := proxy.Targets(); len(got) != 1 || got[0] != "dce.example.test:443" {
		t.Errorf("the proxy was asked for %v, want [dce.example.test:443]", got)
	}

	// What is never proxied: NO_PROXY names, link-local addresses (the
	// managed identity endpoint). Checked without dialing.
	t.Setenv("NO_PROXY", ".internal.example")
	hc, err = NewHTTPClient(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*http.Transport)
	for target, proxied := range map[string]bool{
		"https://dce.example.test/x":                 true,
		"https://dce.internal.example/x":             false,
		"http://169.254.169.254/metadata/identity":   false,
		"https://login.microsoftonline.com/t/oauth2": true,
	} {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		u, err := tr.Proxy(req)
		if err != nil {
			t.Fatal(err)
		}
		if (u != nil) != proxied {
			t.Errorf("%s: proxy %v, want proxied %t", target, u, proxied)
		}
	}
}

func TestNewHTTPClient_BadProxyVariable(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://otbridge:hunter2@[::1")
	_, err := NewHTTPClient(Config{})
	if err == nil || !strings.Contains(err.Error(), "HTTPS_PROXY") {
		t.Fatalf("err = %v, want a refusal naming HTTPS_PROXY", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the proxy password leaked: %v", err)
	}

	// A host alone is a proxy URL, as for net/http.
	t.Setenv("HTTPS_PROXY", "proxy.corp.example:3128")
	if _, err := NewHTTPClient(Config{}); err != nil {
		t.Errorf("host:port proxy refused: %v", err)
	}
}

func TestNewHTTPClient_Timeouts(t *testing.T) {
	hc, err := newHTTPClient(Config{}, noProxy)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != 30*time.Second {
		t.Errorf("default timeout %v, want 30s", hc.Timeout)
	}
	tr := hc.Transport.(*http.Transport)
	if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSHandshakeTimeout != 10*time.Second || tr.IdleConnTimeout == 0 {
		t.Errorf("transport %+v", tr)
	}

	// A request is bounded by cfg.Timeout, answer body included.
	ca := newTestCA(t)
	release := make(chan struct{})
	slow := ca.server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release
	}), 0, "127.0.0.1")
	defer close(release)
	hc, err = newHTTPClient(Config{CABundleFile: ca.file(t, ""), Timeout: 200 * time.Millisecond}, noProxy)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := hc.Get(slow.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("slow answer: err %v after %v, want a timeout near 200ms", err, time.Since(start))
	}
}
