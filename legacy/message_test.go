package legacy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

const sensorCEF = `<9>Mar  4 09:15:02 wtp-north-ot01 CEF:0|Microsoft Defender for IoT|wtp-north-ot01|24.1.3|Microsoft Defender for IoT Alert|Unauthorized PLC Programming|8|msg=PLC 10.20.1.50 was programmed by 10.20.1.15 protocol=S7 severity=Major type=Policy Violation UUID=1-1709543702000 start=Mar 04 2026 09:15:01 src_ip=10.20.1.15 dst_ip=10.20.1.50 cat=Unauthorized Communication Behavior`

const sensorLEEF = "<9>Mar  4 09:15:02 wtp-north-ot01 LEEF:1.0|Microsoft Defender for IoT|Sensor|24.1.3|Microsoft Defender for IoT Alert|title=Unauthorized PLC Programming\tseverity=Major\ttype=Policy Violation\tprotocol=S7"

func TestMessageDecoder_Decode(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		format    Format
		in        string
		wantErr   string
		wantAlert bool
		check     func(t *testing.T, m *Message)
	}{
		{name: "sensor CEF", in: sensorCEF, wantAlert: true, check: func(t *testing.T, m *Message) {
			a := m.Alert
			if a.Sensor != "wtp-north-ot01" || a.Severity != bridge.SeverityMajor || a.Engine != bridge.EnginePolicyViolation || a.Protocol != "S7" {
				t.Errorf("alert = %+v", a)
			}
			if want := time.Date(2026, 3, 4, 9, 15, 1, 0, time.UTC); !a.DetectedAt.Equal(want) {
				t.Errorf("DetectedAt = %v, want %v", a.DetectedAt, want)
			}
			if string(a.Raw) != sensorCEF || m.Syslog.Hostname != "wtp-north-ot01" {
				t.Errorf("raw or header lost")
			}
		}},
		{name: "sensor LEEF takes sensor from host", in: sensorLEEF, wantAlert: true, check: func(t *testing.T, m *Message) {
			if m.Alert.Sensor != "wtp-north-ot01" || m.Alert.Title != "Unauthorized PLC Programming" {
				t.Errorf("alert = %+v", m.Alert)
			}
			if want := time.Date(2026, 3, 4, 9, 15, 2, 0, time.UTC); !m.Alert.DetectedAt.Equal(want) {
				t.Errorf("DetectedAt = %v, want the syslog time %v", m.Alert.DetectedAt, want)
			}
		}},
		{name: "bare CEF", in: strings.TrimPrefix(sensorCEF, "<9>Mar  4 09:15:02 wtp-north-ot01 "), wantAlert: true, check: func(t *testing.T, m *Message) {
			if m.Syslog != nil {
				t.Error("bare CEF got a syslog header")
			}
		}},
		{name: "other vendor", in: "<14>Mar  4 09:15:02 fw CEF:0|Fortinet|Fortigate|7|1|x|5|src=1.2.3.4", check: func(t *testing.T, m *Message) {
			if m.CEF == nil || !strings.Contains(m.NotAlert, "Fortinet") {
				t.Errorf("NotAlert = %q", m.NotAlert)
			}
		}},
		{name: "plain syslog", in: "<14>Mar  4 09:15:02 host sshd[1]: accepted", check: func(t *testing.T, m *Message) {
			if m.Syslog == nil || m.Syslog.AppName != "sshd" || m.NotAlert == "" {
				t.Errorf("message = %+v", m)
			}
		}},
		{name: "cef required", format: FormatCEF, in: sensorLEEF, wantErr: "no CEF event"},
		{name: "leef required", format: FormatLEEF, in: sensorCEF, wantErr: "no LEEF event"},
		{name: "syslog only", format: FormatSyslog, in: sensorCEF, check: func(t *testing.T, m *Message) {
			if m.CEF != nil || m.Alert != nil || !strings.HasPrefix(m.Syslog.Body, "CEF:0|") {
				t.Errorf("syslog format decoded more than the header: %+v", m)
			}
		}},
		{name: "syslog required", format: FormatSyslog, in: "CEF:0|a|b|c|d|e|1|", wantErr: "no syslog header"},
		{name: "broken CEF", in: "<9>Mar  4 09:15:02 h CEF:0|a|b", wantErr: "decode cef"},
		{name: "too large", in: sensorCEF + strings.Repeat("x", DefaultMaxMessageSize), wantErr: "exceeds the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := MessageDecoder{Format: tt.format, Now: now}
			m, err := d.Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (m.Alert != nil) != tt.wantAlert {
				t.Fatalf("alert = %v, want one: %v (not alert: %s)", m.Alert, tt.wantAlert, m.NotAlert)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}

	d := MessageDecoder{MaxSize: 10}
	if _, err := d.Decode([]byte(sensorCEF)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

// classifyCases are messages of every kind, for the checks that Classify
// and Decode agree.
var classifyCases = []struct {
	format Format
	in     string
}{
	{FormatAuto, sensorCEF},
	{FormatAuto, sensorLEEF},
	{FormatAuto, strings.TrimPrefix(sensorCEF, "<9>Mar  4 09:15:02 wtp-north-ot01 ")},
	{FormatAuto, sensorCEF + "\r\n"},
	{FormatAuto, "<14>Mar  4 09:15:02 fw CEF:0|Fortinet|Fortigate|7|1|x|5|src=1.2.3.4"},
	{FormatAuto, "<14>Mar  4 09:15:02 host sshd[1]: accepted"},
	{FormatAuto, ""},
	{FormatCEF, sensorLEEF},
	{FormatLEEF, sensorCEF},
	{FormatSyslog, sensorCEF},
	{FormatSyslog, "CEF:0|a|b|c|d|e|1|"},
	{FormatAuto, "<9>Mar  4 09:15:02 h CEF:0|a|b"},
	{FormatAuto, "<9>Mar  4 09:15:02 h LEEF:1.0|a"},
	{FormatAuto, sensorCEF + strings.Repeat("x", DefaultMaxMessageSize)},
}

// checkClassify fails unless Classify says of raw what Decode says.
func checkClassify(t *testing.T, format Format, raw []byte) {
	t.Helper()
	d := MessageDecoder{Format: format, MaxSize: 4096}
	m, derr := d.Decode(raw)
	// The same decoder, as a listener uses it: nothing of the last
	// message may leak into the next.
	alert, cerr := d.Classify(raw)
	if (derr == nil) != (cerr == nil) || derr != nil && derr.Error() != cerr.Error() {
		t.Fatalf("Classify(%q) error %v, Decode error %v", raw, cerr, derr)
	}
	if derr == nil && alert != (m.Alert != nil) {
		t.Fatalf("Classify(%q) alert %v, Decode alert %v", raw, alert, m.Alert != nil)
	}
}

func TestMessageDecoder_Classify(t *testing.T) {
	for _, tc := range classifyCases {
		checkClassify(t, tc.format, []byte(tc.in))
	}

	var d MessageDecoder
	raw := []byte(sensorCEF)
	if n := testing.AllocsPerRun(100, func() {
		if alert, err := d.Classify(raw); !alert || err != nil {
			t.Fatalf("Classify(sensor CEF) = %v, %v", alert, err)
		}
	}); n != 0 {
		t.Errorf("Classify allocates %v times for a sensor alert, want 0", n)
	}
}

func BenchmarkMessageDecoder(b *testing.B) {
	raw := []byte(sensorCEF)
	b.Run("Decode", func(b *testing.B) {
		var d MessageDecoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Decode(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Classify", func(b *testing.B) {
		var d MessageDecoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Classify(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func FuzzMessageDecoder_Classify(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(string(tc.format), []byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, format string, raw []byte) {
		fm, err := ParseFormat(format)
		if err != nil {
			fm = FormatAuto
		}
		checkClassify(t, fm, raw)
	})
}

func FuzzMessageDecoder_Decode(f *testing.F) {
	for _, s := range []string{sensorCEF, sensorLEEF, "", "<", "<9>", "CEF:0|", "LEEF:2.0|a|b|c|d|^|x=1^y=2",
		"<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a b=\"c\"] CEF:1|a|b|c|d|e|f|g=h"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, format := range []Format{FormatAuto, FormatCEF, FormatLEEF, FormatSyslog} {
			d := MessageDecoder{Format: format, MaxSize: 4096}
			m, err := d.Decode(raw)
			if err != nil {
				continue
			}
			if m.Alert != nil && string(m.Alert.Raw) != string(raw) {
				t.Fatalf("alert raw bytes differ from input")
			}
			if m.Alert != nil {
				_ = m.Alert.Key()
			}
		}
	})
}

func TestPayloadKind(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Format
	}{
		{"", ""},
		{"sshd[1]: accepted", ""},
		{"CEF:0|a", FormatCEF},
		{"LEEF:1.0|a", FormatLEEF},
		{"CEF:0|a|msg=LEEF:1.0", FormatCEF},
		{"LEEF:1.0|a|msg=CEF:0", FormatLEEF},
		{"x LEEF:CEF:", FormatLEEF},
	} {
		if got := payloadKind(tc.body); got != tc.want {
			t.Errorf("payloadKind(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}
