package listener

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy"
)

// Listener receives syslog messages on one socket and hands them to a
// bridge.Handler. Create it with New, run it with Serve.
type Listener struct {
	cfg  Config
	h    bridge.Handler
	bh   bridge.BatchHandler // h as a BatchHandler, when it is one
	log  *slog.Logger
	warn *limitedLog
	now  func() time.Time
	loc  *time.Location
	rule *bridge.RuleRef
	// noAlerts says that messages go on without their Alert.
	noAlerts bool

	stats counters

	// Exactly one of stream (tcp, tls) and udp is set once bound.
	stream net.Listener
	udp    *net.UDPConn
	certs  *certStore // tls only

	mu        sync.Mutex
	serving   bool
	closed    bool
	cancel    context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

// Option changes a Listener built by New.
type Option func(*Listener)

// WithClock sets the clock that stamps ReceivedAt, completes year-less
// syslog times, paces rate-limited warnings and paces the TLS file checks.
// Deadlines (idle and handshake timeouts) use the system clock. Default
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(l *Listener) {
		if now != nil {
			l.now = now
		}
	}
}

// WithoutAlerts makes the listener hand messages on without their Alert,
// for a consumer that forwards the bytes only (otbridge relay). Every
// message is still decoded and counted as an alert, not an alert or a
// decode error; only the Alert is not built for the consumer, which saves
// copying the message twice and allocating the Alert.
func WithoutAlerts() Option {
	return func(l *Listener) { l.noAlerts = true }
}

// New checks cfg (after WithDefaults), loads the TLS files and binds the
// socket, so Addr is known before Serve. log, if nil, discards. A Listener
// that is never served must be closed with Close.
func New(cfg Config, h bridge.Handler, log *slog.Logger, opts ...Option) (*Listener, error) {
	l, err := newListener(cfg, h, log, opts...)
	if err != nil {
		return nil, err
	}

	if l.cfg.Transport == TransportTLS {
		l.certs, err = newCertStore(l.cfg.TLS, l.now, l.log, l.warn)
		if err != nil {
			return nil, err
		}
	}

	if l.cfg.Transport == TransportUDP {
		addr, err := net.ResolveUDPAddr("udp", l.cfg.Address)
		if err != nil {
			return nil, err
		}
		l.udp, err = net.ListenUDP("udp", addr)
		if err != nil {
			return nil, err
		}
		if n := l.cfg.UDPReadBuffer; n > 0 {
			if err := l.udp.SetReadBuffer(n); err != nil {
				l.udp.Close()
				return nil, err
			}
		}
		return l, nil
	}
	l.stream, err = net.Listen("tcp", l.cfg.Address)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// newListener builds a Listener without a socket.
func newListener(cfg Config, h bridge.Handler, log *slog.Logger, opts ...Option) (*Listener, error) {
	cfg = cfg.WithDefaults()
	if ps := cfg.Validate(); len(ps) > 0 {
		return nil, problemsError(ps)
	}
	if h == nil {
		return nil, errors.New("cannot create listener without a handler")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	l := &Listener{
		cfg:  cfg,
		h:    h,
		log:  log.With("listener", cfg.Name, "transport", cfg.Transport),
		now:  time.Now,
		loc:  loc,
		rule: cfg.Rule.Ref(),
	}
	l.bh, _ = h.(bridge.BatchHandler)
	for _, o := range opts {
		o(l)
	}
	l.warn = newLimitedLog(l.log, l.now, warnEvery)
	return l, nil
}

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() net.Addr {
	if l.udp != nil {
		return l.udp.LocalAddr()
	}
	return l.stream.Addr()
}

// Stats returns the counters. They are read one after the other, so while
// messages flow the sums in Stats may be off by the messages in flight.
func (l *Listener) Stats() Stats { return l.stats.snapshot() }

// Reload re-reads the TLS certificate, key and client CA files; new
// connections use them, open ones keep theirs. When the files do not load
// it returns why and the current certificate stays in service. For udp and
// tcp listeners it does nothing.
func (l *Listener) Reload() error {
	if l.certs == nil {
		return nil
	}
	return l.certs.reload()
}

// Serve receives messages until ctx ends or Close is called, then closes
// the socket and every connection, waits for the connections' goroutines
// (and, for udp, for the queue to be handed on) and returns nil. A Handle
// call in progress sees its context end. Errors of the socket (out of file
// descriptors, say) are logged and retried, not returned. Serve returns an
// error only when the listener is already serving, or closed.
func (l *Listener) Serve(ctx context.Context) error {
	l.mu.Lock()
	if l.serving || l.closed {
		l.mu.Unlock()
		return errors.New("cannot serve: listener already served or closed")
	}
	l.serving = true
	ctx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	l.mu.Unlock()
	defer cancel()

	// Closing the socket is what ends the read or accept loop.
	stop := context.AfterFunc(ctx, func() { _ = l.closeSocket() })
	defer stop()
	defer l.closeSocket()

	args := []any{"address", l.Addr().String()}
	if l.rule != nil {
		args = append(args, "rule", l.rule.String())
	}
	if l.certs != nil {
		args = append(args, "tls_min_version", l.cfg.TLS.MinVersion, "mutual_tls", l.cfg.TLS.ClientCAFile != "")
	}
	l.log.Info("listener started", args...)
	var err error
	if l.udp != nil {
		err = l.serveUDP(ctx)
	} else {
		err = l.serveStream(ctx)
	}
	s := l.Stats()
	l.log.Info("listener stopped", "received", s.Received, "alerts", s.Alerts, "rejected", s.Rejected, "dropped", s.Dropped)
	return err
}

// Close closes the socket of a listener that is not served, or makes Serve
// return.
func (l *Listener) Close() error {
	l.mu.Lock()
	l.closed = true
	cancel := l.cancel
	l.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return l.closeSocket()
}

func (l *Listener) closeSocket() error {
	l.closeOnce.Do(func() {
		if l.udp != nil {
			l.closeErr = l.udp.Close()
		} else if l.stream != nil {
			l.closeErr = l.stream.Close()
		}
	})
	return l.closeErr
}

// decoder returns a decoder for one connection or read loop: decoders are
// not safe for concurrent use.
func (l *Listener) decoder() *legacy.MessageDecoder {
	return &legacy.MessageDecoder{
		Format:   legacy.FormatAuto,
		MaxSize:  l.cfg.MaxMessageSize,
		Location: l.loc,
		Now:      l.now,
	}
}

// kind is what a message turned out to be, for the counters.
type kind uint8

const (
	kindNotAlert kind = iota
	kindAlert
	kindDecodeError
)

// tally counts messages of each kind before they go to the counters, so
// that a batch of messages costs one update of each counter.
type tally struct {
	received, alerts, notAlerts, decodeErrors int64
}

func (t *tally) add(k kind) {
	t.received++
	switch k {
	case kindAlert:
		t.alerts++
	case kindNotAlert:
		t.notAlerts++
	case kindDecodeError:
		t.decodeErrors++
	}
}

// decode decodes one whole message read from peer and returns its kind
// and, when it is an alert and alerts are handed on, the alert. A message
// that fails to decode is logged; it still goes on, with no alert: the
// legacy path forwards what the sender sent.
func (l *Listener) decode(dec *legacy.MessageDecoder, raw []byte, peer string) (*bridge.Alert, kind) {
	var (
		a       *bridge.Alert
		isAlert bool
		err     error
	)
	if l.noAlerts {
		isAlert, err = dec.Classify(raw)
	} else {
		var dm *legacy.Message
		if dm, err = dec.Decode(raw); err == nil {
			a, isAlert = dm.Alert, dm.Alert != nil
		}
	}
	switch {
	case err != nil:
		l.warn.Log(slog.LevelWarn, "decode", "cannot decode message, handing it on as received", "peer", peer, "bytes", len(raw), "error", err)
		return nil, kindDecodeError
	case isAlert:
		return a, kindAlert
	}
	return nil, kindNotAlert
}

// message decodes one whole message read from peer, counts it, and builds
// its bridge message.
func (l *Listener) message(dec *legacy.MessageDecoder, raw []byte, peer string) *bridge.Message {
	a, k := l.decode(dec, raw, peer)
	var t tally
	t.add(k)
	l.stats.add(&t)
	return l.build(raw, peer, a, l.now())
}

// complete decodes the last bytes a sender wrote before closing the
// connection without a trailer and, when they decode as a complete
// message (a syslog header, or a CEF or LEEF event), returns their alert
// (nil when it is none or alerts are not handed on) and kind. ok is false
// otherwise.
func (l *Listener) complete(dec *legacy.MessageDecoder, partial []byte) (a *bridge.Alert, k kind, ok bool) {
	dm, err := dec.Decode(partial)
	if err != nil || (dm.Syslog == nil && dm.CEF == nil && dm.LEEF == nil) {
		return nil, 0, false
	}
	if dm.Alert == nil {
		return nil, kindNotAlert, true
	}
	if l.noAlerts {
		return nil, kindAlert, true
	}
	return dm.Alert, kindAlert, true
}

// build returns the bridge message of raw, received from peer at at.
func (l *Listener) build(raw []byte, peer string, a *bridge.Alert, at time.Time) *bridge.Message {
	m := &bridge.Message{Raw: raw, Listener: l.cfg.Name, Peer: peer, ReceivedAt: at, Alert: a}
	if a != nil {
		a.ReceivedAt = at
	}
	if l.rule != nil {
		r := *l.rule
		m.Rule = &r
	}
	return m
}

// handle hands m on, counting a refusal as a drop. It reports whether the
// Handler accepted m.
func (l *Listener) handle(ctx context.Context, m *bridge.Message) bool {
	err := l.h.Handle(ctx, m)
	if err == nil {
		return true
	}
	l.refused(ctx, m.Peer, err)
	return false
}

// handleBatch hands ms on, through HandleBatch when the Handler has it,
// counting refusals as drops. It reports whether the Handler accepted
// every message.
func (l *Listener) handleBatch(ctx context.Context, ms []bridge.Message) bool {
	if l.bh == nil {
		ok := true
		for i := range ms {
			// A Handler may keep the message, but not the batch.
			m := ms[i]
			ok = l.handle(ctx, &m) && ok
		}
		return ok
	}
	ok := true
	for i, err := range l.bh.HandleBatch(ctx, ms) {
		if err != nil {
			l.refused(ctx, ms[i].Peer, err)
			ok = false
		}
	}
	return ok
}

// refused counts and logs a message the Handler refused.
func (l *Listener) refused(ctx context.Context, peer string, err error) {
	l.stats.handlerErrors.Add(1)
	if ctx.Err() == nil {
		l.warn.Log(slog.LevelError, "handler", "message dropped: the consumer refused it", "peer", peer, "dropped", l.stats.handlerErrors.Load(), "error", err)
	}
}

// tooLarge counts a message over the size limit.
func (l *Listener) tooLarge(peer string, size int64) {
	l.stats.received.Add(1)
	l.stats.tooLarge.Add(1)
	l.warn.Log(slog.LevelWarn, "too_large", "message over the size limit, not forwarded", "peer", peer, "bytes", size, "max_message_size", l.cfg.MaxMessageSize)
}
