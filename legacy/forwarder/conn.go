package forwarder

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// session is one connection to the proxy.
type session struct {
	// w is where frames are written: the TLS connection, the counted TCP
	// connection or the UDP socket.
	w   net.Conn
	tcp *net.TCPConn // nil for udp
	tls *tls.Conn    // nil unless tls
	// sent counts the bytes written to the TCP socket, TLS records
	// included; nil for udp.
	sent *countingConn

	// broken is closed when the connection is known to be unusable: the
	// proxy closed or reset it, or a write failed. err says why.
	broken chan struct{}
	once   sync.Once
	err    error

	openedAt time.Time
}

// fail marks the session broken by err, unless it already is.
func (s *session) fail(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.broken)
	})
}

// watch reads the connection until it fails. A proxy never writes to its
// senders, so the read returns only when the proxy closed or reset the
// connection, or when the writer closed it.
func (s *session) watch() {
	buf := make([]byte, 512)
	for {
		if _, err := s.w.Read(buf); err != nil {
			s.fail(err)
			return
		}
	}
}

// acked returns how many of the bytes written to the socket its peer has
// acknowledged. Where the system does not say, all of them.
func (s *session) acked() int64 {
	if s.sent == nil {
		return 0
	}
	written := s.sent.n.Load()
	un, err := unacked(s.tcp)
	if err != nil {
		return written
	}
	return written - un
}

// closeWrite ends the stream in an orderly way: TLS close_notify, then
// TCP FIN. The proxy reads what is left and closes its side, which watch
// sees as io.EOF.
func (s *session) closeWrite() error {
	if s.tls != nil {
		if err := s.tls.CloseWrite(); err != nil {
			return err
		}
	}
	if s.tcp != nil {
		return s.tcp.CloseWrite()
	}
	return nil
}

func (s *session) close() {
	s.fail(net.ErrClosed)
	_ = s.w.Close()
}

// countingConn counts the bytes written through it.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// dial opens a session to the proxy within DialTimeout, TLS handshake
// included.
func (f *Forwarder) dial(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.DialTimeout)
	defer cancel()
	d := net.Dialer{Control: sockopts(f.cfg.WriteTimeout)}

	if f.cfg.Transport == TransportUDP {
		c, err := d.DialContext(ctx, "udp", f.cfg.Address)
		if err != nil {
			return nil, err
		}
		return &session{w: c, broken: make(chan struct{}), openedAt: f.now()}, nil
	}

	c, err := d.DialContext(ctx, "tcp", f.cfg.Address)
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c}
	s := &session{w: cc, tcp: c.(*net.TCPConn), sent: cc, broken: make(chan struct{})}
	if f.tlsConf != nil {
		tc := tls.Client(cc, f.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		s.w, s.tls = tc, tc
	}
	s.openedAt = f.now()
	go s.watch()
	return s, nil
}

// clientTLS builds the TLS client configuration, reading the files it
// names.
func clientTLS(c TLSConfig) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read tls.ca_file %s: no PEM certificate in it", c.CAFile)
		}
		conf.RootCAs = pool
	}
	if c.CertificateFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertificateFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls.certificate_file and tls.key_file: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
