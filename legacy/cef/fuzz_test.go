package cef

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// addVectorSeeds adds every input of the conformance vectors to f's corpus.
func addVectorSeeds(f *testing.F) {
	for _, name := range decodeVectorFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
		if err != nil {
			f.Fatal(err)
		}
		// The inputs are JSON strings; a rough cut is enough for seeds.
		for _, part := range strings.Split(string(b), `"input": "`)[1:] {
			if end := strings.Index(part, `",`); end > 0 {
				f.Add(strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n").Replace(part[:end]))
			}
		}
	}
}

// canonValue is what a value becomes after encoding and decoding: line
// breaks of any kind become LF and trailing spaces go.
func canonValue(s string) string {
	return strings.TrimRight(newlines(s), " ")
}

// canonLast is what the value at the end of a line becomes: the decoder
// trims NULs from the end of the line as a framing trailer, then the
// value's trailing spaces.
func canonLast(s string) string {
	return strings.TrimRight(strings.TrimRight(newlines(s), "\x00"), " ")
}

func newlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// canonHeader is what a header field becomes after encoding and decoding.
func canonHeader(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// canonEvent is what ev becomes after encoding and decoding.
func canonEvent(ev *Event) Event {
	c := Event{
		Version:       max(ev.Version, 0),
		Vendor:        canonHeader(ev.Vendor),
		Product:       canonHeader(ev.Product),
		DeviceVersion: canonHeader(ev.DeviceVersion),
		SignatureID:   canonHeader(ev.SignatureID),
		Name:          canonHeader(ev.Name),
		Severity:      canonHeader(strings.TrimSpace(ev.Severity)),
		Extensions:    Extensions{},
	}
	last := ""
	for _, x := range ev.Extensions {
		key := string(appendKey(nil, x.Key))
		if key != "" {
			c.Extensions = append(c.Extensions, Extension{Key: key, Value: canonValue(x.Value)})
			last = x.Value
		}
	}
	if n := len(c.Extensions); n > 0 {
		c.Extensions[n-1].Value = canonLast(last)
	}
	return c
}

func FuzzParse(f *testing.F) {
	addVectorSeeds(f)
	f.Add(sensorLine)
	f.Add(`CEF:0|a\|b|c\\|d\\\|e|\x|n|\\|a=x\=y\\z\nq\rw\|e\tf b=\\ c=end\`)
	f.Add("CEF:0|v|p|1|2|n|3|msg=a=b c =d e= f x.y=1   ")
	f.Fuzz(func(t *testing.T, line string) {
		var ev Event
		err := Parse(line, &ev)
		if err != nil {
			var se *SyntaxError
			if !errors.Is(err, ErrNotCEF) && (!errors.As(err, &se) || se.Offset < 0 || se.Offset > len(line)) {
				t.Fatalf("Parse(%q) = %v", line, err)
			}
			return
		}
		if ev.Version < 0 {
			t.Fatalf("negative version %d", ev.Version)
		}
		for _, x := range ev.Extensions {
			if x.Key == "" || string(appendKey(nil, x.Key)) != x.Key {
				t.Fatalf("key %q holds non-key bytes", x.Key)
			}
			if strings.HasSuffix(x.Value, " ") {
				t.Fatalf("value %q of %s ends in a space", x.Value, x.Key)
			}
			if len(x.Value) > len(line) {
				t.Fatalf("value longer than the line")
			}
		}

		// What Parse read, Append writes so that Parse reads it again.
		encoded := ev.String()
		var again Event
		if err := Parse(encoded, &again); err != nil {
			t.Fatalf("Parse(%q) of the re-encoded %q: %v", encoded, line, err)
		}
		if want := canonEvent(&ev); !reflect.DeepEqual(normalise(again), want) {
			t.Fatalf("re-encoded %q from %q:\n got %+v\nwant %+v", encoded, line, again, want)
		}
	})
}

func normalise(ev Event) Event {
	if ev.Extensions == nil {
		ev.Extensions = Extensions{}
	}
	return ev
}

// FuzzEvent_Append checks that Parse reads back every event Append writes.
func FuzzEvent_Append(f *testing.F) {
	f.Add(uint8(0), "Microsoft Defender for IoT", "plant|1", "24.1\\3", DefenderSignatureID, "Title\r\n=", " 8\n",
		"msg", "a=b\\c\r\nd", "src_ip", "10.0.0.1 ", "x", "")
	f.Add(uint8(1), "", "", "", "", "", "", "", "", "=", "v", "k", "trailing\x00")
	f.Fuzz(func(t *testing.T, version uint8, vendor, product, devVersion, signature, name, severity,
		k1, v1, k2, v2, k3, v3 string) {
		ev := Event{
			Version: int(version), Vendor: vendor, Product: product, DeviceVersion: devVersion,
			SignatureID: signature, Name: name, Severity: severity,
			Extensions: Extensions{{k1, v1}, {k2, v2}, {k3, v3}},
		}
		line := ev.String()
		var got Event
		if err := Parse(line, &got); err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if want := canonEvent(&ev); !reflect.DeepEqual(normalise(got), want) {
			t.Fatalf("Parse(%q):\n got %+v\nwant %+v", line, got, want)
		}
	})
}

func FuzzDecoder_DecodeAlert(f *testing.F) {
	addVectorSeeds(f)
	f.Add(sensorLine)
	f.Add("<9>1 2025-03-04T11:22:31+01:00 plant-1-line-3 - - - - " + sensorCEF)
	f.Add("CEF:0|CyberX|s|1|Azure Defender for IoT Alert|t|4|severity=critical type=malware start=Dec 31 23:59:59")
	f.Fuzz(func(t *testing.T, line string) {
		d := Decoder{Location: plusOne, Now: func() time.Time { return time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC) }}
		var a bridge.Alert
		err := d.DecodeAlert([]byte(line), &a)
		if err != nil {
			var se *SyntaxError
			if !errors.Is(err, ErrNotCEF) && !errors.Is(err, ErrNotDefender) && !errors.As(err, &se) {
				t.Fatalf("DecodeAlert(%q) = %v", line, err)
			}
			if !reflect.DeepEqual(a, bridge.Alert{}) {
				t.Fatalf("alert filled on error: %+v", a)
			}
			return
		}
		if string(a.Raw) != line || a.Origin != bridge.OriginSyslogCEF {
			t.Fatalf("Raw %q, Origin %q for %q", a.Raw, a.Origin, line)
		}
		if a.Severity < bridge.SeverityUnknown || a.Severity > bridge.SeverityCritical {
			t.Fatalf("severity %d out of range", a.Severity)
		}
		if !a.DetectedAt.IsZero() && a.DetectedAt.Location() != plusOne {
			t.Fatalf("DetectedAt %v not in the decoder's location", a.DetectedAt)
		}
		if ev := d.Event(); a.Sensor != ev.Product || a.Title != ev.Name || a.Vendor != ev.Vendor {
			t.Fatalf("alert %+v does not carry the header of %+v", a, ev)
		}
	})
}

// FuzzEncoder_AppendAlert checks that the decoder reads back what the
// encoder writes for any alert, up to what the format cannot carry.
func FuzzEncoder_AppendAlert(f *testing.F) {
	f.Add("plant-1-line-3", "24.1.3", "Unauthorized PLC Programming", "Unauthorized PLC programming.", "S7",
		"Policy Violation", "1-1741083751000", "10.10.20.15", "00:1a:2b:3c:4d:5e", "10.10.30.2", "00:0e:8c:11:22:33",
		"Unauthorized Communication Behavior", uint8(3), int64(1741083751000), true)
	f.Add("", "", "", "line1\r\nline2", "", "POLICY_VIOLATION", "", "", "", "", "", "x\x00", uint8(0), int64(-1), false)
	f.Add("CEF:0|", "|", "\\", "=", " ", "unknown engine", "u", "a b", "c=d", "e\\", "f", "", uint8(9), int64(0), false)
	f.Fuzz(func(t *testing.T, sensor, version, title, message, protocol, engine, uuid, srcIP, srcMAC, dstIP, dstMAC, cat string,
		severity uint8, detected int64, rfc5424 bool) {
		now := time.Date(2025, 3, 10, 8, 9, 10, 0, time.UTC)
		a := bridge.Alert{
			Sensor: sensor, SensorVersion: version, Title: title, Message: message, Protocol: protocol,
			Engine: bridge.Engine(engine), UUID: uuid, Category: cat,
			Source:      bridge.Endpoint{IP: srcIP, MAC: srcMAC},
			Destination: bridge.Endpoint{IP: dstIP, MAC: dstMAC},
			Severity:    bridge.Severity(severity % 5),
		}
		if detected >= 0 {
			// Years StartLayout writes with four digits.
			a.DetectedAt = time.UnixMilli(detected % 253402300799000).UTC()
		}
		enc := Encoder{Location: plusOne, Now: func() time.Time { return now }}
		if rfc5424 {
			enc.Format = syslog.FormatRFC5424
		}
		line := enc.AppendAlert(nil, &a)

		dec := Decoder{Location: plusOne, Now: func() time.Time { return now }}
		var got bridge.Alert
		if err := dec.DecodeAlert(line, &got); err != nil {
			t.Fatalf("DecodeAlert(%q): %v", line, err)
		}

		want := bridge.Alert{
			Origin: bridge.OriginSyslogCEF, Vendor: DefenderVendor, SignatureID: DefenderSignatureID,
			Sensor: canonHeader(sensor), SensorVersion: canonHeader(version), Title: canonHeader(title),
			Severity: a.Severity,
			Raw:      line,
		}
		values := []*string{&want.Message, &want.Protocol, new(string), &want.UUID,
			&want.Source.IP, &want.Source.MAC, &want.Destination.IP, &want.Destination.MAC, &want.Category}
		in := []string{message, protocol, engine, uuid, srcIP, srcMAC, dstIP, dstMAC, cat}
		last := -1
		for i, v := range in {
			*values[i] = canonValue(v)
			if v != "" {
				last = i
			}
		}
		// The value that ends the line loses trailing NULs too. start comes
		// after UUID (3), and the severity word after protocol (1).
		switch {
		case last >= 4,
			last >= 2 && a.DetectedAt.IsZero(),
			last >= 0 && a.DetectedAt.IsZero() && a.Severity == bridge.SeverityUnknown:
			*values[last] = canonLast(in[last])
		}
		if e := *values[2]; e != "" {
			want.Engine = bridge.Engine(e)
			if pe, err := bridge.ParseEngine(e); err == nil {
				want.Engine = pe
			}
		}
		want.DetectedAt = a.DetectedAt.Truncate(time.Second)
		if a.DetectedAt.IsZero() {
			want.DetectedAt = now
		}

		if !got.DetectedAt.Equal(want.DetectedAt) {
			t.Fatalf("DetectedAt = %v, want %v (line %q)", got.DetectedAt, want.DetectedAt, line)
		}
		got.DetectedAt, want.DetectedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %q:\n got %+v\nwant %+v", line, got, want)
		}
		valid := true
		for _, v := range append(in, sensor, version, title) {
			valid = valid && utf8.ValidString(v)
		}
		if valid && !utf8.Valid(line) {
			t.Fatalf("encoder broke UTF-8: %q", line)
		}
	})
}
