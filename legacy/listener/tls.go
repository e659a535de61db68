package listener

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// tlsVersions maps min_version to crypto/tls versions.
var tlsVersions = map[string]uint16{
	"1.2": tls.VersionTLS12,
	"1.3": tls.VersionTLS13,
}

// certCheckEvery is how often a handshake looks at the files' stamps at
// most.
const certCheckEvery = 5 * time.Second

// fileStamp is what tells that a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

// certStore holds the server's TLS configuration and reloads it from the
// files when asked, or when a handshake finds that a file changed.
type certStore struct {
	files      []string // certificate, key and, for mutual TLS, client CA
	minVersion uint16
	now        func() time.Time
	log        *slog.Logger
	warn       *limitedLog

	current atomic.Pointer[tls.Config]

	mu      sync.Mutex // serialises loads and guards the fields below
	stamps  []fileStamp
	checked time.Time
}

func newCertStore(c TLSConfig, now func() time.Time, log *slog.Logger, warn *limitedLog) (*certStore, error) {
	s := &certStore{
		files:      []string{c.CertificateFile, c.KeyFile},
		minVersion: tlsVersions[c.MinVersion],
		now:        now,
		log:        log,
		warn:       warn,
	}
	if c.ClientCAFile != "" {
		s.files = append(s.files, c.ClientCAFile)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// serverConfig returns the configuration handed to tls.Server: every
// handshake picks up the current certificate and client CAs.
func (s *certStore) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: s.minVersion,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			s.check()
			return s.current.Load(), nil
		},
	}
}

// reload reads the files now. On failure the current configuration stays.
func (s *certStore) reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cert, err := s.load()
	if err != nil {
		return err
	}
	s.logLoaded(cert, "reload")
	return nil
}

// check reloads the files when their stamps changed, looking at most every
// certCheckEvery.
func (s *certStore) check() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := now.Sub(s.checked); d >= 0 && d < certCheckEvery {
		return
	}
	s.checked = now
	stamps, err := s.stat()
	if err == nil && equalStamps(stamps, s.stamps) {
		return
	}
	cert, err := s.load()
	if err != nil {
		s.warn.Log(slog.LevelWarn, "tls_reload", "cannot reload tls certificate, keeping the current one", "error", err)
		return
	}
	s.logLoaded(cert, "file changed")
}

// load reads the files and installs the configuration they make. The files
// are looked at before they are read, so a change while reading shows at
// the next check. s.mu is held.
func (s *certStore) load() (*x509.Certificate, error) {
	stamps, err := s.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(s.files[0], s.files[1])
	if err != nil {
		return nil, fmt.Errorf("load tls certificate %s: %w", s.files[0], err)
	}
	cfg := &tls.Config{
		MinVersion:   s.minVersion,
		Certificates: []tls.Certificate{cert},
	}
	if len(s.files) > 2 {
		pem, err := os.ReadFile(s.files[2])
		if err != nil {
			return nil, fmt.Errorf("read client ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("read client ca file " + s.files[2] + ": no PEM certificate in it")
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	s.current.Store(cfg)
	s.stamps = stamps
	s.checked = s.now()
	return cert.Leaf, nil
}

func (s *certStore) logLoaded(leaf *x509.Certificate, why string) {
	args := []any{"reason", why}
	if leaf != nil {
		args = append(args, "subject", leaf.Subject.String(), "not_after", leaf.NotAfter)
	}
	s.log.Info("tls certificate reloaded", args...)
}

func (s *certStore) stat() ([]fileStamp, error) {
	stamps := make([]fileStamp, len(s.files))
	for i, f := range s.files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("stat tls file: %w", err)
		}
		stamps[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return stamps, nil
}

func equalStamps(a, b []fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].mod.Equal(b[i].mod) || a[i].size != b[i].size {
			return false
		}
	}
	return true
}
