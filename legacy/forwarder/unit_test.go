package forwarder

import (
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/legacy/syslog"
)

func TestConfig_WithDefaults(t *testing.T) {
	got := Config{Name: "p", Address: "proxy.corp.example:6514", Transport: TransportTLS}.WithDefaults()
	want := Config{
		Name: "p", Address: "proxy.corp.example:6514", Transport: TransportTLS,
		Framing:      FramingNewline,
		TLS:          TLSConfig{ServerName: "proxy.corp.example"},
		SyslogFormat: FormatRFC3164,
		Timezone:     "UTC",
		DialTimeout:  5 * time.Second, WriteTimeout: 10 * time.Second,
		ReconnectMin: time.Second, ReconnectMax: 30 * time.Second,
		QueueSize: 10000, ResendWindow: 5 * time.Second, ResendLimit: 10000,
		DrainTimeout: 10 * time.Second,
	}
	if got != want {
		t.Errorf("WithDefaults:\n got %+v\nwant %+v", got, want)
	}
	if c := (Config{Address: "10.0.0.5:514"}).WithDefaults(); c.Transport != TransportTCP || c.TLS.ServerName != "" {
		t.Errorf("tcp default: transport %q, server name %q", c.Transport, c.TLS.ServerName)
	}
}

func TestConfig_Validate(t *testing.T) {
	valid := func(mod func(*Config)) Config {
		c := Config{Name: "proxy-01", Address: "10.0.0.5:514"}
		mod(&c)
		return c.WithDefaults()
	}
	for _, tc := range []struct {
		name   string
		cfg    Config
		fields []string
	}{
		{"defaults", valid(func(*Config) {}), nil},
		{"udp", valid(func(c *Config) { c.Transport = TransportUDP }), nil},
		{"tls with client certificate", valid(func(c *Config) {
			c.Transport = TransportTLS
			c.TLS = TLSConfig{CAFile: "ca.pem", CertificateFile: "c.pem", KeyFile: "k.pem"}
		}), nil},
		{"offset timezone", valid(func(c *Config) { c.Timezone = "UTC+01:00"; c.SyslogFormat = FormatRFC5424 }), nil},
		{"no name", valid(func(c *Config) { c.Name = "" }), []string{"name"}},
		{"no port", valid(func(c *Config) { c.Address = "10.0.0.5" }), []string{"address"}},
		{"port 0", valid(func(c *Config) { c.Address = "10.0.0.5:0" }), []string{"address"}},
		{"no host", valid(func(c *Config) { c.Address = ":514" }), []string{"address"}},
		{"unknown transport", valid(func(c *Config) { c.Transport = "relp" }), []string{"transport"}},
		{"unknown framing", valid(func(c *Config) { c.Framing = "crlf" }), []string{"framing"}},
		{"octet counting over udp", valid(func(c *Config) { c.Transport = TransportUDP; c.Framing = FramingOctetCounting }), []string{"framing"}},
		{"tls settings over tcp", valid(func(c *Config) { c.TLS.CAFile = "ca.pem" }), []string{"tls"}},
		{"key without certificate", valid(func(c *Config) { c.Transport = TransportTLS; c.TLS.KeyFile = "k.pem" }), []string{"tls.key_file"}},
		{"unknown format", valid(func(c *Config) { c.SyslogFormat = "rfc3339" }), []string{"syslog_format"}},
		{"unknown timezone", valid(func(c *Config) { c.Timezone = "Mars/Olympus" }), []string{"timezone"}},
		{"negative timeouts", valid(func(c *Config) { c.DialTimeout, c.WriteTimeout, c.DrainTimeout = -1, -1, -1 }),
			[]string{"dial_timeout", "write_timeout", "drain_timeout"}},
		{"backoff bounds", valid(func(c *Config) { c.ReconnectMin, c.ReconnectMax = time.Minute, time.Second }), []string{"reconnect_max"}},
		{"queue and window", valid(func(c *Config) { c.QueueSize, c.ResendLimit, c.ResendWindow = -1, -1, -1 }),
			[]string{"queue_size", "resend_window", "resend_limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fields []string
			for _, p := range tc.cfg.Validate() {
				fields = append(fields, p.Field)
				if p.Msg == "" {
					t.Errorf("%s: empty message", p.Field)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("problems in %v, want %v (%+v)", fields, tc.fields, tc.cfg.Validate())
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	for _, tc := range []struct {
		transport string
		framing   syslog.Framing
		msg, want string
	}{
		{TransportUDP, syslog.NonTransparent, "<9>a\nb", "<9>a\nb"},
		{TransportTCP, syslog.NonTransparent, "<9>abc", "<9>abc\n"},
		{TransportTCP, syslog.NonTransparent, "<9>a\nb", "6 <9>a\nb"},
		{TransportTCP, syslog.NonTransparent, "<9>trailing LF\n", "15 <9>trailing LF\n"},
		{TransportTCP, syslog.NonTransparent, "12 o'clock", "10 12 o'clock"},
		{TransportTLS, syslog.OctetCounting, "<9>abc", "6 <9>abc"},
	} {
		prefix := []byte("prev")
		got, start := appendFrame(prefix, tc.transport, tc.framing, []byte(tc.msg))
		if string(got) != "prev"+tc.want {
			t.Errorf("appendFrame(%s, %v, %q) = %q, want %q", tc.transport, tc.framing, tc.msg, got[4:], tc.want)
		}
		if string(got[start:start+len(tc.msg)]) != tc.msg {
			t.Errorf("appendFrame(%s, %v, %q): offset %d does not point at the message", tc.transport, tc.framing, tc.msg, start)
		}
	}
}

// written returns a batch of n messages written up to byte end at at.
func written(n int, end int64, at time.Time) *batch {
	return &batch{ends: make([]int, n), end: end, at: at}
}

func TestWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	w := window{keep: 5 * time.Second, limit: 3, batch: 1}
	var settled []int64
	note := func(b *batch) { settled = append(settled, b.end) }

	w.push(written(1, 100, t0))
	w.push(written(1, 200, t0.Add(time.Second)))
	if w.due(t0.Add(4 * time.Second)) {
		t.Error("due before the oldest has been kept long enough")
	}

	// Acknowledged but young: kept.
	w.settle(t0.Add(4*time.Second), 200, note)
	if len(settled) != 0 || w.len() != 2 {
		t.Fatalf("settled %v, window %d; want nothing settled", settled, w.len())
	}
	// Old enough but not acknowledged: kept.
	w.settle(t0.Add(10*time.Second), 150, note)
	if len(settled) != 1 || settled[0] != 100 {
		t.Fatalf("settled %v, want [100]", settled)
	}
	// Full: acknowledged messages leave early until the window is three
	// quarters full (2 of 3 here); the others stay their time.
	w.push(written(1, 300, t0.Add(9*time.Second)))
	w.push(written(1, 400, t0.Add(9*time.Second)))
	if w.room(1) || !w.due(t0.Add(9*time.Second)) {
		t.Fatalf("window of %d: room %v, want full and due", w.len(), w.room(1))
	}
	w.settle(t0.Add(9*time.Second), 400, note)
	if len(settled) != 2 || settled[1] != 200 || !w.room(1) {
		t.Fatalf("settled %v, room %v; want 200 gone and room made", settled, w.room(1))
	}
	rest := w.take()
	if len(rest) != 2 || rest[0].end != 300 || rest[1].end != 400 || w.len() != 0 {
		t.Errorf("take = %d batches, window %d; want [300 400] and empty", len(rest), w.len())
	}
}

func TestWindow_fullLeavesRoomForABatch(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	w := window{keep: time.Hour, limit: 100, batch: 25}
	for i := range 20 {
		w.push(written(5, int64(i+1), t0))
	}
	if !w.full() || w.room(25) || !w.room(0) {
		t.Fatalf("window of %d: full %v, want full", w.len(), w.full())
	}
	n := 0
	w.settle(t0, 18, func(b *batch) { n += b.len() })
	if n != 25 || w.len() != 75 || !w.room(25) {
		t.Errorf("%d let go, %d kept; want 25 and 75, with room for a batch", n, w.len())
	}
	// Not full any more: nothing leaves before its time.
	w.settle(t0, 20, func(b *batch) { n += b.len() })
	if n != 25 {
		t.Errorf("%d let go, want still 25", n)
	}
}

func TestWindow_bigBatchesLeaveRoomForOne(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	// Batches of a quarter of the limit: settling a full window down to
	// three quarters leaves room for the next.
	w := window{keep: time.Hour, limit: 10, batch: 2}
	for i := range 5 {
		w.push(written(2, int64(i+1), t0))
	}
	w.settle(t0, 5, func(*batch) {})
	if !w.room(2) {
		t.Errorf("window of %d after settling, want room for a batch of 2", w.len())
	}
}

func TestWindow_pushReusesArray(t *testing.T) {
	w := window{keep: 0, limit: 10, batch: 1}
	for i := range 1000 {
		w.push(written(1, int64(i), time.Time{}))
		w.settle(time.Time{}, int64(i), func(*batch) {})
	}
	if w.len() != 0 || cap(w.items) > 8 {
		t.Errorf("window %d messages in an array of %d, want it kept small", w.len(), cap(w.items))
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := time.Second, 30*time.Second
	most := func(k int64) int64 { return k - 1 }
	least := func(int64) int64 { return 0 }
	for _, tc := range []struct {
		n         int
		low, high time.Duration
	}{
		{0, time.Second, 2 * time.Second},
		{1, time.Second, 4 * time.Second},
		{3, time.Second, 16 * time.Second},
		{4, time.Second, 30 * time.Second},
		{60, time.Second, 30 * time.Second},
	} {
		if got := backoff(tc.n, lo, hi, least); got != tc.low {
			t.Errorf("backoff(%d) at least %v, want %v", tc.n, got, tc.low)
		}
		if got := backoff(tc.n, lo, hi, most); got != tc.high {
			t.Errorf("backoff(%d) at most %v, want %v", tc.n, got, tc.high)
		}
	}
	if got := backoff(5, time.Second, time.Second, most); got != time.Second {
		t.Errorf("backoff with equal bounds = %v, want 1s", got)
	}
}
