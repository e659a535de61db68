package forwarder

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/cef"
	"github.com/otbridge/otbridge/legacy/inventory"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// ErrClosed is returned by Handle once Run has stopped taking messages.
var ErrClosed = errors.New("forwarder closed")

// Options are the optional hooks of a Forwarder.
type Options struct {
	// OnDelivered is called once for every accepted message that the
	// forwarder has written and no longer holds for resending (see the
	// package comment), and OnDropped once for every accepted message it
	// gave up at shutdown. Together they account for every message Handle
	// accepted. Both are called from Run's goroutine, one message at a
	// time, and must return quickly; they may keep the message.
	OnDelivered func(m *bridge.Message)
	OnDropped   func(m *bridge.Message)
	// Now is the clock of the resend window and of the timestamps of
	// rendered alerts. If nil, time.Now.
	Now func() time.Time
	// Jitter returns a uniform random number in [0, n), to spread
	// reconnection attempts. If nil, math/rand.
	Jitter func(n int64) int64
}

// Stats counts what a Forwarder did since New.
type Stats struct {
	// Queued counts the messages Handle accepted.
	Queued uint64
	// Written counts the messages written at least once; Resent the
	// writes of a message again after its connection broke.
	Written uint64
	Resent  uint64
	// Delivered counts the messages written and let go (OnDelivered),
	// Dropped those given up at shutdown (OnDropped).
	Delivered uint64
	Dropped   uint64
	// FailedWrites counts writes that returned an error.
	FailedWrites uint64
	// Connects counts the connections opened, Reconnects those after the
	// first.
	Connects   uint64
	Reconnects uint64
}

// Forwarder sends messages to one CEF proxy over UDP, TCP or TLS. Handle
// and HandleBatch queue them; Run writes them, reconnecting when the
// connection breaks.
type Forwarder struct {
	cfg     Config
	opts    Options
	log     *slog.Logger
	enc     cef.Encoder
	tlsConf *tls.Config
	now     func() time.Time
	jitter  func(n int64) int64

	q       *queue
	started atomic.Bool

	stats struct {
		queued, written, resent, delivered, dropped atomic.Uint64
		failedWrites, connects, reconnects          atomic.Uint64
	}
}

// New returns the forwarder of cfg, which it completes with WithDefaults
// and validates. It reads the TLS files, but does not connect: Run does.
// log nil discards logs.
func New(cfg Config, log *slog.Logger, opts Options) (*Forwarder, error) {
	cfg = cfg.WithDefaults()
	if ps := cfg.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Field + ": " + p.Msg
		}
		return nil, fmt.Errorf("new legacy destination %q: %s", cfg.Name, strings.Join(msgs, "; "))
	}
	loc, err := inventory.LoadTimezone(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("new legacy destination %q: timezone: %w", cfg.Name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	// Over a stream a batch must fit in the resend window, with room for
	// another once a full window has let a quarter go. Over udp only its
	// size bounds a batch.
	maxMsgs := math.MaxInt
	if cfg.Transport != TransportUDP {
		maxMsgs = max(1, cfg.ResendLimit/4)
	}
	f := &Forwarder{
		cfg:    cfg,
		opts:   opts,
		log:    log.With("destination", cfg.Name),
		now:    opts.Now,
		jitter: opts.Jitter,
		q:      newQueue(cfg.QueueSize, maxMsgs),
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.jitter == nil {
		f.jitter = rand.Int64N
	}
	f.enc = cef.Encoder{Format: cfg.format(), Location: loc, Hostname: cfg.Hostname, Now: f.now}
	if cfg.Transport == TransportTLS {
		if f.tlsConf, err = clientTLS(cfg.TLS); err != nil {
			return nil, fmt.Errorf("new legacy destination %q: %w", cfg.Name, err)
		}
	}
	return f, nil
}

// Stats returns the counters. They are read one by one, not as a single
// snapshot.
func (f *Forwarder) Stats() Stats {
	s := &f.stats
	return Stats{
		Queued:       s.queued.Load(),
		Written:      s.written.Load(),
		Resent:       s.resent.Load(),
		Delivered:    s.delivered.Load(),
		Dropped:      s.dropped.Load(),
		FailedWrites: s.failedWrites.Load(),
		Connects:     s.connects.Load(),
		Reconnects:   s.reconnects.Load(),
	}
}

// Handle queues a copy of m for the proxy and returns; it implements
// bridge.Handler. A message that arrived as syslog (m.Raw, else
// m.Alert.Raw) is sent as exactly those bytes; an alert without them (from
// the REST API) is rendered as the CEF message the sensor sends, with a
// syslog header in SyslogFormat.
//
// Handle blocks while the queue is full, until there is room or ctx ends.
// It returns ErrClosed once Run has stopped, ctx.Err() when ctx ended
// first, and an error for a message that cannot be sent at all (neither
// bytes nor alert, or too long for a UDP datagram).
func (f *Forwarder) Handle(ctx context.Context, m *bridge.Message) error {
	f.q.mu.Lock()
	defer f.q.mu.Unlock()
	err := f.put(ctx, m)
	if err == nil {
		f.stats.queued.Add(1)
	}
	return err
}

// HandleBatch is Handle for each message of ms, in order, taking the
// queue's lock once rather than once per message; it implements
// bridge.BatchHandler. Once ctx ends or Run stops while it waits for room,
// the rest of ms is refused too, so that what was accepted has no gaps.
func (f *Forwarder) HandleBatch(ctx context.Context, ms []bridge.Message) []error {
	var (
		errs   []error
		stop   error
		queued int
	)
	f.q.mu.Lock()
	defer f.q.mu.Unlock()
	for i := range ms {
		err := stop
		if err == nil {
			err = f.put(ctx, &ms[i])
		}
		if err == nil {
			queued++
			continue
		}
		if errors.Is(err, ErrClosed) || err == ctx.Err() {
			stop = err
		}
		if errs == nil {
			errs = make([]error, len(ms))
		}
		errs[i] = err
	}
	f.stats.queued.Add(uint64(queued))
	return errs
}

// put appends m, framed, to the open batch of the queue, waiting for room
// first. f.q.mu is held, and released while it waits.
func (f *Forwarder) put(ctx context.Context, m *bridge.Message) error {
	raw := m.Raw
	if len(raw) == 0 && m.Alert != nil {
		raw = m.Alert.Raw
	}
	var body []byte
	switch {
	case len(raw) > 0:
		body = raw
	case m.Alert != nil:
		body = f.enc.AppendAlert(nil, m.Alert)
	default:
		return errors.New("cannot forward a message with neither bytes nor alert")
	}
	if f.cfg.Transport == TransportUDP && len(body) > MaxDatagram {
		return fmt.Errorf("cannot send a message of %d bytes over udp: at most %d fit in a datagram", len(body), MaxDatagram)
	}
	if err := f.q.waitRoom(ctx); err != nil {
		return err
	}

	b := f.q.open()
	b.buf, _ = appendFrame(b.buf, f.cfg.Transport, f.cfg.framing(), body)
	b.ends = append(b.ends, len(b.buf))
	if f.opts.OnDelivered != nil || f.opts.OnDropped != nil {
		b.msgs = append(b.msgs, keep(m, body))
	}
	f.q.added(1)
	return nil
}

// keep returns the copy of m that the callbacks see: it shares nothing
// with m, and the alert's Raw shares the message's when they are equal.
func keep(m *bridge.Message, body []byte) *bridge.Message {
	cp := *m
	if len(m.Raw) > 0 {
		cp.Raw = bytes.Clone(body)
	}
	if m.Alert != nil {
		a := *m.Alert
		switch {
		case len(a.Raw) == 0:
		case cp.Raw != nil && bytes.Equal(a.Raw, cp.Raw):
			a.Raw = cp.Raw
		default:
			a.Raw = bytes.Clone(a.Raw)
		}
		cp.Alert = &a
	}
	return &cp
}

// appendFrame appends msg to dst as transport carries it and returns the
// extended slice with the offset of msg in it. Over udp a datagram is the
// message. Over tcp and tls, newline framing writes "MSG LF" except for a
// message that would not reach the proxy whole that way: one holding an LF,
// which would end it early, or starting with a digit, which a collector
// reads as an octet count. Those go octet-counted, which collectors that
// accept both framings (rsyslog's imtcp, otbridge's listener) recognise
// message by message.
func appendFrame(dst []byte, transport string, framing syslog.Framing, msg []byte) ([]byte, int) {
	if transport == TransportUDP {
		return append(dst, msg...), len(dst)
	}
	if framing == syslog.NonTransparent && !fitsNewline(msg) {
		framing = syslog.OctetCounting
	}
	dst = syslog.AppendFrame(dst, framing, msg)
	if framing == syslog.NonTransparent {
		return dst, len(dst) - 1 - len(msg)
	}
	return dst, len(dst) - len(msg)
}

// fitsNewline reports whether newline framing carries msg intact.
func fitsNewline(msg []byte) bool {
	if len(msg) > 0 && msg[0] >= '0' && msg[0] <= '9' {
		return false
	}
	return bytes.IndexByte(msg, '\n') < 0
}

// Run writes the queued messages to the proxy until ctx ends: it connects,
// writes, and when the connection breaks it reconnects after a capped,
// jittered backoff and writes again what the broken connection may have
// lost, before anything newer. When ctx ends it stops taking messages,
// goes on writing what it holds for at most DrainTimeout, closes the
// connection in an orderly way, and drops, logs and counts whatever is left.
// It returns nil then; shutdown is not an error. Run may be called once.
func (f *Forwarder) Run(ctx context.Context) error {
	if !f.started.CompareAndSwap(false, true) {
		return errors.New("cannot run a forwarder twice")
	}
	w := f.newWriter()
	w.run(ctx)

	f.stopTaking()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.DrainTimeout)
	defer cancel()
	w.drain(dctx)
	w.abandon()
	return nil
}

// stopTaking makes Handle refuse messages and wakes those waiting for
// room; once it returns, no message can join the queue.
func (f *Forwarder) stopTaking() { f.q.close() }
