package forwarder

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/cef"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// waitLong bounds waits for what must happen; a test that reaches it has
// failed, so it is generous.
const waitLong = 30 * time.Second

// sensorLines returns n distinct CEF messages as a sensor sends them, with
// a <9> RFC 3164 header, about 400 bytes each. batch goes into the text.
func sensorLines(n int, batch string) [][]byte {
	enc := cef.Encoder{}
	base := time.Date(2026, 11, 30, 6, 17, 0, 0, time.UTC)
	lines := make([][]byte, n)
	for i := range lines {
		a := &bridge.Alert{
			Sensor:        "wtp-north-ot01",
			SensorVersion: "24.1.3",
			Title:         "Modbus Exception",
			Message: fmt.Sprintf("Slave 10.20.1.60 answered a Modbus request from 10.20.1.12 with exception code 2 "+
				"(illegal data address); %s message %d.", batch, i),
			Severity:    bridge.SeverityMajor,
			Engine:      bridge.EngineProtocolViolation,
			Protocol:    "Modbus",
			UUID:        fmt.Sprintf("2-%d", 1796019420000+int64(i)),
			DetectedAt:  base.Add(time.Duration(i) * time.Second),
			Source:      bridge.Endpoint{IP: "10.20.1.12", MAC: "00:1b:1b:aa:bb:cc"},
			Destination: bridge.Endpoint{IP: "10.20.1.60", MAC: "00:1b:1b:dd:ee:ff"},
			Category:    "Illegal Commands",
		}
		lines[i] = enc.AppendAlert(nil, a)
	}
	return lines
}

// receiver is a syslog collector on 127.0.0.1 that records every message
// it reads, over udp, tcp or tls (tcp with conf). It reads both framings.
type receiver struct {
	t       *testing.T
	network string
	conf    *tls.Config
	addr    string
	// closeAfter, if positive, makes the receiver reset its first
	// connection after reading that many messages from it.
	closeAfter int

	mu       sync.Mutex
	msgs     [][]byte
	framings []syslog.Framing
	conns    map[net.Conn]bool
	accepted int
	ln       net.Listener
	pc       net.PacketConn
	wg       sync.WaitGroup
}

func newReceiver(t *testing.T, network string, conf *tls.Config) *receiver {
	r := &receiver{t: t, network: network, conf: conf, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// freeAddr returns an address on 127.0.0.1 where nothing listens.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// start listens on the receiver's address: the same port again after
// stop.
func (r *receiver) start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.network == "udp" {
		pc, err := net.ListenPacket("udp", r.addr)
		if err != nil {
			r.t.Fatal(err)
		}
		// Room for a burst while the test is slow to read.
		_ = pc.(*net.UDPConn).SetReadBuffer(4 << 20)
		r.pc, r.addr = pc, pc.LocalAddr().String()
		r.wg.Add(1)
		go r.readPackets(pc)
		return
	}
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	if r.conf != nil {
		ln = tls.NewListener(ln, r.conf)
	}
	r.ln = ln
	r.wg.Add(1)
	go r.accept(ln)
}

// stop closes the listener and every connection, as a collector that goes
// down, and waits for the readers to end.
func (r *receiver) stop() {
	r.mu.Lock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	if r.pc != nil {
		r.pc.Close()
		r.pc = nil
	}
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *receiver) accept(ln net.Listener) {
	defer r.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns[c] = true
		r.accepted++
		first := r.accepted == 1
		r.mu.Unlock()
		r.wg.Add(1)
		go r.read(c, first)
	}
}

func (r *receiver) read(c net.Conn, first bool) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	sr := syslog.NewReader(c, 0)
	for n := 1; ; n++ {
		msg, err := sr.Next()
		if err != nil {
			return
		}
		r.record(msg, sr.Framing())
		if first && n == r.closeAfter {
			// Reset, discarding what is unread, as a collector that
			// fails.
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			if tc, ok := c.(*tls.Conn); ok {
				_ = tc.NetConn().(*net.TCPConn).SetLinger(0)
			}
			return
		}
	}
}

func (r *receiver) readPackets(pc net.PacketConn) {
	defer r.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		r.record(buf[:n], syslog.NonTransparent)
	}
}

func (r *receiver) record(msg []byte, f syslog.Framing) {
	r.mu.Lock()
	r.msgs = append(r.msgs, bytes.Clone(msg))
	r.framings = append(r.framings, f)
	r.mu.Unlock()
}

func (r *receiver) messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

// waitAll waits until every one of want has arrived at least once.
func (r *receiver) waitAll(want [][]byte) [][]byte {
	r.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		got := r.messages()
		seen := count(got)
		missing := 0
		for _, w := range want {
			if seen[string(w)] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d messages did not arrive within %v", missing, len(want), waitLong)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(msgs [][]byte) map[string]int {
	m := map[string]int{}
	for _, b := range msgs {
		m[string(b)]++
	}
	return m
}

// testConfig is a config for tests: quick reconnects.
func testConfig(addr, transport string) Config {
	return Config{
		Name:         "proxy-01",
		Address:      addr,
		Transport:    transport,
		ReconnectMin: 10 * time.Millisecond,
		ReconnectMax: 100 * time.Millisecond,
	}
}

// outcomes counts what a forwarder reported about each message.
type outcomes struct {
	mu        sync.Mutex
	delivered map[string]int
	dropped   map[string]int
}

func (o *outcomes) options() Options {
	o.delivered, o.dropped = map[string]int{}, map[string]int{}
	return Options{
		OnDelivered: func(m *bridge.Message) { o.note(o.delivered, m) },
		OnDropped:   func(m *bridge.Message) { o.note(o.dropped, m) },
	}
}

func (o *outcomes) note(into map[string]int, m *bridge.Message) {
	o.mu.Lock()
	into[string(m.Raw)]++
	o.mu.Unlock()
}

// running is a forwarder whose Run goroutine stop ends.
type running struct {
	*Forwarder
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func start(t *testing.T, cfg Config, log *slog.Logger, opts Options) *running {
	t.Helper()
	f, err := New(cfg, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Forwarder: f, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- f.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Run and waits for it to return; again, it does nothing.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitLong):
			t.Fatal("Run did not return")
		}
	})
}

func (r *running) handleAll(t *testing.T, lines [][]byte) {
	t.Helper()
	// One buffer for all, as a listener reuses its own: Handle must copy.
	var buf []byte
	for _, l := range lines {
		buf = append(buf[:0], l...)
		if err := r.Handle(context.Background(), &bridge.Message{Raw: buf, Listener: "test"}); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
	clear(buf)
}

// handleBatches hands lines on with HandleBatch, size at a time, from one
// reused buffer as a listener's connection does.
func (r *running) handleBatches(t *testing.T, lines [][]byte, size int) {
	t.Helper()
	var buf []byte
	ms := make([]bridge.Message, 0, size)
	for len(lines) > 0 {
		n := min(size, len(lines))
		buf, ms = buf[:0], ms[:0]
		for _, l := range lines[:n] {
			buf = append(buf, l...)
			ms = append(ms, bridge.Message{Raw: buf[len(buf)-len(l):], Listener: "test"})
		}
		if errs := r.HandleBatch(context.Background(), ms); errs != nil {
			t.Fatalf("HandleBatch: %v", errs)
		}
		clear(buf)
		lines = lines[n:]
	}
}

// logRecorder is an slog handler that keeps every record.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

// records returns the records with message msg.
func (h *logRecorder) records(msg string) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.recs {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

// waitRecords waits until there are at least n records with message msg.
func (h *logRecorder) waitRecords(t *testing.T, msg string, n int) []slog.Record {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		if rs := h.records(msg); len(rs) >= n {
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d log records %q within %v", n, msg, waitLong)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
