package modern

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Connection timeouts below the per-request cfg.Timeout: a TCP connection
// or a TLS handshake that takes longer than this is failing, not slow.
const (
	dialTimeout      = 10 * time.Second
	handshakeTimeout = 10 * time.Second
	idleConnTimeout  = 90 * time.Second
)

// FieldError says that a setting names a file or an environment variable
// that cannot be used: missing, unreadable, empty or not in the expected
// format. It never carries the content of the file or variable.
type FieldError struct {
	// Field is the setting under the destination, such as
	// "credential.client_secret_file".
	Field string
	// Source is the file path or the variable name the setting gave; empty
	// when the setting itself is missing.
	Source string
	// Err says what is wrong and what to do.
	Err error
}

func (e *FieldError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("%s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("%s %q: %v", e.Field, e.Source, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// readFileError turns an os.ReadFile error into one that does not repeat
// the path (FieldError names it) and still matches fs.ErrNotExist.
func readFileError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot read: %w", err)
}

// NewHTTPClient returns the HTTP client of one destination, shared by its
// token credential and its ingestion sender so both reach Azure the same
// way: TLS 1.2 or newer; the system roots plus the certificates of
// cfg.CABundleFile (an inspecting proxy's CA); the proxy named by
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY as they are when the client is
// built; cfg.Timeout for each request, answer body included.
//
// Link-local addresses, such as the managed identity endpoint
// 169.254.169.254, are always reached directly: a proxy cannot reach
// them on the machine's behalf.
//
// An unusable CA bundle file gives a *FieldError naming the file.
func NewHTTPClient(cfg Config) (*http.Client, error) {
	// net/http ignores a proxy variable it cannot parse and goes direct;
	// refuse it instead. The URL may hold a password: it is not quoted.
	env := httpproxy.FromEnvironment()
	for _, v := range []struct{ name, value string }{{"HTTPS_PROXY", env.HTTPSProxy}, {"HTTP_PROXY", env.HTTPProxy}} {
		if v.value != "" && !validProxyURL(v.value) {
			return nil, fmt.Errorf("%s is not a valid proxy URL: give scheme://host:port", v.name)
		}
	}
	proxy := env.ProxyFunc()
	return newHTTPClient(cfg, func(r *http.Request) (*url.URL, error) {
		return proxy(r.URL)
	})
}

// newHTTPClient is NewHTTPClient with the proxy function given.
func newHTTPClient(cfg Config, proxy func(*http.Request) (*url.URL, error)) (*http.Client, error) {
	cfg = cfg.WithDefaults()
	roots, err := rootPool(cfg.CABundleFile)
	if err != nil {
		return nil, err
	}

	connTimeout := min(dialTimeout, cfg.Timeout)
	tr := &http.Transport{
		Proxy: func(r *http.Request) (*url.URL, error) {
			if isLinkLocal(r.URL.Hostname()) {
				return nil, nil
			}
			return proxy(r)
		},
		DialContext: (&net.Dialer{
			Timeout:   connTimeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			RootCAs:    roots,
		},
		TLSHandshakeTimeout:   min(handshakeTimeout, cfg.Timeout),
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   4,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout}, nil
}

// rootPool returns the system roots plus the certificates of the PEM file,
// if one is named.
func rootPool(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if file == "" {
		return pool, nil
	}

	const field = "ca_bundle_file"
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &FieldError{Field: field, Source: file, Err: readFileError(err)}
	}
	n := 0
	for i := 1; ; i++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &FieldError{Field: field, Source: file, Err: fmt.Errorf("PEM block %d is not a valid certificate: %w", i, err)}
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, &FieldError{Field: field, Source: file, Err: errors.New("holds no certificate: give a PEM file with the CA certificates to trust (-----BEGIN CERTIFICATE----- blocks)")}
	}
	return pool, nil
}

// validProxyURL reports whether a proxy variable's value is a URL with a
// host, or a host alone, as net/http reads it.
func validProxyURL(s string) bool {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	return err == nil && u.Host != ""
}

// isLinkLocal reports whether host is a link-local IP address.
func isLinkLocal(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && (ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast())
}
