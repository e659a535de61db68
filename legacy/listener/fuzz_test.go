package listener

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/otbridge/otbridge/bridge"
)

// FuzzListener_readStream feeds arbitrary bytes to a connection's read
// path: it must not panic, must hand on no message over the limit, and
// must account for every message it read.
func FuzzListener_readStream(f *testing.F) {
	for _, s := range []string{
		octet(modbusAlert) + plainSyslog + "\n",
		modbusAlert + "\r\n" + brokenCEF,
		octet(modbusAlert+"\n") + "\n\n" + octet(plainSyslog),
		"9999999999 " + plainSyslog,
		"12345678901 x\n",
		strings.Repeat("x", 700) + "\n<9>y\n",
		"600 " + strings.Repeat("a", 600) + "3 abc",
		"<9>\x00\xff\xfe\n",
		"10 <9>abc",
		"",
	} {
		f.Add([]byte(s), false)
	}
	const max = 512
	f.Fuzz(func(t *testing.T, data []byte, oneByte bool) {
		var handed, raws int64
		h := bridge.HandlerFunc(func(_ context.Context, m *bridge.Message) error {
			handed++
			raws += int64(len(m.Raw))
			if len(m.Raw) == 0 || len(m.Raw) > max {
				t.Fatalf("handed on a message of %d bytes (limit %d)", len(m.Raw), max)
			}
			if m.Listener != "fuzz" || m.Peer != "peer" {
				t.Fatalf("message from %q, %q", m.Listener, m.Peer)
			}
			return nil
		})
		l, err := newListener(Config{Name: "fuzz", Address: "127.0.0.1:0", Transport: TransportTCP, MaxMessageSize: max},
			h, nil, WithClock(newFakeClock().Now))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = bytes.NewReader(data)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		if err := l.readStream(context.Background(), r, "peer"); err != nil {
			t.Fatalf("readStream = %v", err)
		}

		s := l.Stats()
		if s.Received != s.Alerts+s.NotAlerts+s.Rejected {
			t.Fatalf("received %d != alerts %d + not alerts %d + rejected %d", s.Received, s.Alerts, s.NotAlerts, s.Rejected)
		}
		if handed != s.Alerts+s.NotAlerts+s.DecodeErrors {
			t.Fatalf("handed on %d messages, stats %+v", handed, s)
		}
		// Every message but a last one without trailer takes a trailer or
		// an octet count besides its bytes.
		if s.Received > int64(len(data)/2+1) || raws > int64(len(data)) {
			t.Fatalf("%d messages, %d bytes from %d bytes of input", s.Received, raws, len(data))
		}
	})
}
