package listener

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// modbusAlert is a Defender for IoT alert as a sensor sends it.
const modbusAlert = "<9>Mar  4 09:15:02 plant-ot07 CEF:0|Microsoft Defender for IoT|plant-ot07|24.1.3|" +
	"Microsoft Defender for IoT Alert|Unauthorized Modbus Write|8|msg=Write to holding register from 10.1.2.3 " +
	"protocol=Modbus severity=Major type=Policy Violation start=Mar 04 2026 09:15:01 src_ip=10.1.2.3 dst_ip=10.1.2.9 " +
	"cat=Unauthorized Communication Behavior"

// plainSyslog is a message that is not an alert.
const plainSyslog = "<38>Mar  4 09:15:03 gw01 sshd[812]: session opened"

// brokenCEF fails to decode: its CEF header stops after three fields.
const brokenCEF = "<9>Mar  4 09:15:04 plant-ot07 CEF:0|Microsoft Defender for IoT|plant-ot07"

var testNow = time.Date(2026, 3, 4, 9, 15, 5, 0, time.UTC)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testNow} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a Handler that keeps a copy of every message.
type recorder struct {
	mu   sync.Mutex
	msgs []bridge.Message
}

func (r *recorder) Handle(_ context.Context, m *bridge.Message) error {
	c := *m
	c.Raw = bytes.Clone(m.Raw)
	r.mu.Lock()
	r.msgs = append(r.msgs, c)
	r.mu.Unlock()
	return nil
}

func (r *recorder) all() []bridge.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bridge.Message(nil), r.msgs...)
}

// wait returns the messages once there are at least n.
func (r *recorder) wait(t *testing.T, n int) []bridge.Message {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d messages", n), func() bool { return len(r.all()) >= n })
	return r.all()
}

func (r *recorder) raws() []string {
	var out []string
	for _, m := range r.all() {
		out = append(out, string(m.Raw))
	}
	return out
}

// waitFor polls cond until it holds. The deadline only keeps a broken
// test from hanging; no test depends on how long anything takes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// find returns the first line at level whose message contains msg and
// that has the keys, or nil.
func (l *logBuffer) find(level, msg string, keys ...string) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.SplitSeq(l.b.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["level"] != level || !strings.Contains(fmt.Sprint(rec["msg"]), msg) {
			continue
		}
		if !slices.ContainsFunc(keys, func(k string) bool { return rec[k] == nil }) {
			return rec
		}
	}
	return nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start serves a listener on 127.0.0.1:0 until the test ends.
func start(t *testing.T, cfg Config, h bridge.Handler, opts ...Option) (*Listener, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	l, err := New(cfg, h, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	return l, logs
}

// send writes data on a new TCP connection and closes it.
func send(t *testing.T, addr net.Addr, data string) {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, data); err != nil {
		t.Fatal(err)
	}
}

func octet(msg string) string { return fmt.Sprintf("%d %s", len(msg), msg) }

func TestListener_UDP(t *testing.T) {
	var rec recorder
	clock := newFakeClock()
	l, _ := start(t, Config{Transport: TransportUDP, Name: "udp-514", Rule: RuleBinding{Appliance: "plant-ot07", Rule: "to-sentinel"}},
		&rec, WithClock(clock.Now))

	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, msg := range []string{modbusAlert, plainSyslog} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
	}

	msgs := rec.wait(t, 2)
	m := msgs[0]
	if string(m.Raw) != modbusAlert || string(msgs[1].Raw) != plainSyslog {
		t.Errorf("raw = %q, %q", m.Raw, msgs[1].Raw)
	}
	if m.Listener != "udp-514" || m.Peer != c.LocalAddr().String() || !m.ReceivedAt.Equal(testNow) {
		t.Errorf("listener %q, peer %q (want %q), received at %v", m.Listener, m.Peer, c.LocalAddr(), m.ReceivedAt)
	}
	if m.Rule == nil || *m.Rule != (bridge.RuleRef{Appliance: "plant-ot07", Rule: "to-sentinel"}) {
		t.Errorf("rule = %v, want the bound rule", m.Rule)
	}
	if m.Alert == nil || m.Alert.Title != "Unauthorized Modbus Write" || !m.Alert.ReceivedAt.Equal(testNow) {
		t.Errorf("alert = %+v", m.Alert)
	}
	if msgs[1].Alert != nil {
		t.Errorf("plain syslog gave an alert")
	}
	if s := l.Stats(); s.Received != 2 || s.Alerts != 1 || s.NotAlerts != 1 || s.Rejected != 0 || s.Dropped != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestListener_TCPFramings(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"octet counted", octet(modbusAlert) + octet(plainSyslog), []string{modbusAlert, plainSyslog}},
		{"newline", modbusAlert + "\n" + plainSyslog + "\r\n", []string{modbusAlert, plainSyslog}},
		{"mixed", octet(modbusAlert) + plainSyslog + "\n" + octet(brokenCEF), []string{modbusAlert, plainSyslog, brokenCEF}},
		{"count includes LF", octet(modbusAlert+"\n") + octet(plainSyslog+"\n"), []string{modbusAlert, plainSyslog}},
		{"LF after counted message", octet(modbusAlert) + "\n" + octet(plainSyslog) + "\n", []string{modbusAlert, plainSyslog}},
		{"last line without LF", plainSyslog + "\n" + modbusAlert, []string{plainSyslog, modbusAlert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			l, _ := start(t, Config{Transport: TransportTCP, Rule: RuleBinding{Appliance: "a", Rule: "r"}}, &rec)
			send(t, l.Addr(), tt.input)
			rec.wait(t, len(tt.want))
			waitFor(t, "the connection to close", func() bool { return l.Stats().ConnectionsCurrent == 0 })

			if got := rec.raws(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("messages = %q, want %q", got, tt.want)
			}
			for _, m := range rec.all() {
				if m.Rule == nil || m.Rule.Rule != "r" || m.Listener != "test" || m.Peer == "" {
					t.Errorf("message %q: rule %v, listener %q, peer %q", m.Raw, m.Rule, m.Listener, m.Peer)
				}
			}
			if s := l.Stats(); s.Received != int64(len(tt.want)) || s.Truncated != 0 || s.ConnectionsTotal != 1 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestListener_bytesPassThrough(t *testing.T) {
	// NUL and LF end a newline-terminated message, so a message holding
	// them travels octet-counted over TCP, and as it is over UDP.
	msg := "<9>Mar  4 09:15:02 plant-ot07 caf\xe9 \x00 \xff\xfe line\nbreak \xc3\x28 end"
	for _, transport := range []string{TransportTCP, TransportUDP} {
		t.Run(transport, func(t *testing.T) {
			var rec recorder
			l, _ := start(t, Config{Transport: transport}, &rec)
			c, err := net.Dial(transport, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			data := msg
			if transport == TransportTCP {
				data = octet(msg)
			}
			if _, err := io.WriteString(c, data); err != nil {
				t.Fatal(err)
			}
			c.Close()
			if got := rec.wait(t, 1)[0].Raw; !bytes.Equal(got, []byte(msg)) {
				t.Errorf("raw = %q, want %q", got, msg)
			}
		})
	}
}

// batchRecorder is a BatchHandler that keeps a copy of every message it
// accepts and the size of every batch, and refuses the messages refuse
// returns an error for.
type batchRecorder struct {
	recorder
	refuse func(m *bridge.Message) error

	bmu     sync.Mutex
	batches []int
	singles int
}

func (r *batchRecorder) Handle(ctx context.Context, m *bridge.Message) error {
	r.bmu.Lock()
	r.singles++
	r.bmu.Unlock()
	return r.recorder.Handle(ctx, m)
}

func (r *batchRecorder) HandleBatch(ctx context.Context, ms []bridge.Message) []error {
	r.bmu.Lock()
	r.batches = append(r.batches, len(ms))
	r.bmu.Unlock()
	var errs []error
	for i := range ms {
		if r.refuse != nil {
			if err := r.refuse(&ms[i]); err != nil {
				if errs == nil {
					errs = make([]error, len(ms))
				}
				errs[i] = err
				continue
			}
		}
		_ = r.recorder.Handle(ctx, &ms[i])
	}
	return errs
}

func TestListener_readStream_batches(t *testing.T) {
	const n = 1000
	var in strings.Builder
	var want []string
	for i := range n {
		msg := fmt.Sprintf("%s %d", plainSyslog, i)
		if i%3 == 0 {
			msg = modbusAlert
		}
		want = append(want, msg)
		if i%2 == 0 {
			in.WriteString(octet(msg))
		} else {
			in.WriteString(msg + "\n")
		}
	}
	for _, oneByte := range []bool{false, true} {
		t.Run(fmt.Sprintf("one byte a read %v", oneByte), func(t *testing.T) {
			rec := &batchRecorder{}
			clock := newFakeClock()
			l, err := newListener(Config{Name: "batch", Address: "127.0.0.1:0", Transport: TransportTCP,
				Rule: RuleBinding{Appliance: "a", Rule: "r"}}, rec, nil, WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			var r io.Reader = strings.NewReader(in.String())
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			if err := l.readStream(context.Background(), r, "peer"); err != nil {
				t.Fatal(err)
			}

			if got := rec.raws(); !slices.Equal(got, want) {
				t.Fatalf("handed on %d messages, want %d in order", len(got), len(want))
			}
			for _, m := range rec.all() {
				if m.Listener != "batch" || m.Peer != "peer" || m.Rule == nil || m.Rule.Rule != "r" || !m.ReceivedAt.Equal(testNow) {
					t.Fatalf("message %+v", m)
				}
				if (m.Alert != nil) != (string(m.Raw) == modbusAlert) {
					t.Fatalf("alert %v for %q", m.Alert != nil, m.Raw)
				}
			}
			total := 0
			for _, b := range rec.batches {
				total += b
				if b > maxBatch || b == 0 {
					t.Errorf("a batch of %d messages, want 1 to %d", b, maxBatch)
				}
			}
			if total != n || rec.singles != 0 {
				t.Errorf("%d messages in batches and %d alone, want %d in batches", total, rec.singles, n)
			}
			// Read whole, the stream fills the framing buffer a few times:
			// as many batches. Read a byte at a time, each message goes
			// alone: it is handed on before the next read.
			if !oneByte && len(rec.batches) > 20 {
				t.Errorf("%d batches, want a few", len(rec.batches))
			}
			if oneByte && len(rec.batches) != n {
				t.Errorf("%d batches, want %d", len(rec.batches), n)
			}
			if s := l.Stats(); s.Received != n || s.Alerts != (n+2)/3 || s.NotAlerts != n-(n+2)/3 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestListener_batchRefused(t *testing.T) {
	rec := &batchRecorder{refuse: func(m *bridge.Message) error {
		if string(m.Raw) == plainSyslog {
			return errors.New("queue closed")
		}
		return nil
	}}
	l, logs := start(t, Config{Transport: TransportTCP}, rec)
	send(t, l.Addr(), plainSyslog+"\n"+modbusAlert+"\n"+plainSyslog+"\n")
	rec.wait(t, 1)
	waitFor(t, "two drops", func() bool { return l.Stats().HandlerErrors == 2 })
	if got := rec.raws(); len(got) != 1 || got[0] != modbusAlert {
		t.Errorf("accepted %q, want the alert only", got)
	}
	if s := l.Stats(); s.Dropped != 2 || s.Received != 3 {
		t.Errorf("stats = %+v", s)
	}
	if rec := logs.find("ERROR", "message dropped"); rec == nil || rec["error"] != "queue closed" {
		t.Errorf("Error line = %v in\n%s", rec, logs)
	}
}

func TestListener_WithoutAlerts(t *testing.T) {
	for _, transport := range []string{TransportTCP, TransportUDP} {
		t.Run(transport, func(t *testing.T) {
			var rec recorder
			l, _ := start(t, Config{Transport: transport}, &rec, WithoutAlerts())
			c, err := net.Dial(transport, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, msg := range []string{modbusAlert, plainSyslog, brokenCEF} {
				if transport == TransportTCP {
					msg += "\n"
				}
				if _, err := io.WriteString(c, msg); err != nil {
					t.Fatal(err)
				}
			}
			msgs := rec.wait(t, 3)
			for _, m := range msgs {
				if m.Alert != nil {
					t.Errorf("message %.30q handed on with an alert", m.Raw)
				}
			}
			if got := rec.raws(); !slices.Equal(got, []string{modbusAlert, plainSyslog, brokenCEF}) {
				t.Errorf("raws %q", got)
			}
			if s := l.Stats(); s.Received != 3 || s.Alerts != 1 || s.NotAlerts != 1 || s.DecodeErrors != 1 {
				t.Errorf("stats = %+v, want one alert, one not, one decode error", s)
			}
		})
	}
}

func TestListener_timezone(t *testing.T) {
	var rec recorder
	l, _ := start(t, Config{Transport: TransportTCP, Timezone: "Europe/Berlin"}, &rec, WithClock(newFakeClock().Now))
	send(t, l.Addr(), modbusAlert+"\n")
	a := rec.wait(t, 1)[0].Alert
	if want := time.Date(2026, 3, 4, 8, 15, 1, 0, time.UTC); a == nil || !a.DetectedAt.Equal(want) {
		t.Errorf("alert %+v, want detected at %v (09:15:01 in Berlin)", a, want)
	}
}

// TestListener_badInput sends each bad input on its own connection: it is
// counted, logged at Warn, and the next connection is served.
func TestListener_badInput(t *testing.T) {
	const max = 1024
	tests := []struct {
		name    string
		input   string
		counter func(Stats) int64
		warn    string
		// handed is what reaches the handler from the bad connection.
		handed []string
	}{
		{
			name:    "frame over the limit, connection goes on",
			input:   octet(strings.Repeat("x", 5000)) + plainSyslog + "\n",
			counter: func(s Stats) int64 { return s.TooLarge },
			warn:    "over the size limit",
			handed:  []string{plainSyslog},
		},
		{
			name:    "frame length far beyond the limit",
			input:   "9999999999 " + modbusAlert + "\n" + plainSyslog + "\n",
			counter: func(s Stats) int64 { return s.Truncated },
			warn:    "closed inside a message",
		},
		{
			name:    "never-ending line, then a message",
			input:   strings.Repeat("y", 1<<20) + "\n" + plainSyslog + "\n",
			counter: func(s Stats) int64 { return s.TooLarge },
			warn:    "over the size limit",
			handed:  []string{plainSyslog},
		},
		{
			name:    "never-ending line",
			input:   strings.Repeat("y", 1<<20),
			counter: func(s Stats) int64 { return s.Truncated },
			warn:    "closed inside a message",
		},
		{
			name:    "disconnect mid-frame",
			input:   plainSyslog + "\n" + octet(modbusAlert)[:100],
			counter: func(s Stats) int64 { return s.Truncated },
			warn:    "closed inside a message",
			handed:  []string{plainSyslog},
		},
		{
			name:    "last line without LF that is not a message",
			input:   "Mar  4 09:15:0",
			counter: func(s Stats) int64 { return s.Truncated },
			warn:    "closed inside a message",
		},
		{
			name:    "decode error is handed on",
			input:   brokenCEF + "\n",
			counter: func(s Stats) int64 { return s.DecodeErrors },
			warn:    "cannot decode message",
			handed:  []string{brokenCEF},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			l, logs := start(t, Config{Transport: TransportTCP, MaxMessageSize: max}, &rec)
			send(t, l.Addr(), tt.input)
			waitFor(t, "the bad connection to close", func() bool {
				s := l.Stats()
				return s.ConnectionsTotal == 1 && s.ConnectionsCurrent == 0
			})

			s := l.Stats()
			if tt.counter(s) != 1 || s.Rejected != 1 {
				t.Errorf("stats = %+v, want one rejection", s)
			}
			if s.Received != s.Alerts+s.NotAlerts+s.Rejected {
				t.Errorf("received %d != alerts %d + not alerts %d + rejected %d", s.Received, s.Alerts, s.NotAlerts, s.Rejected)
			}
			if logs.find("WARN", tt.warn) == nil {
				t.Errorf("no Warn line %q in\n%s", tt.warn, logs)
			}
			if got := rec.raws(); fmt.Sprint(got) != fmt.Sprint(tt.handed) {
				t.Errorf("handed on %.200q, want %q", got, tt.handed)
			}
			for _, m := range rec.all() {
				if m.Alert != nil {
					t.Errorf("message %q has an alert", m.Raw)
				}
			}

			send(t, l.Addr(), modbusAlert+"\n")
			msgs := rec.wait(t, len(tt.handed)+1)
			if last := msgs[len(msgs)-1]; string(last.Raw) != modbusAlert || last.Alert == nil {
				t.Errorf("next connection: %q, alert %v", last.Raw, last.Alert != nil)
			}
		})
	}
}

func TestListener_UDPTooLarge(t *testing.T) {
	var rec recorder
	l, logs := start(t, Config{Transport: TransportUDP, MaxMessageSize: 1024}, &rec)
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, msg := range []string{strings.Repeat("z", 1025), "", modbusAlert} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.wait(t, 1); string(got[0].Raw) != modbusAlert {
		t.Errorf("raw = %q", got[0].Raw)
	}
	if s := l.Stats(); s.TooLarge != 1 || s.Received != 2 {
		t.Errorf("stats = %+v, want one too large of two received (the empty datagram is ignored)", s)
	}
	if logs.find("WARN", "over the size limit") == nil {
		t.Errorf("no Warn line in\n%s", logs)
	}
}

// blocker is a Handler that blocks on its first message until released
// (or ctx ends) and counts the others.
type blocker struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	rec     recorder
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}), release: make(chan struct{})}
}

func (b *blocker) Handle(ctx context.Context, m *bridge.Message) error {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.entered)
		select {
		case <-b.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.rec.Handle(ctx, m)
}

func TestListener_backPressure(t *testing.T) {
	b := newBlocker()
	l, _ := start(t, Config{Transport: TransportTCP, MaxMessageSize: 1024, ReadBuffer: 4096}, b)

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	frame := []byte(octet(plainSyslog + strings.Repeat(".", 200)))
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
	<-b.entered

	// The handler holds the first message. The sender must block once the
	// framing buffer and both kernel buffers are full; the write deadline
	// only tells that it did.
	const limit = 64 << 20
	written := len(frame)
	for {
		if written > limit {
			t.Fatalf("wrote %d bytes while the handler blocked: the listener buffers without bound", written)
		}
		_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Write(frame)
		written += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("sender blocked after %d bytes (%d frames)", written, written/len(frame))
	if s := l.Stats(); s.Received != 1 {
		t.Errorf("read %d messages while the handler blocked on the first, want 1", s.Received)
	}

	// Released, the listener reads everything the sender wrote: the whole
	// frames, and the cut one as truncated.
	close(b.release)
	c.Close()
	whole := written / len(frame)
	b.rec.wait(t, whole)
	waitFor(t, "the connection to close", func() bool { return l.Stats().ConnectionsCurrent == 0 })
	s := l.Stats()
	cut := int64(0)
	if written%len(frame) != 0 {
		cut = 1
	}
	if s.NotAlerts != int64(whole) || s.Truncated != cut || s.Dropped != 0 {
		t.Errorf("stats = %+v, want %d messages and %d truncated", s, whole, cut)
	}
}

func TestListener_handlerRefuses(t *testing.T) {
	h := bridge.HandlerFunc(func(context.Context, *bridge.Message) error { return errors.New("queue closed") })
	l, logs := start(t, Config{Transport: TransportTCP}, h)
	send(t, l.Addr(), plainSyslog+"\n"+modbusAlert+"\n")
	waitFor(t, "two drops", func() bool { return l.Stats().HandlerErrors == 2 })
	if s := l.Stats(); s.Dropped != 2 || s.Received != 2 {
		t.Errorf("stats = %+v", s)
	}
	rec := logs.find("ERROR", "message dropped")
	if rec == nil || rec["error"] != "queue closed" || rec["dropped"] != 1.0 {
		t.Errorf("Error line = %v in\n%s", rec, logs)
	}
}

func TestListener_UDPQueueFull(t *testing.T) {
	b := newBlocker()
	l, logs := start(t, Config{Transport: TransportUDP, UDPQueue: 1}, b)
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, plainSyslog); err != nil {
		t.Fatal(err)
	}
	<-b.entered

	// The worker holds the first datagram: one more fits the queue, the
	// others are dropped (by the listener, or by the kernel if its buffer
	// overflowed).
	const n = 20
	for range n - 1 {
		if _, err := io.WriteString(c, plainSyslog); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every datagram accounted for", func() bool {
		s := l.Stats()
		return s.Received+s.SocketOverflow == n
	})
	close(b.release)
	b.rec.wait(t, 2)
	s := l.Stats()
	if s.QueueFull+s.SocketOverflow != n-2 || s.Dropped != n-2 {
		t.Errorf("stats = %+v, want %d dropped", s, n-2)
	}
	if got := len(b.rec.all()); got != 2 {
		t.Errorf("handed on %d datagrams, want 2", got)
	}
	if logs.find("ERROR", "datagram dropped") == nil {
		t.Errorf("no Error line in\n%s", logs)
	}
}

func TestListener_connectionLimit(t *testing.T) {
	var rec recorder
	l, logs := start(t, Config{Transport: TransportTCP, MaxConnections: 2, IdleTimeout: time.Hour}, &rec)

	var open []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	waitFor(t, "two connections", func() bool { return l.Stats().ConnectionsCurrent == 2 })

	over, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := over.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) || err == nil {
		t.Errorf("read on the third connection = %v, want it closed", err)
	}
	if s := l.Stats(); s.ConnectionsRefused != 1 || s.ConnectionsTotal != 2 {
		t.Errorf("stats = %+v", s)
	}
	waitFor(t, "a Warn line", func() bool { return logs.find("WARN", "connection refused") != nil })

	// A connection that closes makes room.
	open[0].Close()
	waitFor(t, "one connection", func() bool { return l.Stats().ConnectionsCurrent == 1 })
	send(t, l.Addr(), plainSyslog+"\n")
	rec.wait(t, 1)
}

func TestListener_idleTimeout(t *testing.T) {
	var rec recorder
	l, logs := start(t, Config{Transport: TransportTCP, IdleTimeout: 50 * time.Millisecond}, &rec)

	const n = 20
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	// The listener closes every idle connection: each read ends.
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) || err == nil {
			t.Fatalf("read = %v, want the connection closed", err)
		}
	}
	waitFor(t, "no connection", func() bool { return l.Stats().ConnectionsCurrent == 0 })
	if s := l.Stats(); s.ConnectionsTotal != n || s.ConnectionsRefused != 0 {
		t.Errorf("stats = %+v", s)
	}
	if logs.find("DEBUG", "idle connection closed") == nil {
		t.Errorf("no Debug line in\n%s", logs)
	}
	send(t, l.Addr(), plainSyslog+"\n")
	rec.wait(t, 1)
}

func TestListener_shutdown(t *testing.T) {
	b := newBlocker()
	l, err := New(Config{Name: "t", Address: "127.0.0.1:0", Transport: TransportTCP}, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()

	idle, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	send(t, l.Addr(), plainSyslog+"\n")
	<-b.entered
	waitFor(t, "two connections", func() bool { return l.Stats().ConnectionsCurrent == 2 })

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil after the context ended", err)
	}
	if s := l.Stats(); s.ConnectionsCurrent != 0 || s.HandlerErrors != 1 {
		t.Errorf("stats = %+v, want no connection and the blocked message dropped", s)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Error("the socket is still open")
	}
	if err := l.Serve(context.Background()); err == nil {
		t.Error("second Serve succeeded")
	}
}

func TestListener_Close(t *testing.T) {
	l, err := New(Config{Name: "t", Address: "127.0.0.1:0", Transport: TransportUDP}, &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Serve(context.Background()); err == nil {
		t.Error("Serve after Close succeeded")
	}
}

// pki is a test certificate authority.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial int64

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &pki{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.cert)
	return pool
}

// issue returns a PEM certificate and key for 127.0.0.1, for a server or
// a client, and the certificate's serial number.
func (p *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, sn int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), serial
}

func (p *pki) clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	certPEM, keyPEM, _ := p.issue(t, "sensor", x509.ExtKeyUsageClientAuth)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsSetup writes a server certificate of a new CA into dir and returns the
// listener's TLS settings.
func tlsSetup(t *testing.T, ca *pki) (TLSConfig, int64) {
	t.Helper()
	dir := t.TempDir()
	certPEM, keyPEM, sn := ca.issue(t, "otbridge", x509.ExtKeyUsageServerAuth)
	c := TLSConfig{CertificateFile: filepath.Join(dir, "server.crt"), KeyFile: filepath.Join(dir, "server.key")}
	writeFile(t, c.CertificateFile, certPEM)
	writeFile(t, c.KeyFile, keyPEM)
	return c, sn
}

// dialTLS connects, writes data unless it is empty, and returns the
// server certificate's serial number. A handshake error is returned.
func dialTLS(addr net.Addr, cfg *tls.Config, data string) (int64, error) {
	c, err := tls.Dial("tcp", addr.String(), cfg)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if data != "" {
		if _, err := io.WriteString(c, data); err != nil {
			return 0, err
		}
	}
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

func TestListener_TLS(t *testing.T) {
	ca := newPKI(t, "test ca")
	tc, _ := tlsSetup(t, ca)
	var rec recorder
	clock := newFakeClock()
	l, logs := start(t, Config{Transport: TransportTLS, TLS: tc}, &rec, WithClock(clock.Now))
	client := &tls.Config{RootCAs: ca.pool()}

	// A plain-text sender on the TLS port fails its handshake; the
	// listener goes on serving.
	send(t, l.Addr(), plainSyslog+"\n")
	waitFor(t, "a handshake failure", func() bool { return l.Stats().TLSHandshakeFailures == 1 })
	waitFor(t, "a Warn line", func() bool { return logs.find("WARN", "tls handshake failed") != nil })

	// TLS 1.1 is refused.
	if _, err := dialTLS(l.Addr(), &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, ""); err == nil {
		t.Error("a TLS 1.1 client was accepted")
	}
	waitFor(t, "a second handshake failure", func() bool { return l.Stats().TLSHandshakeFailures == 2 })

	// A sender that does not trust the listener's CA refuses it, and the
	// Warn line says what to fix and how many warnings it left out.
	clock.Advance(warnEvery)
	if _, err := dialTLS(l.Addr(), &tls.Config{RootCAs: newPKI(t, "other ca").pool()}, ""); err == nil {
		t.Error("a client trusting another CA was accepted")
	}
	waitFor(t, "a Warn line with a hint", func() bool { return logs.find("WARN", "tls handshake failed", "hint") != nil })
	if rec := logs.find("WARN", "tls handshake failed", "hint"); rec["suppressed"] != 1.0 {
		t.Errorf("Warn line = %v, want one warning suppressed", rec)
	}

	// A port probe that connects and closes tried no handshake.
	send(t, l.Addr(), "")
	waitFor(t, "the probe to close", func() bool { return l.Stats().ConnectionsTotal == 4 && l.Stats().ConnectionsCurrent == 0 })

	if _, err := dialTLS(l.Addr(), client, octet(modbusAlert)+plainSyslog+"\n"); err != nil {
		t.Fatal(err)
	}
	if got := rec.wait(t, 2); string(got[0].Raw) != modbusAlert || got[0].Alert == nil || string(got[1].Raw) != plainSyslog {
		t.Errorf("messages = %q", rec.raws())
	}
	if s := l.Stats(); s.Received != 2 || s.ConnectionsTotal != 5 || s.TLSHandshakeFailures != 3 {
		t.Errorf("stats = %+v", s)
	}
}

func TestListener_TLSHandshakeTimeout(t *testing.T) {
	tc, _ := tlsSetup(t, newPKI(t, "test ca"))
	tc.HandshakeTimeout = 50 * time.Millisecond
	l, logs := start(t, Config{Transport: TransportTLS, TLS: tc}, &recorder{})

	// A client that connects and says nothing is closed by the listener.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(c); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the listener kept a silent client past the handshake timeout")
	}
	waitFor(t, "a Warn line", func() bool { return logs.find("WARN", "tls handshake failed") != nil })
	if s := l.Stats(); s.TLSHandshakeFailures != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestListener_mutualTLS(t *testing.T) {
	ca := newPKI(t, "server ca")
	clients := newPKI(t, "sensor ca")
	stranger := newPKI(t, "other ca")
	tc, _ := tlsSetup(t, ca)
	tc.ClientCAFile = filepath.Join(t.TempDir(), "clients.pem")
	writeFile(t, tc.ClientCAFile, clients.pem)
	var rec recorder
	l, logs := start(t, Config{Transport: TransportTLS, TLS: tc}, &rec)

	refused := []struct {
		name  string
		certs []tls.Certificate
	}{
		{"no client certificate", nil},
		{"certificate of another CA", []tls.Certificate{stranger.clientCert(t)}},
	}
	for i, r := range refused {
		// With TLS 1.3 the client may finish its side before the server
		// refuses, so what counts is the listener's view.
		_, _ = dialTLS(l.Addr(), &tls.Config{RootCAs: ca.pool(), Certificates: r.certs}, plainSyslog+"\n")
		waitFor(t, r.name+" refused", func() bool { return l.Stats().TLSHandshakeFailures == int64(i+1) })
	}
	waitFor(t, "a Warn line", func() bool { return logs.find("WARN", "tls handshake failed") != nil })

	good := &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{clients.clientCert(t)}}
	if _, err := dialTLS(l.Addr(), good, modbusAlert+"\n"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, 1)
	waitFor(t, "the connections to close", func() bool { return l.Stats().ConnectionsCurrent == 0 })
	if got := rec.raws(); len(got) != 1 || got[0] != modbusAlert {
		t.Errorf("messages = %q, want only the authenticated client's", got)
	}
}

func TestListener_Reload(t *testing.T) {
	ca := newPKI(t, "test ca")
	tc, first := tlsSetup(t, ca)
	clock := newFakeClock()
	l, logs := start(t, Config{Transport: TransportTLS, TLS: tc}, &recorder{}, WithClock(clock.Now))
	client := &tls.Config{RootCAs: ca.pool()}

	serve := func() int64 {
		t.Helper()
		sn, err := dialTLS(l.Addr(), client, "")
		if err != nil {
			t.Fatal(err)
		}
		return sn
	}
	replace := func() int64 {
		certPEM, keyPEM, sn := ca.issue(t, "otbridge", x509.ExtKeyUsageServerAuth)
		writeFile(t, tc.CertificateFile, certPEM)
		writeFile(t, tc.KeyFile, keyPEM)
		return sn
	}
	if got := serve(); got != first {
		t.Fatalf("serial %d, want %d", got, first)
	}

	// Reload, as on SIGHUP.
	second := replace()
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := serve(); got != second {
		t.Errorf("after Reload: serial %d, want %d", got, second)
	}
	if logs.find("INFO", "tls certificate reloaded") == nil {
		t.Errorf("no Info line in\n%s", logs)
	}

	// Changed files are noticed by a handshake once the check interval
	// has passed.
	third := replace()
	later := time.Now().Add(time.Minute)
	for _, f := range []string{tc.CertificateFile, tc.KeyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if got := serve(); got != second {
		t.Errorf("before the check interval: serial %d, want still %d", got, second)
	}
	clock.Advance(certCheckEvery)
	if got := serve(); got != third {
		t.Errorf("after the files changed: serial %d, want %d", got, third)
	}

	// Files that do not load leave the certificate in service.
	writeFile(t, tc.KeyFile, []byte("not a key"))
	if err := l.Reload(); err == nil {
		t.Error("Reload of a broken key succeeded")
	}
	clock.Advance(certCheckEvery)
	if got := serve(); got != third {
		t.Errorf("after a broken key: serial %d, want %d", got, third)
	}
	if logs.find("WARN", "cannot reload tls certificate") == nil {
		t.Errorf("no Warn line in\n%s", logs)
	}
}

func TestNew_TLSFiles(t *testing.T) {
	ca := newPKI(t, "test ca")
	tc, _ := tlsSetup(t, ca)
	tc.ClientCAFile = filepath.Join(t.TempDir(), "empty.pem")
	writeFile(t, tc.ClientCAFile, nil)
	_, err := New(Config{Name: "t", Address: "127.0.0.1:0", Transport: TransportTLS, TLS: tc}, &recorder{}, nil)
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("New = %v, want the empty client CA file refused", err)
	}
	tc.ClientCAFile = ""
	tc.KeyFile = filepath.Join(t.TempDir(), "missing.key")
	if _, err := New(Config{Name: "t", Address: "127.0.0.1:0", Transport: TransportTLS, TLS: tc}, &recorder{}, nil); err == nil {
		t.Error("New with a missing key succeeded")
	}
}

func TestLimitedLog(t *testing.T) {
	logs := &logBuffer{}
	clock := newFakeClock()
	l := newLimitedLog(slog.New(slog.NewJSONHandler(logs, nil)), clock.Now, 10*time.Second)
	for range 3 {
		l.Log(slog.LevelWarn, "a", "problem a")
	}
	l.Log(slog.LevelWarn, "b", "problem b")
	clock.Advance(10 * time.Second)
	l.Log(slog.LevelWarn, "a", "problem a again")

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), logs)
	}
	if rec := logs.find("WARN", "problem a again"); rec == nil || rec["suppressed"] != 2.0 {
		t.Errorf("line after the interval = %v, want suppressed 2", rec)
	}
	if rec := logs.find("WARN", "problem b"); rec == nil || rec["suppressed"] != nil {
		t.Errorf("other kind = %v", rec)
	}
}

// TestListener_logger checks what util-linux logger sends.
func TestListener_logger(t *testing.T) {
	path, err := exec.LookPath("logger")
	if err != nil {
		if os.Getenv("OTBRIDGE_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("logger (util-linux) is required: %v", err)
		}
		t.Skip("logger (util-linux) is not installed; set OTBRIDGE_REQUIRE_INTEGRATION=1 to fail instead")
	}
	tests := []struct {
		name      string
		transport string
		args      []string
	}{
		{"udp", TransportUDP, []string{"--udp"}},
		{"tcp newline", TransportTCP, []string{"--tcp"}},
		{"tcp octet counting", TransportTCP, []string{"--tcp", "--octet-count"}},
		{"tcp rfc3164", TransportTCP, []string{"--tcp", "--rfc3164"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			l, _ := start(t, Config{Transport: tt.transport}, &rec)
			_, port, _ := net.SplitHostPort(l.Addr().String())
			body := "CEF:0|Microsoft Defender for IoT|plant-ot07|24.1.3|Microsoft Defender for IoT Alert|Test alert|4|msg=sent by logger"
			args := append(tt.args, "-n", "127.0.0.1", "-P", port, "-t", "sensor", body)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if out, err := exec.CommandContext(ctx, path, args...).CombinedOutput(); err != nil {
				t.Fatalf("logger %v: %v\n%s", args, err, out)
			}
			m := rec.wait(t, 1)[0]
			if !strings.HasSuffix(string(m.Raw), body) || m.Alert == nil || m.Alert.Title != "Test alert" {
				t.Errorf("raw %q, alert %+v", m.Raw, m.Alert)
			}
			if tt.transport == TransportTCP {
				waitFor(t, "the connection to close", func() bool { return l.Stats().ConnectionsCurrent == 0 })
			}
			if s := l.Stats(); s.Received != 1 || s.Rejected != 0 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}
