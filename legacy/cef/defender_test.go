package cef

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// sensorCEF is a Defender for IoT alert as a current sensor sends it (the
// documented items, in the documented order), and sensorLine the same with
// the RFC 3164 header of the documentation's sample: 446 bytes.
const (
	sensorCEF = "CEF:0|Microsoft Defender for IoT|plant-1-line-3|24.1.3|Microsoft Defender for IoT Alert|" +
		"Unauthorized PLC Programming|8|" +
		"msg=Unauthorized PLC programming was detected on controller PLC-17. " +
		"protocol=S7 severity=Major type=Policy Violation UUID=1-1741083751000 start=Mar 04 2025 11:22:31 " +
		"src_ip=10.10.20.15 src_mac=00:1a:2b:3c:4d:5e dst_ip=10.10.30.2 dst_mac=00:0e:8c:11:22:33 " +
		"cat=Unauthorized Communication Behavior"
	sensorLine = "<9>Mar  4 11:22:31 plant-1-line-3 " + sensorCEF
)

var plusOne = time.FixedZone("", 3600)

// sensorAlert is sensorLine decoded with the rule's timezone +01:00.
func sensorAlert() bridge.Alert {
	return bridge.Alert{
		Origin:        bridge.OriginSyslogCEF,
		Vendor:        DefenderVendor,
		SignatureID:   DefenderSignatureID,
		Sensor:        "plant-1-line-3",
		SensorVersion: "24.1.3",
		UUID:          "1-1741083751000",
		DetectedAt:    time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC).In(plusOne),
		Title:         "Unauthorized PLC Programming",
		Message:       "Unauthorized PLC programming was detected on controller PLC-17.",
		Severity:      bridge.SeverityMajor,
		Engine:        bridge.EnginePolicyViolation,
		Protocol:      "S7",
		Category:      "Unauthorized Communication Behavior",
		Source:        bridge.Endpoint{IP: "10.10.20.15", MAC: "00:1a:2b:3c:4d:5e"},
		Destination:   bridge.Endpoint{IP: "10.10.30.2", MAC: "00:0e:8c:11:22:33"},
		Raw:           []byte(sensorLine),
	}
}

func march(t *testing.T) func() time.Time {
	t.Helper()
	return func() time.Time { return time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC) }
}

func TestDecoder_DecodeAlert(t *testing.T) {
	withRaw := func(a bridge.Alert, raw string) bridge.Alert { a.Raw = []byte(raw); return a }
	older := sensorAlert()
	older.Vendor, older.SignatureID = "CyberX", "Azure Defender for IoT Alert"
	olderCEF := strings.Replace(strings.Replace(sensorCEF, DefenderVendor, "CyberX", 1),
		DefenderSignatureID, "Azure Defender for IoT Alert", 1)

	// Without start, the detection time is the syslog header's, read in the
	// rule's timezone.
	noStart := strings.Replace(sensorCEF, " start=Mar 04 2025 11:22:31", "", 1)
	withoutStart := sensorAlert()

	tests := []struct {
		name string
		line string
		want bridge.Alert
	}{
		{"rfc3164", sensorLine, sensorAlert()},
		{"bare cef", sensorCEF, withRaw(sensorAlert(), sensorCEF)},
		{"rfc5424", "<9>1 2025-03-04T11:22:31+01:00 plant-1-line-3 - - - - " + sensorCEF,
			withRaw(sensorAlert(), "<9>1 2025-03-04T11:22:31+01:00 plant-1-line-3 - - - - "+sensorCEF)},
		{"broken rfc5424 header", "<9>1 2025-03-04T11:22:31+01:00 x " + sensorCEF,
			withRaw(sensorAlert(), "<9>1 2025-03-04T11:22:31+01:00 x "+sensorCEF)},
		{"trailing LF", sensorLine + "\n", withRaw(sensorAlert(), sensorLine+"\n")},
		{"syslog time without start", "<9>Mar  4 11:22:31 plant-1-line-3 " + noStart,
			withRaw(withoutStart, "<9>Mar  4 11:22:31 plant-1-line-3 "+noStart)},
		{"older brand", "<9>Mar  4 11:22:31 plant-1-line-3 " + olderCEF,
			withRaw(older, "<9>Mar  4 11:22:31 plant-1-line-3 "+olderCEF)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Location: plusOne, Now: march(t)}
			line := []byte(tt.line)
			var got bridge.Alert
			if err := d.DecodeAlert(line, &got); err != nil {
				t.Fatalf("DecodeAlert: %v", err)
			}
			copy(line, strings.Repeat("#", len(line)))
			assertAlert(t, got, tt.want)
		})
	}
}

func assertAlert(t *testing.T, got, want bridge.Alert) {
	t.Helper()
	if !got.DetectedAt.Equal(want.DetectedAt) {
		t.Errorf("DetectedAt = %v, want %v", got.DetectedAt, want.DetectedAt)
	}
	got.DetectedAt, want.DetectedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alert:\n got %+v\nwant %+v", got, want)
	}
}

func TestDecoder_DecodeAlertErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		want error
	}{
		{"not cef", "<9>Mar  4 11:22:31 host hello", ErrNotCEF},
		{"other vendor", "<9>Mar  4 11:22:31 fw CEF:0|Check Point|VPN-1|R81|Log|https|5|src=1.2.3.4", ErrNotDefender},
		{"defender notification", "CEF:0|Microsoft Defender for IoT|s|1|Microsoft Defender for IoT Notification|Sensor disconnected|4|", ErrNotDefender},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			a := bridge.Alert{Title: "untouched"}
			if err := d.DecodeAlert([]byte(tt.line), &a); !errors.Is(err, tt.want) {
				t.Fatalf("DecodeAlert = %v, want %v", err, tt.want)
			}
			if a.Title != "untouched" || a.Raw != nil {
				t.Errorf("alert changed on error: %+v", a)
			}
		})
	}

	var d Decoder
	line := "<9>Mar  4 11:22:31 host CEF:0|Microsoft Defender for IoT|s|1|Microsoft Defender for IoT Alert|n|8|oops"
	var se *SyntaxError
	if err := d.DecodeAlert([]byte(line), &bridge.Alert{}); !errors.As(err, &se) || se.Offset != strings.Index(line, "oops") {
		t.Errorf("DecodeAlert = %v, want a *SyntaxError at byte %d of the line", err, strings.Index(line, "oops"))
	}
	if d.Event().Product != "s" {
		t.Errorf("Event() = %+v after the error", d.Event())
	}
}

func TestDecoder_ToAlert(t *testing.T) {
	header := func(sev string, ext ...Extension) *Event {
		return &Event{Vendor: DefenderVendor, Product: "s", SignatureID: DefenderSignatureID, Name: "n", Severity: sev, Extensions: ext}
	}
	tests := []struct {
		name string
		dec  Decoder
		ev   *Event
		want bridge.Alert
	}{
		{"severity from header", Decoder{}, header("10"),
			bridge.Alert{Severity: bridge.SeverityCritical}},
		{"severity band", Decoder{}, header("9"),
			bridge.Alert{Severity: bridge.SeverityMajor}},
		{"severity word wins", Decoder{}, header("4", Extension{"severity", "Critical"}),
			bridge.Alert{Severity: bridge.SeverityCritical}},
		{"unknown word keeps header", Decoder{}, header("1", Extension{"severity", "High"}),
			bridge.Alert{Severity: bridge.SeverityWarning}},
		{"word in header", Decoder{}, header(" minor "),
			bridge.Alert{Severity: bridge.SeverityMinor}},
		{"unreadable severity", Decoder{}, header("Very-High"),
			bridge.Alert{}},
		{"engine enum", Decoder{}, header("", Extension{"type", "PROTOCOL_VIOLATION"}),
			bridge.Alert{Engine: bridge.EngineProtocolViolation}},
		{"engine kept as written", Decoder{}, header("", Extension{"type", "Custom Engine"}),
			bridge.Alert{Engine: "Custom Engine"}},
		{"keys in any case", Decoder{}, header("", Extension{"uuid", "1-2"}, Extension{"SRC_IP", "1.2.3.4"}, Extension{"Msg", "m"}),
			bridge.Alert{UUID: "1-2", Source: bridge.Endpoint{IP: "1.2.3.4"}, Message: "m"}},
		{"unknown keys ignored", Decoder{}, header("", Extension{"rt", "1"}, Extension{"src", "1.2.3.4"}),
			bridge.Alert{}},
		{"start in epoch ms", Decoder{}, header("", Extension{"start", "1741083751000"}),
			bridge.Alert{DetectedAt: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC)}},
		{"unreadable start", Decoder{}, header("", Extension{"start", "yesterday"}),
			bridge.Alert{}},
		{"custom vendor", Decoder{Vendors: []string{"Acme OT"}},
			&Event{Vendor: "ACME OT Sensor", Product: "s", SignatureID: DefenderSignatureID, Name: "n"},
			bridge.Alert{Vendor: "ACME OT Sensor"}},
		{"any signature", Decoder{Signatures: []string{""}},
			&Event{Vendor: DefenderVendor, Product: "s", SignatureID: "whatever", Name: "n"},
			bridge.Alert{SignatureID: "whatever"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bridge.Alert
			if err := tt.dec.ToAlert(tt.ev, &got); err != nil {
				t.Fatalf("ToAlert: %v", err)
			}
			want := tt.want
			want.Origin = bridge.OriginSyslogCEF
			want.Sensor, want.Title = "s", "n"
			if want.Vendor == "" {
				want.Vendor = tt.ev.Vendor
			}
			if want.SignatureID == "" {
				want.SignatureID = tt.ev.SignatureID
			}
			assertAlert(t, got, want)
		})
	}

	var d Decoder
	for _, ev := range []*Event{
		{Vendor: "Check Point", SignatureID: DefenderSignatureID},
		{Vendor: DefenderVendor, SignatureID: "Log"},
		{Vendor: "", SignatureID: ""},
	} {
		if err := d.ToAlert(ev, &bridge.Alert{}); !errors.Is(err, ErrNotDefender) {
			t.Errorf("ToAlert(vendor %q, signature %q) = %v, want ErrNotDefender", ev.Vendor, ev.SignatureID, err)
		}
	}
}

func TestDecoder_DecodeAlertAllocs(t *testing.T) {
	d := Decoder{Location: plusOne}
	line := []byte(sensorLine)
	var a bridge.Alert
	n := testing.AllocsPerRun(200, func() {
		if err := d.DecodeAlert(line, &a); err != nil {
			t.Fatal(err)
		}
	})
	// One string copy of the line, one copy for Raw.
	if n > 2 {
		t.Errorf("DecodeAlert allocates %v times per line, want at most 2", n)
	}
}

func TestParseTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	utc := func(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ms*1e6, time.UTC)
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
		ok   bool
	}{
		{"1741083751000", nil, utc(2025, 3, 4, 10, 22, 31, 0), true},
		{"1741083751123", paris, utc(2025, 3, 4, 10, 22, 31, 123), true},
		{"Mar 04 2025 11:22:31", paris, utc(2025, 3, 4, 10, 22, 31, 0), true},
		{"Mar 04 2025 11:22:31", nil, utc(2025, 3, 4, 11, 22, 31, 0), true},
		{"Mar 04 2025 11:22:31.250", paris, utc(2025, 3, 4, 10, 22, 31, 250), true},
		{"Mar 04 2025 11:22:31 UTC", paris, utc(2025, 3, 4, 11, 22, 31, 0), true},
		{"Mar 04 2025 11:22:31.5 GMT+02:00", paris, utc(2025, 3, 4, 9, 22, 31, 500), true},
		{"Mar 04 2025 11:22:31 -0500", nil, utc(2025, 3, 4, 16, 22, 31, 0), true},
		{"Mar 04 2025 11:22:31 CET", paris, utc(2025, 3, 4, 10, 22, 31, 0), true},
		{"Jul 04 2025 11:22:31 CEST", paris, utc(2025, 7, 4, 9, 22, 31, 0), true},
		{"Mar 04 2025 11:22:31 PST", paris, time.Time{}, false},
		{"Mar  4 11:22:31", paris, utc(2025, 3, 4, 10, 22, 31, 0), true},
		{"Dec 31 23:59:59", nil, utc(2024, 12, 31, 23, 59, 59, 0), true},
		{"2025-03-04T11:22:31+01:00", nil, utc(2025, 3, 4, 10, 22, 31, 0), true},
		{"2025-03-04T11:22:31.5", paris, utc(2025, 3, 4, 10, 22, 31, 500), true},
		{"2025-03-04 11:22:31", paris, utc(2025, 3, 4, 10, 22, 31, 0), true},
		{" 1741083751000 ", nil, utc(2025, 3, 4, 10, 22, 31, 0), true},
		{"", nil, time.Time{}, false},
		{"12:00", nil, time.Time{}, false},
		{"1234567890123456", nil, time.Time{}, false},
		{"Mar 04 2025 11:22:31X", nil, time.Time{}, false},
		{"Mar 04 2025 11:22:31 +25:00", nil, time.Time{}, false},
	}
	now := func() time.Time { return time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC) }
	for _, tt := range tests {
		got, ok := ParseTime(tt.in, tt.loc, now)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %v, %v", tt.in, tt.loc, got, ok, tt.want, tt.ok)
		}
		wantLoc := tt.loc
		if wantLoc == nil {
			wantLoc = time.UTC
		}
		if ok && got.Location() != wantLoc {
			t.Errorf("ParseTime(%q) location = %v, want %v", tt.in, got.Location(), wantLoc)
		}
	}
}

func TestEncoder_AppendAlert(t *testing.T) {
	a := sensorAlert()
	a.Raw = nil
	tests := []struct {
		name string
		enc  Encoder
		a    bridge.Alert
		want string
	}{
		{"sensor line", Encoder{Location: plusOne}, a, sensorLine},
		{"rfc5424 with tag", Encoder{Format: syslog.FormatRFC5424, Priority: 14, Hostname: "otbridge", AppName: "cef"},
			bridge.Alert{Sensor: "s", Title: "t", Severity: bridge.SeverityWarning, ReceivedAt: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)},
			"<14>1 2025-03-04T10:00:00.000Z otbridge cef - - - CEF:0|Microsoft Defender for IoT|s||Microsoft Defender for IoT Alert|t|1|severity=Warning"},
		{"escapes and no severity", Encoder{Now: march(t)},
			bridge.Alert{Vendor: "CyberX", SignatureID: "x", Sensor: "a|b", Title: "line\nbreak", Message: "k=v\\w"},
			`<9>Mar 10 00:00:00 a_b CEF:0|CyberX|a\|b||x|line break|Unknown|msg=k\=v\\w`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.enc.AppendAlert(nil, &tt.a))
			if got != tt.want {
				t.Errorf("AppendAlert:\n got %q\nwant %q", got, tt.want)
			}

			// AppendAlert writes the header, then what Event returns.
			ev := tt.enc.Event(&tt.a)
			if cef := got[strings.Index(got, "CEF:"):]; cef != ev.String() {
				t.Errorf("AppendAlert's CEF part differs from Event:\n%q\n%q", cef, ev.String())
			}
		})
	}
}

func TestEncoder_roundTrip(t *testing.T) {
	enc := Encoder{Location: plusOne}
	dec := Decoder{Location: plusOne, Now: march(t)}
	want := sensorAlert()
	line := enc.AppendAlert(nil, &want)
	var got bridge.Alert
	if err := dec.DecodeAlert(line, &got); err != nil {
		t.Fatalf("DecodeAlert(%q): %v", line, err)
	}
	assertAlert(t, got, want)
}
