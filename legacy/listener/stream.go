package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/otbridge/otbridge/legacy"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// serveStream accepts TCP connections and serves each in its own
// goroutine until ctx ends.
func (l *Listener) serveStream(ctx context.Context) error {
	// However the accept loop ends, the connections end with it.
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	var tlsConfig *tls.Config
	if l.certs != nil {
		tlsConfig = l.certs.serverConfig()
	}
	var backoff time.Duration
	for {
		c, err := l.stream.Accept()
		if err != nil {
			// Only Serve and Close close the socket.
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Running out of file descriptors passes: wait, then go on.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.warn.Log(slog.LevelWarn, "accept", "cannot accept connection, retrying", "error", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0

		if l.stats.connCurrent.Load() >= int64(l.cfg.MaxConnections) {
			l.stats.connRefused.Add(1)
			_ = c.Close()
			l.warn.Log(slog.LevelWarn, "connection_limit", "connection refused: max_connections are open",
				"peer", c.RemoteAddr().String(), "max_connections", l.cfg.MaxConnections, "refused", l.stats.connRefused.Load())
			continue
		}
		l.stats.connCurrent.Add(1)
		l.stats.connTotal.Add(1)
		wg.Go(func() {
			defer l.stats.connCurrent.Add(-1)
			l.serveConn(ctx, c, tlsConfig)
		})
	}
}

// serveConn reads one connection until the peer closes it, it idles out,
// or ctx ends. tlsConfig is nil for plain TCP.
func (l *Listener) serveConn(ctx context.Context, c net.Conn, tlsConfig *tls.Config) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()

	peer := c.RemoteAddr().String()
	if n := l.cfg.ReadBuffer; n > 0 {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(n)
		}
	}

	conn := c
	if tlsConfig != nil {
		tc := tls.Server(c, tlsConfig)
		_ = c.SetDeadline(time.Now().Add(l.cfg.TLS.HandshakeTimeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			l.handshakeFailed(ctx, peer, err)
			return
		}
		_ = c.SetDeadline(time.Time{})
		conn = tc
	}

	err := l.readStream(ctx, &idleReader{c: conn, idle: l.cfg.IdleTimeout}, peer)
	switch {
	case ctx.Err() != nil:
	case err == nil:
		l.log.Debug("connection closed by peer", "peer", peer)
	case errors.Is(err, os.ErrDeadlineExceeded):
		l.log.Debug("idle connection closed", "peer", peer, "idle_timeout", l.cfg.IdleTimeout)
	default:
		l.log.Debug("connection failed", "peer", peer, "error", err)
	}
}

// handshakeFailed counts and logs a failed TLS handshake. A peer that
// closes the connection before sending anything (a port probe, a load
// balancer's health check) did not try a handshake: it is logged at Debug
// and not counted.
func (l *Listener) handshakeFailed(ctx context.Context, peer string, err error) {
	if ctx.Err() != nil {
		return
	}
	if errors.Is(err, io.EOF) {
		l.log.Debug("connection closed before the tls handshake", "peer", peer)
		return
	}
	l.stats.handshakeFailures.Add(1)
	args := []any{"peer", peer, "error", err}
	if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "remote error" {
		// Sensors forward nothing, and say nothing, when they reject the
		// certificate.
		args = append(args, "hint", "the sender refused the listener's certificate: make it trust the CA that issued tls.certificate_file")
	}
	l.warn.Log(slog.LevelWarn, "tls_handshake", "tls handshake failed, connection closed", args...)
}

// readStream reads framed messages from r and hands each to the Handler,
// one at a time, so a slow Handler slows the reads. It returns nil at the
// end of the stream, ctx's error when ctx ended during a Handle call, and
// the read error otherwise.
func (l *Listener) readStream(ctx context.Context, r io.Reader, peer string) error {
	fr := syslog.NewReader(r, l.cfg.MaxMessageSize)
	dec := l.decoder()
	for {
		raw, err := fr.Next()
		if err == nil {
			if !l.handle(ctx, l.message(dec, raw, peer)) && ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}

		var tooLarge *syslog.FrameTooLargeError
		var truncated *syslog.TruncatedError
		switch {
		case errors.As(err, &tooLarge):
			l.tooLarge(peer, tooLarge.Length)
		case errors.As(err, &truncated):
			l.truncated(ctx, dec, truncated, peer)
		case err == io.EOF:
			return nil
		default:
			return err
		}
	}
}

// truncated deals with a stream that ended inside a message: a last line
// without its trailer is handed on when it is a complete message, anything
// else is counted and dropped.
func (l *Listener) truncated(ctx context.Context, dec *legacy.MessageDecoder, e *syslog.TruncatedError, peer string) {
	if e.Framing == syslog.NonTransparent && len(e.Partial) > 0 {
		if m := l.complete(dec, e.Partial, peer); m != nil {
			l.handle(ctx, m)
			return
		}
	}
	l.stats.received.Add(1)
	l.stats.truncated.Add(1)
	l.warn.Log(slog.LevelWarn, "truncated", "connection closed inside a message, message not forwarded",
		"peer", peer, "framing", e.Framing.String(), "bytes", len(e.Partial))
}

// idleReader sets a read deadline before every read, so a connection that
// sends nothing for idle is closed. Time spent in the Handler does not
// count: no read is pending then.
type idleReader struct {
	c    net.Conn
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if err := r.c.SetReadDeadline(time.Now().Add(r.idle)); err != nil {
		return 0, err
	}
	return r.c.Read(p)
}
