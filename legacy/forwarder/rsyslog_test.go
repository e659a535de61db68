package forwarder

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/rsyslogtest"
)

// These tests put a real rsyslogd where the Sentinel CEF proxy runs and
// compare what it stored (rawmsg) with what the sensor sent.

func TestRsyslog_faultFree(t *testing.T) {
	for _, tc := range []struct {
		name       string
		transport  string
		framing    string
		clientCert bool
	}{
		{"udp", TransportUDP, "", false},
		{"tcp newline", TransportTCP, FramingNewline, false},
		{"tcp octet-counting", TransportTCP, FramingOctetCounting, false},
		{"tls newline", TransportTLS, FramingNewline, false},
		{"tls octet-counting with client certificate", TransportTLS, FramingOctetCounting, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := rsyslogtest.New(t, rsyslogtest.Options{RequireClientCert: tc.clientCert})
			cfg := proxyConfig(p, tc.transport, tc.clientCert)
			cfg.Framing = tc.framing
			var o outcomes
			f := start(t, cfg, nil, o.options())

			lines := sensorLines(200, tc.name)
			f.handleAll(t, lines)
			p.WaitFor(len(lines), waitLong)
			f.stop(t)
			p.Stop()

			got := p.Messages()
			if tc.transport == TransportUDP {
				// Datagrams carry no order worth asserting.
				got, lines = sortedCopy(got), sortedCopy(lines)
			}
			checkExact(t, got, lines)
			checkReported(t, &o, lines)
		})
	}
}

func TestRsyslog_apiAlert(t *testing.T) {
	p := rsyslogtest.New(t, rsyslogtest.Options{})
	f := start(t, proxyConfig(p, TransportTCP, false), nil, Options{})
	alert := &bridge.Alert{
		Origin:        bridge.OriginConsoleAPI,
		Sensor:        "wtp-north-ot01",
		SensorVersion: "24.1.3",
		UUID:          "1-1796019420000",
		Title:         "Unauthorized PLC Program Upload",
		Message:       "Unauthorized upload from 10.20.1.12 to PLC 10.20.1.60",
		Severity:      bridge.SeverityCritical,
		Engine:        bridge.EnginePolicyViolation,
		DetectedAt:    time.Date(2026, 11, 30, 6, 17, 0, 0, time.UTC),
		Category:      "Unauthorized Communication Behavior",
	}
	if err := f.Handle(context.Background(), &bridge.Message{Alert: alert}); err != nil {
		t.Fatal(err)
	}
	p.WaitFor(1, waitLong)
	f.stop(t)
	p.Stop()

	want := "<9>Nov 30 06:17:00 wtp-north-ot01 CEF:0|Microsoft Defender for IoT|wtp-north-ot01|24.1.3|" +
		"Microsoft Defender for IoT Alert|Unauthorized PLC Program Upload|10|" +
		"msg=Unauthorized upload from 10.20.1.12 to PLC 10.20.1.60 severity=Critical type=Policy Violation " +
		"UUID=1-1796019420000 start=Nov 30 2026 06:17:00 cat=Unauthorized Communication Behavior"
	checkExact(t, p.Messages(), [][]byte{[]byte(want)})
}

func TestRsyslog_proxyDownAndBack(t *testing.T) {
	for _, transport := range []string{TransportTCP, TransportTLS} {
		t.Run(transport, func(t *testing.T) {
			p := rsyslogtest.New(t, rsyslogtest.Options{})
			rec := &logRecorder{}
			var o outcomes
			f := start(t, proxyConfig(p, transport, false), slog.New(rec), o.options())

			before := sensorLines(100, "before "+transport)
			f.handleAll(t, before)
			p.WaitFor(len(before), waitLong)

			p.Stop()
			during := sensorLines(150, "during "+transport)
			f.handleAll(t, during)
			// The forwarder finds the proxy gone before it comes back.
			rec.waitRecords(t, "cannot connect", 1)
			n := len(p.Messages())
			p.Start()

			p.WaitFor(n+len(during), waitLong)
			waitFor(t, func() bool { return hasAll(p.Messages()[n:], during) })
			f.stop(t)
			p.Stop()

			after := count(p.Messages()[n:])
			for _, l := range during {
				if c := after[string(l)]; c != 1 {
					t.Fatalf("message accepted while the proxy was down arrived %d times: %.80q", c, l)
				}
			}
			// Messages of before may arrive again (they were in the resend
			// window when the proxy went), nothing else may.
			for _, l := range append(slices.Clone(before), during...) {
				delete(after, string(l))
			}
			if len(after) > 0 {
				t.Errorf("%d unexpected messages arrived, such as %.80q", len(after), firstKey(after))
			}
			t.Logf("stats %+v", f.Stats())
			checkReported(t, &o, append(slices.Clone(before), during...))
		})
	}
}

// proxyConfig is the forwarder's config for one of p's inputs.
func proxyConfig(p *rsyslogtest.Proxy, transport string, clientCert bool) Config {
	cfg := testConfig("", transport)
	switch transport {
	case TransportUDP:
		cfg.Address = p.UDPAddr
	case TransportTCP:
		cfg.Address = p.TCPAddr
	case TransportTLS:
		cfg.Address = p.TLSAddr
		cfg.TLS.CAFile = p.Certs.CAFile
		if clientCert {
			cfg.TLS.CertificateFile, cfg.TLS.KeyFile = p.Certs.ClientCertFile, p.Certs.ClientKeyFile
		}
	}
	return cfg
}

func sortedCopy(msgs [][]byte) [][]byte {
	out := slices.Clone(msgs)
	slices.SortFunc(out, bytes.Compare)
	return out
}

func hasAll(got, want [][]byte) bool {
	seen := count(got)
	for _, w := range want {
		if seen[string(w)] == 0 {
			return false
		}
	}
	return true
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

// waitFor polls cond until it holds, failing the test after waitLong.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", waitLong)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
