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

	"github.com/otbridge/otbridge/bridge"
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

// maxBatch is the most messages of one connection handed on in one call.
const maxBatch = 256

// readStream reads framed messages from r and hands them to the Handler:
// together, the messages that were read before the next read of r (see
// connReader), so a slow Handler slows the reads. It returns nil at the
// end of the stream, ctx's error when ctx ended during a Handler call, and
// the read error otherwise.
func (l *Listener) readStream(ctx context.Context, r io.Reader, peer string) error {
	cr := l.newConnReader(ctx, r, peer)
	fr := syslog.NewReader(cr, l.cfg.MaxMessageSize)
	for {
		raw, err := fr.Next()
		if err == nil {
			a, k := l.decode(cr.dec, raw, peer)
			if err := cr.add(raw, a, k); err != nil {
				return err
			}
			continue
		}

		var tooLarge *syslog.FrameTooLargeError
		var truncated *syslog.TruncatedError
		switch {
		case errors.As(err, &tooLarge):
			l.tooLarge(peer, tooLarge.Length)
		case errors.As(err, &truncated):
			if err := l.truncated(cr, truncated); err != nil {
				return err
			}
		case err == io.EOF:
			return cr.flush()
		default:
			// What arrived whole before the error goes on; the error may
			// be ctx's, from a flush during the read.
			_ = cr.flush()
			return err
		}
	}
}

// truncated deals with a stream that ended inside a message: a last line
// without its trailer is handed on when it is a complete message, anything
// else is counted and dropped.
func (l *Listener) truncated(cr *connReader, e *syslog.TruncatedError) error {
	if e.Framing == syslog.NonTransparent && len(e.Partial) > 0 {
		if a, k, ok := l.complete(cr.dec, e.Partial); ok {
			return cr.add(e.Partial, a, k)
		}
	}
	l.stats.received.Add(1)
	l.stats.truncated.Add(1)
	l.warn.Log(slog.LevelWarn, "truncated", "connection closed inside a message, message not forwarded",
		"peer", cr.peer, "framing", e.Framing.String(), "bytes", len(e.Partial))
	return nil
}

// connReader is what a connection's framing reader reads from. It also
// gathers the messages read from the connection into a batch, and hands
// the batch on just before each read of the connection: the messages one
// read delivered go on together, and none waits for the network. A batch
// holds copies of its messages' bytes, because the framing reader moves
// its buffer when it reads; it holds at most what the framing buffer held
// (MaxMessageSize and a little more), or maxBatch messages.
type connReader struct {
	l    *Listener
	ctx  context.Context
	r    io.Reader
	peer string
	rule *bridge.RuleRef
	dec  *legacy.MessageDecoder

	// readAt is when the last read returned: the arrival of the messages
	// it completed.
	readAt time.Time
	// msgs are the messages of the batch; their Raw is set, from buf and
	// ends, when they go.
	msgs  []bridge.Message
	ends  []int
	buf   []byte
	tally tally
}

func (l *Listener) newConnReader(ctx context.Context, r io.Reader, peer string) *connReader {
	cr := &connReader{l: l, ctx: ctx, r: r, peer: peer, dec: l.decoder(), readAt: l.now()}
	// Year-less times are completed from when the message arrived, which
	// spares a look at the clock per message.
	cr.dec.Now = func() time.Time { return cr.readAt }
	if l.rule != nil {
		// One copy for the connection's messages, so that no consumer sees
		// the listener's own.
		r := *l.rule
		cr.rule = &r
	}
	return cr
}

// Read hands on the batch, then reads.
func (cr *connReader) Read(p []byte) (int, error) {
	if err := cr.flush(); err != nil {
		return 0, err
	}
	n, err := cr.r.Read(p)
	cr.readAt = cr.l.now()
	return n, err
}

// add adds a message and its kind to the batch, and hands the batch on
// when it is full. It returns ctx's error when ctx ended while the
// Handler refused messages.
func (cr *connReader) add(raw []byte, a *bridge.Alert, k kind) error {
	cr.tally.add(k)
	if a != nil {
		a.ReceivedAt = cr.readAt
	}
	cr.buf = append(cr.buf, raw...)
	cr.ends = append(cr.ends, len(cr.buf))
	cr.msgs = append(cr.msgs, bridge.Message{Alert: a, Listener: cr.l.cfg.Name, Peer: cr.peer, Rule: cr.rule, ReceivedAt: cr.readAt})
	if len(cr.msgs) >= maxBatch {
		return cr.flush()
	}
	return nil
}

// flush counts the batch and hands it on. It returns ctx's error when ctx
// ended while the Handler refused messages.
func (cr *connReader) flush() error {
	if len(cr.msgs) == 0 {
		return nil
	}
	cr.l.stats.add(&cr.tally)
	cr.tally = tally{}
	start := 0
	for i, end := range cr.ends {
		cr.msgs[i].Raw = cr.buf[start:end:end]
		start = end
	}
	ok := cr.l.handleBatch(cr.ctx, cr.msgs)
	clear(cr.msgs)
	cr.msgs, cr.ends, cr.buf = cr.msgs[:0], cr.ends[:0], cr.buf[:0]
	if !ok && cr.ctx.Err() != nil {
		return cr.ctx.Err()
	}
	return nil
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
