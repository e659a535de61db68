package forwarder

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// stableAfter is how long a connection must last before it counts as a
// recovery: one that breaks sooner (a proxy that accepts and then refuses)
// continues the run of failures, and the backoff keeps growing.
const stableAfter = 5 * time.Second

// writer is the state of Run's goroutine.
type writer struct {
	f    *Forwarder
	q    *queue
	conn *session // nil while disconnected
	// pending holds the batches to write before any from the queue,
	// oldest first: what a broken connection may have lost, then the
	// batch whose write failed.
	pending []*batch
	win     window
	tick    *time.Ticker

	// failures counts the failures since the last stable connection,
	// lastFailure is the kind of the last one, and delay the wait before
	// the next attempt to connect.
	failures    int
	lastFailure string
	delay       time.Duration
	stable      bool // the current connection has lasted stableAfter
	connected   bool // a connection was ever opened
}

func (f *Forwarder) newWriter() *writer {
	// Tick often enough to let go of messages soon after the window.
	every := min(max(f.cfg.ResendWindow/4, 50*time.Millisecond), time.Second)
	return &writer{
		f:    f,
		q:    f.q,
		win:  window{keep: f.cfg.ResendWindow, limit: f.cfg.ResendLimit, batch: f.q.maxMsgs},
		tick: time.NewTicker(every),
	}
}

// stream reports whether the transport is a stream with a resend window.
func (w *writer) stream() bool { return w.f.cfg.Transport != TransportUDP }

// run writes until ctx ends.
func (w *writer) run(ctx context.Context) {
	for ctx.Err() == nil {
		if w.conn == nil {
			w.connect(ctx)
			continue
		}
		if b := w.next(ctx); b != nil {
			w.write(ctx, b)
		}
	}
}

// drain writes what is queued and pending until it is all written and
// the connection closed in an orderly way, or ctx ends. The queue is closed
// by now: nothing joins it any more.
func (w *writer) drain(ctx context.Context) {
	for ctx.Err() == nil {
		if len(w.pending) == 0 {
			if b := w.q.take(); b != nil {
				w.pending = append(w.pending, b)
			}
		}
		switch {
		case len(w.pending) == 0 && w.conn == nil:
			return
		case len(w.pending) == 0:
			w.finish(ctx)
		case w.conn == nil:
			w.connect(ctx)
		default:
			w.write(ctx, w.next(ctx))
		}
	}
}

// connect waits out the backoff and opens a connection.
func (w *writer) connect(ctx context.Context) {
	if w.delay > 0 {
		t := time.NewTimer(w.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		w.delay = 0
	}

	s, err := w.f.dial(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.failed("cannot connect", err)
		}
		return
	}
	w.conn, w.stable = s, false
	w.f.stats.connects.Add(1)
	if w.connected {
		w.f.stats.reconnects.Add(1)
		w.f.log.Debug("reconnected", "address", w.f.cfg.Address)
	} else {
		w.connected = true
		w.f.log.Info("connected", "address", w.f.cfg.Address, "transport", w.f.cfg.Transport)
	}
}

// next returns the next batch to write, or nil when it woke for
// something else (a broken connection, a tick, ctx), which it handled.
func (w *writer) next(ctx context.Context) *batch {
	if b := w.ready(); b != nil {
		return b
	}
	select {
	case <-w.q.ready:
		return w.ready()
	case <-w.conn.broken:
		w.lost(w.conn.err)
	case <-w.tick.C:
		w.maintain()
	case <-ctx.Done():
	}
	return nil
}

// ready returns the next batch if one is ready without waiting, else nil.
func (w *writer) ready() *batch {
	if len(w.pending) > 0 {
		b := w.pending[0]
		w.pending[0] = nil
		w.pending = w.pending[1:]
		return b
	}
	return w.q.take()
}

// The bounds of the wait for acknowledgements when the resend window is
// full.
const (
	minAckPoll = 100 * time.Microsecond
	maxAckPoll = 20 * time.Millisecond
)

// write writes b, keeping it for resending over a stream. When the
// connection is broken or breaks, b goes back to pending.
func (w *writer) write(ctx context.Context, b *batch) {
	// The window has no room for b: the proxy has not acknowledged enough
	// of what it holds. Wait for it rather than hold more. Acknowledgements
	// come within a round trip, so ask the socket again soon, backing off
	// up to maxAckPoll.
	for poll := minAckPoll; w.stream() && !w.win.room(b.len()); poll = min(2*poll, maxAckPoll) {
		w.settle()
		if w.win.room(b.len()) {
			break
		}
		t := time.NewTimer(poll)
		select {
		case <-w.conn.broken:
			t.Stop()
			w.requeue(b)
			w.lost(w.conn.err)
			return
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			w.requeue(b)
			return
		}
	}
	select {
	case <-w.conn.broken:
		w.requeue(b)
		w.lost(w.conn.err)
		return
	default:
	}

	deadline := time.Now().Add(w.f.cfg.WriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = w.conn.w.SetWriteDeadline(deadline)
	if !w.stream() {
		w.writeDatagrams(b)
		return
	}
	if _, err := w.conn.w.Write(b.buf); err != nil {
		w.f.stats.failedWrites.Add(1)
		w.requeue(b)
		w.conn.fail(err)
		w.lost(err)
		return
	}

	// Every message of the batch counts as acknowledged only once the
	// whole write is: TLS adds its own bytes, so finer offsets would be
	// guesses.
	if b.sent {
		w.f.stats.resent.Add(uint64(b.len()))
	} else {
		b.sent = true
		w.f.stats.written.Add(uint64(b.len()))
	}
	b.end, b.at = w.conn.sent.n.Load(), w.f.now()
	w.win.push(b)
	w.settle()
}

// writeDatagrams writes the frames of b not yet written, one datagram
// each, and delivers those written. When a write fails, the rest of b
// goes back to pending.
func (w *writer) writeDatagrams(b *batch) {
	start := 0
	if b.done > 0 {
		start = b.ends[b.done-1]
	}
	for b.done < b.len() {
		end := b.ends[b.done]
		if _, err := w.conn.w.Write(b.buf[start:end]); err != nil {
			w.f.stats.failedWrites.Add(1)
			w.requeue(b)
			w.conn.fail(err)
			w.lost(err)
			return
		}
		w.f.stats.written.Add(1)
		if b.msgs != nil {
			w.deliver(b.msgs[b.done])
		} else {
			w.f.stats.delivered.Add(1)
		}
		b.done++
		start = end
	}
	recycle(b)
}

// requeue puts b back at the head of pending.
func (w *writer) requeue(b *batch) {
	w.pending = append([]*batch{b}, w.pending...)
}

// lost gives up the broken connection. The batches it may have lost go
// back before pending, to be written first on the next connection.
func (w *writer) lost(err error) {
	w.conn.close()
	w.conn = nil
	n := w.win.len()
	if resend := w.win.take(); len(resend) > 0 {
		w.pending = append(resend, w.pending...)
	}
	w.failed("connection lost", err, "resend", n)
}

// failed counts a failure, logs it at Warn when it differs from the last
// one (Debug otherwise) and sets the wait before the next attempt.
func (w *writer) failed(msg string, err error, attrs ...any) {
	w.failures++
	kind := msg + ": " + failureKind(err)
	level := slog.LevelWarn
	if kind == w.lastFailure {
		level = slog.LevelDebug
	}
	w.lastFailure = kind
	w.delay = backoff(w.failures-1, w.f.cfg.ReconnectMin, w.f.cfg.ReconnectMax, w.f.jitter)
	attrs = append(attrs, "address", w.f.cfg.Address, "failures", w.failures, "retry_in", w.delay, "error", err)
	w.f.log.Log(context.Background(), level, msg, attrs...)
}

// maintain lets go of settled messages and notes a connection that has
// become stable.
func (w *writer) maintain() {
	if w.conn == nil {
		return
	}
	w.settle()
	if !w.stable && w.f.now().Sub(w.conn.openedAt) >= stableAfter {
		w.stable = true
		if w.failures > 0 {
			w.f.log.Info("recovered after failures", "failures", w.failures)
		}
		w.failures, w.lastFailure = 0, ""
	}
}

// settle lets go of the messages in the window that the proxy has had.
// Nothing settles on a broken connection: its window is resent.
func (w *writer) settle() {
	now := w.f.now()
	if !w.win.due(now) {
		return
	}
	select {
	case <-w.conn.broken:
		return
	default:
	}
	w.win.settle(now, w.conn.acked(), w.delivered)
}

// delivered reports the messages of b delivered and recycles it.
func (w *writer) delivered(b *batch) {
	if b.msgs == nil {
		w.f.stats.delivered.Add(uint64(b.len()))
	}
	for _, m := range b.msgs {
		w.deliver(m)
	}
	recycle(b)
}

func (w *writer) deliver(m *bridge.Message) {
	w.f.stats.delivered.Add(1)
	if w.f.opts.OnDelivered != nil {
		w.f.opts.OnDelivered(m)
	}
}

// finish ends the connection in an orderly way once everything is
// written: the proxy reads what is left and closes its side, which
// confirms every message in the window. If the connection breaks instead,
// the window goes back to pending.
func (w *writer) finish(ctx context.Context) {
	if !w.stream() {
		w.conn.close()
		w.conn = nil
		return
	}
	if err := w.conn.closeWrite(); err != nil {
		w.conn.fail(err)
	}
	for w.conn != nil && ctx.Err() == nil {
		select {
		case <-w.conn.broken:
			if err := w.conn.err; !errors.Is(err, io.EOF) {
				w.lost(err)
				return
			}
			w.conn.close()
			w.conn = nil
			for _, b := range w.win.take() {
				w.delivered(b)
			}
		case <-w.tick.C:
			w.settle()
			if w.win.len() == 0 {
				w.conn.close()
				w.conn = nil
			}
		case <-ctx.Done():
		}
	}
}

// abandon drops, counts and logs whatever is still held after the drain.
func (w *writer) abandon() {
	w.tick.Stop()
	var left []*batch
	if w.conn != nil {
		left = w.win.take()
		w.conn.close()
		w.conn = nil
	}
	left = append(left, w.pending...)
	w.pending = nil
	for b := w.q.take(); b != nil; b = w.q.take() {
		left = append(left, b)
	}
	n := 0
	for _, b := range left {
		// Over udp the datagrams written are delivered already.
		for i := b.done; i < b.len(); i++ {
			n++
			w.f.stats.dropped.Add(1)
			if w.f.opts.OnDropped != nil {
				w.f.opts.OnDropped(b.msgs[i])
			}
		}
	}
	if n > 0 {
		w.f.log.Error("messages dropped at shutdown", "count", n, "drain_timeout", w.f.cfg.DrainTimeout)
	}
}

// backoff returns the wait before attempt n+1 after n failures in a row
// (n from 0): a random time between lo and lo doubled n+1 times, at most
// hi ("full jitter", so that many senders cut off together do not come
// back together). jitter(k) returns a uniform random number in [0, k).
func backoff(n int, lo, hi time.Duration, jitter func(k int64) int64) time.Duration {
	ceil := lo
	for i := 0; i <= n && ceil < hi; i++ {
		ceil *= 2
	}
	ceil = min(ceil, hi)
	if ceil <= lo {
		return lo
	}
	return lo + time.Duration(jitter(int64(ceil-lo)+1))
}

// failureKind names the kind of a connection failure, so that a failure
// is logged at Warn only when its kind changes.
func failureKind(err error) string {
	var (
		ne      net.Error
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		alert   tls.AlertError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed by the proxy"
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &host):
		return "certificate"
	case errors.As(err, &alert):
		return "tls alert"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}
