package forwarder

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/rsyslogtest"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// checkExact fails unless got holds exactly want, in order, each once.
func checkExact(t *testing.T, got, want [][]byte) {
	t.Helper()
	if slices.EqualFunc(got, want, bytes.Equal) {
		return
	}
	t.Errorf("received %d messages, want %d in order", len(got), len(want))
	for i := range min(len(got), len(want)) {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("first difference at %d:\n got %q\nwant %q", i, got[i], want[i])
			break
		}
	}
}

// checkReported fails unless every one of lines was reported delivered
// exactly once and none dropped.
func checkReported(t *testing.T, o *outcomes, lines [][]byte) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.delivered) != len(lines) || len(o.dropped) != 0 {
		t.Errorf("%d messages reported delivered, %d dropped; want %d and 0", len(o.delivered), len(o.dropped), len(lines))
	}
	for _, l := range lines {
		if n := o.delivered[string(l)]; n != 1 {
			t.Errorf("message reported delivered %d times, want once: %.60q", n, l)
			return
		}
	}
}

func TestForwarder_stream(t *testing.T) {
	certs, err := rsyslogtest.WriteCerts(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		transport  string
		framing    string
		clientCert bool
	}{
		{"tcp newline", TransportTCP, FramingNewline, false},
		{"tcp octet-counting", TransportTCP, FramingOctetCounting, false},
		{"tls newline", TransportTLS, FramingNewline, false},
		{"tls octet-counting with client certificate", TransportTLS, FramingOctetCounting, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *receiver
			cfg := testConfig("", tc.transport)
			cfg.Framing = tc.framing
			if tc.transport == TransportTLS {
				conf, err := certs.ServerTLS(tc.clientCert)
				if err != nil {
					t.Fatal(err)
				}
				r = newReceiver(t, "tcp", conf)
				cfg.TLS.CAFile = certs.CAFile
				if tc.clientCert {
					cfg.TLS.CertificateFile, cfg.TLS.KeyFile = certs.ClientCertFile, certs.ClientKeyFile
				}
			} else {
				r = newReceiver(t, "tcp", nil)
			}
			cfg.Address = r.addr

			var o outcomes
			f := start(t, cfg, nil, o.options())
			lines := sensorLines(300, tc.name)
			f.handleAll(t, lines)
			r.waitAll(lines)
			f.stop(t)

			checkExact(t, r.messages(), lines)
			wantFraming := syslog.NonTransparent
			if tc.framing == FramingOctetCounting {
				wantFraming = syslog.OctetCounting
			}
			r.mu.Lock()
			for i, fr := range r.framings {
				if fr != wantFraming {
					t.Errorf("message %d arrived %v, want %v", i, fr, wantFraming)
					break
				}
			}
			r.mu.Unlock()
			// The orderly close confirms the whole window.
			checkReported(t, &o, lines)
			want := Stats{Queued: 300, Written: 300, Delivered: 300, Connects: 1}
			if got := f.Stats(); got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
		})
	}
}

func TestForwarder_udp(t *testing.T) {
	r := newReceiver(t, "udp", nil)
	var o outcomes
	f := start(t, testConfig(r.addr, TransportUDP), nil, o.options())
	lines := sensorLines(200, "udp")
	f.handleAll(t, lines)
	r.waitAll(lines)
	f.stop(t)

	checkExact(t, r.messages(), lines)
	checkReported(t, &o, lines)
	if s := f.Stats(); s.Written != 200 || s.Delivered != 200 || s.Resent != 0 {
		t.Errorf("stats %+v, want 200 written and delivered, none resent", s)
	}
}

func TestForwarder_receiverResetsMidStream(t *testing.T) {
	r := newReceiver(t, "tcp", nil)
	r.closeAfter = 40
	var o outcomes
	f := start(t, testConfig(r.addr, TransportTCP), nil, o.options())
	lines := sensorLines(300, "reset")
	f.handleAll(t, lines)
	got := r.waitAll(lines)
	f.stop(t)

	// Every message arrived; those the first connection carried may have
	// arrived twice, and nothing else did.
	seen := count(got)
	for _, l := range lines {
		delete(seen, string(l))
	}
	if len(seen) > 0 {
		t.Errorf("%d unexpected messages arrived", len(seen))
	}
	s := f.Stats()
	if s.Reconnects < 1 || s.Resent < 1 {
		t.Errorf("stats %+v, want a reconnect and resent messages", s)
	}
	if s.Written != 300 || s.Delivered != 300 || s.Dropped != 0 {
		t.Errorf("stats %+v, want 300 written and delivered, none dropped", s)
	}
	checkReported(t, &o, lines)
}

func TestForwarder_receiverDownAndBack(t *testing.T) {
	for _, transport := range []string{TransportTCP, TransportTLS} {
		t.Run(transport, func(t *testing.T) {
			var r *receiver
			cfg := testConfig("", transport)
			if transport == TransportTLS {
				certs, err := rsyslogtest.WriteCerts(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				conf, err := certs.ServerTLS(false)
				if err != nil {
					t.Fatal(err)
				}
				r = newReceiver(t, "tcp", conf)
				cfg.TLS.CAFile = certs.CAFile
			} else {
				r = newReceiver(t, "tcp", nil)
			}
			cfg.Address = r.addr
			rec := &logRecorder{}
			var o outcomes
			f := start(t, cfg, slog.New(rec), o.options())

			before := sensorLines(100, "before")
			f.handleAll(t, before)
			r.waitAll(before)

			r.stop()
			during := sensorLines(100, "during")
			f.handleAll(t, during)
			// The forwarder finds the receiver gone before it comes back.
			rec.waitRecords(t, "cannot connect", 1)
			n := len(r.messages())
			r.start()
			r.waitAll(during)
			f.stop(t)

			got := r.messages()
			after := count(got[n:])
			for _, l := range during {
				if c := after[string(l)]; c != 1 {
					t.Fatalf("message accepted while the receiver was down arrived %d times: %.60q", c, l)
				}
			}
			// Only messages of before may arrive again: they were in the
			// resend window when the connection broke.
			for _, l := range append(slices.Clone(before), during...) {
				delete(after, string(l))
			}
			if len(after) > 0 {
				t.Errorf("%d unexpected messages arrived", len(after))
			}
			checkReported(t, &o, append(before, during...))
		})
	}
}

func TestForwarder_Handle_blocksWhenQueueFull(t *testing.T) {
	cfg := testConfig(freeAddr(t), TransportTCP)
	cfg.QueueSize = 2
	f, err := New(cfg, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := f.Handle(context.Background(), &bridge.Message{Raw: []byte("<9>x")}); err != nil {
			t.Fatalf("Handle %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Handle(ctx, &bridge.Message{Raw: []byte("<9>x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Handle on a full queue = %v, want context.Canceled", err)
	}
	if s := f.Stats(); s.Queued != 2 {
		t.Errorf("queued %d, want 2", s.Queued)
	}
}

func TestForwarder_HandleBatch(t *testing.T) {
	for _, transport := range []string{TransportTCP, TransportUDP} {
		t.Run(transport, func(t *testing.T) {
			r := newReceiver(t, transport, nil)
			var o outcomes
			f := start(t, testConfig(r.addr, transport), nil, o.options())
			lines := sensorLines(1000, "batch "+transport)
			f.handleBatches(t, lines[:700], 256)
			f.handleAll(t, lines[700:710])
			f.handleBatches(t, lines[710:], 7)
			r.waitAll(lines)
			f.stop(t)

			checkExact(t, r.messages(), lines)
			checkReported(t, &o, lines)
			if s := f.Stats(); s.Queued != 1000 || s.Written != 1000 || s.Delivered != 1000 || s.Resent != 0 {
				t.Errorf("stats %+v, want 1000 queued, written and delivered", s)
			}
		})
	}
}

func TestForwarder_HandleBatch_refuses(t *testing.T) {
	f, err := New(testConfig("127.0.0.1:514", TransportUDP), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ok := []byte("<9>Nov 30 06:17:00 ot01 fine")
	ms := []bridge.Message{
		{Raw: ok},
		{Raw: bytes.Repeat([]byte("a"), MaxDatagram+1)},
		{Listener: "nothing to send"},
		{Raw: ok},
	}
	errs := f.HandleBatch(context.Background(), ms)
	if len(errs) != 4 || errs[0] != nil || errs[1] == nil || errs[2] == nil || errs[3] != nil {
		t.Fatalf("HandleBatch = %v, want errors for the second and third only", errs)
	}
	if errs := f.HandleBatch(context.Background(), ms[:1]); errs != nil {
		t.Errorf("HandleBatch of a good message = %v, want nil", errs)
	}
	if s := f.Stats(); s.Queued != 3 {
		t.Errorf("queued %d, want 3", s.Queued)
	}
}

func TestForwarder_HandleBatch_stopsAtFullQueue(t *testing.T) {
	cfg := testConfig(freeAddr(t), TransportTCP)
	cfg.QueueSize = 2
	cfg.DrainTimeout = 50 * time.Millisecond
	f, err := New(cfg, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ms := make([]bridge.Message, 4)
	for i := range ms {
		ms[i].Raw = []byte("<9>x")
	}
	// Room for two: the third finds the queue full and ctx ended, and the
	// fourth is refused with it even though it might have fitted later.
	errs := f.HandleBatch(ctx, ms)
	if len(errs) != 4 || errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], context.Canceled) || !errors.Is(errs[3], context.Canceled) {
		t.Errorf("HandleBatch = %v, want the last two refused with context.Canceled", errs)
	}
	if s := f.Stats(); s.Queued != 2 {
		t.Errorf("queued %d, want 2", s.Queued)
	}

	// Once Run has stopped, everything is refused.
	if err := f.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for i, err := range f.HandleBatch(context.Background(), ms) {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("message %d after Run: %v, want ErrClosed", i, err)
		}
	}
}

func TestForwarder_HandleBatch_waitsForRoom(t *testing.T) {
	r := newReceiver(t, "tcp", nil)
	cfg := testConfig(r.addr, TransportTCP)
	cfg.QueueSize = 3
	f := start(t, cfg, nil, Options{})
	// Batches larger than the queue go through as the writer makes room.
	lines := sensorLines(100, "small queue")
	f.handleBatches(t, lines, 10)
	r.waitAll(lines)
	f.stop(t)
	checkExact(t, r.messages(), lines)
}

func TestForwarder_smallResendLimit(t *testing.T) {
	// A window of 8 messages takes batches of at most 2, and a full window
	// lets acknowledged ones go to make room for the next: nothing stalls,
	// nothing is lost.
	r := newReceiver(t, "tcp", nil)
	cfg := testConfig(r.addr, TransportTCP)
	cfg.ResendLimit = 8
	var o outcomes
	f := start(t, cfg, nil, o.options())
	lines := sensorLines(2000, "small window")
	f.handleBatches(t, lines, 100)
	r.waitAll(lines)
	f.stop(t)
	checkExact(t, r.messages(), lines)
	checkReported(t, &o, lines)
}

func TestForwarder_deliveredKeepTheirBytes(t *testing.T) {
	// Batches are reused once delivered: the messages the callbacks kept
	// must not change with them.
	r := newReceiver(t, "tcp", nil)
	cfg := testConfig(r.addr, TransportTCP)
	cfg.ResendLimit = 40
	var mu sync.Mutex
	var kept []*bridge.Message
	f := start(t, cfg, nil, Options{OnDelivered: func(m *bridge.Message) {
		mu.Lock()
		kept = append(kept, m)
		mu.Unlock()
	}})
	lines := sensorLines(3000, "kept")
	f.handleBatches(t, lines, 50)
	r.waitAll(lines)
	f.stop(t)

	mu.Lock()
	defer mu.Unlock()
	got := make([][]byte, len(kept))
	for i, m := range kept {
		got[i] = m.Raw
	}
	checkExact(t, got, lines)
}

func TestForwarder_Run_dropsWhatItCannotDeliver(t *testing.T) {
	cfg := testConfig(freeAddr(t), TransportTCP)
	cfg.DrainTimeout = 100 * time.Millisecond
	rec := &logRecorder{}
	var o outcomes
	f := start(t, cfg, slog.New(rec), o.options())
	lines := sensorLines(3, "dropped")
	f.handleAll(t, lines)
	f.stop(t)

	if err := f.Handle(context.Background(), &bridge.Message{Raw: lines[0]}); !errors.Is(err, ErrClosed) {
		t.Errorf("Handle after Run = %v, want ErrClosed", err)
	}
	if s := f.Stats(); s.Dropped != 3 || s.Delivered != 0 {
		t.Errorf("stats %+v, want 3 dropped", s)
	}
	o.mu.Lock()
	for _, l := range lines {
		if o.dropped[string(l)] != 1 {
			t.Errorf("message reported dropped %d times, want once", o.dropped[string(l)])
		}
	}
	o.mu.Unlock()
	rs := rec.records("messages dropped at shutdown")
	if len(rs) != 1 || rs[0].Level != slog.LevelError || attr(rs[0], "count").Int64() != 3 {
		t.Errorf("log records %v, want one Error with count 3", rs)
	}
}

func TestForwarder_logsFailuresOnce(t *testing.T) {
	addr := freeAddr(t)
	clk := &clock{now: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)}
	rec := &logRecorder{}
	f := start(t, testConfig(addr, TransportTCP), slog.New(rec), Options{Now: clk.Now})

	fails := rec.waitRecords(t, "cannot connect", 3)
	warns := 0
	for _, r := range fails {
		if r.Level == slog.LevelWarn {
			warns++
		}
	}
	if warns != 1 {
		t.Errorf("%d of %d connection failures logged at Warn, want the first only", warns, len(fails))
	}

	r := &receiver{t: t, network: "tcp", addr: addr, conns: map[net.Conn]bool{}}
	r.start()
	t.Cleanup(r.stop)
	deadline := time.Now().Add(waitLong)
	for f.Stats().Connects == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
	clk.advance(stableAfter)
	rs := rec.waitRecords(t, "recovered after failures", 1)
	if rs[0].Level != slog.LevelInfo || attr(rs[0], "failures").Int64() < 3 {
		t.Errorf("recovery logged as %v %v, want Info with at least 3 failures", rs[0].Level, attr(rs[0], "failures"))
	}
	f.stop(t)
	if n := len(rec.records("recovered after failures")); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
}

func TestForwarder_apiAlert(t *testing.T) {
	alert := &bridge.Alert{
		Origin:        bridge.OriginSensorAPI,
		Sensor:        "wtp-north-ot01",
		SensorVersion: "24.1.3",
		Title:         "Unauthorized PLC Program Upload",
		Message:       "Unauthorized upload from 10.20.1.12 to PLC 10.20.1.60",
		Severity:      bridge.SeverityCritical,
		Engine:        bridge.EnginePolicyViolation,
		DetectedAt:    time.Date(2026, 11, 30, 6, 17, 0, 0, time.UTC),
		Source:        bridge.Endpoint{IP: "10.20.1.12"},
		Destination:   bridge.Endpoint{IP: "10.20.1.60"},
	}
	const cefPart = "CEF:0|Microsoft Defender for IoT|wtp-north-ot01|24.1.3|Microsoft Defender for IoT Alert|" +
		"Unauthorized PLC Program Upload|10|msg=Unauthorized upload from 10.20.1.12 to PLC 10.20.1.60 " +
		"severity=Critical type=Policy Violation start=Nov 30 2026 07:17:00 src_ip=10.20.1.12 dst_ip=10.20.1.60"
	for _, tc := range []struct {
		name   string
		format string
		host   string
		want   string
	}{
		{"rfc3164 default", "", "", "<9>Nov 30 07:17:00 wtp-north-ot01 " + cefPart},
		{"rfc5424 with hostname", FormatRFC5424, "otbridge-01", "<9>1 2026-11-30T07:17:00.000+01:00 otbridge-01 - - - - " + cefPart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, "tcp", nil)
			cfg := testConfig(r.addr, TransportTCP)
			cfg.SyslogFormat, cfg.Hostname, cfg.Timezone = tc.format, tc.host, "UTC+01:00"
			var o outcomes
			f := start(t, cfg, nil, o.options())
			if err := f.Handle(context.Background(), &bridge.Message{Alert: alert}); err != nil {
				t.Fatal(err)
			}
			r.waitAll([][]byte{[]byte(tc.want)})
			f.stop(t)
			checkExact(t, r.messages(), [][]byte{[]byte(tc.want)})
			// An API alert has no raw bytes to report.
			o.mu.Lock()
			if o.delivered[""] != 1 {
				t.Errorf("delivered %v, want the alert once", o.delivered)
			}
			o.mu.Unlock()
		})
	}
}

func TestForwarder_alertRawWithoutMessageRaw(t *testing.T) {
	r := newReceiver(t, "tcp", nil)
	f := start(t, testConfig(r.addr, TransportTCP), nil, Options{})
	raw := sensorLines(1, "alert raw")[0]
	if err := f.Handle(context.Background(), &bridge.Message{Alert: &bridge.Alert{Title: "ignored", Raw: raw}}); err != nil {
		t.Fatal(err)
	}
	r.waitAll([][]byte{raw})
	f.stop(t)
	checkExact(t, r.messages(), [][]byte{raw})
}

func TestForwarder_newlineFramingFallsBack(t *testing.T) {
	r := newReceiver(t, "tcp", nil)
	f := start(t, testConfig(r.addr, TransportTCP), nil, Options{})
	lines := [][]byte{
		[]byte("<9>Nov 30 06:17:00 ot01 plain"),
		[]byte("<9>Nov 30 06:17:00 ot01 first line\nsecond line"),
		[]byte("2026 starts with a digit"),
		[]byte("<9>Nov 30 06:17:00 ot01 plain again"),
	}
	f.handleAll(t, lines)
	r.waitAll(lines)
	f.stop(t)

	checkExact(t, r.messages(), lines)
	want := []syslog.Framing{syslog.NonTransparent, syslog.OctetCounting, syslog.OctetCounting, syslog.NonTransparent}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Equal(r.framings, want) {
		t.Errorf("framings %v, want %v", r.framings, want)
	}
}

func TestForwarder_Handle_refuses(t *testing.T) {
	udp, err := New(testConfig("127.0.0.1:514", TransportUDP), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    *bridge.Message
		want string
	}{
		{"nothing to send", &bridge.Message{Listener: "x"}, "neither bytes nor alert"},
		{"over a datagram", &bridge.Message{Raw: bytes.Repeat([]byte("a"), MaxDatagram+1)}, "at most 65507"},
	} {
		err := udp.Handle(context.Background(), tc.m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Handle = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if s := udp.Stats(); s.Queued != 0 {
		t.Errorf("queued %d, want 0", s.Queued)
	}
}

func TestForwarder_Run_once(t *testing.T) {
	f, err := New(testConfig(freeAddr(t), TransportTCP), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Run(ctx); err != nil {
		t.Fatalf("Run with nothing to do = %v", err)
	}
	if err := f.Run(context.Background()); err == nil {
		t.Error("second Run returned nil, want an error")
	}
}

func TestNew_errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"invalid", Config{Name: "p", Address: "nowhere"}, `new legacy destination "p": address:`},
		{"missing ca", Config{Name: "p", Address: "127.0.0.1:6514", Transport: TransportTLS, TLS: TLSConfig{CAFile: "/nonexistent/ca.pem"}}, "read tls.ca_file"},
	} {
		_, err := New(tc.cfg, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
