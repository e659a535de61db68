package leef

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// addSamples seeds f with the files in testdata.
func addSamples(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.leef")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecode(f *testing.F) {
	addSamples(f)
	for _, s := range []string{
		"LEEF:1.0|V|P|1|E|a=1\tb=2",
		"LEEF:2.0|V|P|1|E|^|a=1^b=2^",
		"LEEF:2.0|V|P|1|E|x09|a=1",
		"LEEF:2.0|V|P|1|E||a=1",
		`LEEF:1.0|A\|B|C\\|D|E|k=v`,
		"LEEF:1.0|V|P|1|E",
		"LEEF:2.0|V|P|1|E|xyz|",
		"LEEF:",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := Decode(line)
		if err != nil {
			if m != nil {
				t.Fatalf("Decode() = %#v with error %v", m, err)
			}
			return
		}
		if m.Version != Version1 && m.Version != Version2 {
			t.Fatalf("Version = %q", m.Version)
		}
		if !usableDelimiter(m.Delimiter) {
			t.Fatalf("Delimiter = %q", m.Delimiter)
		}
		for _, a := range m.Attributes {
			if strings.Contains(a.Key, "=") || strings.TrimSpace(a.Key) != a.Key {
				t.Fatalf("attribute key %q", a.Key)
			}
		}

		// What decodes and can be written again must decode to the same.
		out, err := Append(nil, m)
		if err != nil {
			return
		}
		back, err := (&Decoder{Delimiter: m.Delimiter}).Decode(out)
		if err != nil {
			t.Fatalf("Decode(Append(Decode(%q))) error = %v\nline %q", line, err, out)
		}
		if !equalMessages(back, m) {
			t.Fatalf("re-decoded message differs\nfirst  %#v\nsecond %#v\nline %q", m, back, out)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(false, "Microsoft Defender for IoT", "Sensor", "24.1.3", "Microsoft Defender for IoT Alert", int32(0),
		"title\x1fUnauthorized PLC Programming\x1emsg\x1fa=b\x1eseverity\x1fMajor")
	f.Add(true, `A|B\`, "P", "1", "E", int32('^'), "k\x1fv|w\x1ee\x1f")
	f.Add(true, "V", "P", "1", "E", int32('|'), "a\x1f1\x1eb\x1f2")
	f.Add(true, "V", "P", "1", "E", int32(0xA0), "a\x1f1")
	f.Fuzz(func(t *testing.T, v2 bool, vendor, product, version, event string, delim int32, attrs string) {
		m := &Message{
			Version: Version1, Vendor: vendor, Product: product, ProductVersion: version, EventID: event,
			Delimiter: delim,
		}
		if v2 {
			m.Version = Version2
		}
		if attrs != "" {
			for rec := range strings.SplitSeq(attrs, "\x1e") {
				k, v, _ := strings.Cut(rec, "\x1f")
				m.Attributes = append(m.Attributes, Attribute{Key: k, Value: v})
			}
		}

		out, err := Append(nil, m)
		if err != nil {
			return
		}
		back, err := (&Decoder{Delimiter: m.Delimiter}).Decode(out)
		if err != nil {
			t.Fatalf("Decode(Append()) error = %v\nline %q", err, out)
		}
		if !equalMessages(back, m) {
			t.Fatalf("round trip differs\nin   %#v\nout  %#v\nline %q", m, back, out)
		}
	})
}

func FuzzMapperAlert(f *testing.F) {
	addSamples(f)
	const hdr = "LEEF:1.0|Microsoft Defender for IoT|Sensor|24.1.3|Microsoft Defender for IoT Alert|"
	for _, s := range []string{
		hdr + "severity=Major\ttype=POLICY_VIOLATION\tstart=1594550943000",
		hdr + "sev=8\tdevTime=15/07/2024 10:12:11.250\tdevTimeFormat=dd/MM/yyyy HH:mm:ss.SSS",
		hdr + "devTime=Jul 15 2024 10:12:11\tdevTimeFormat='",
		"LEEF:1.0|CyberX|x|1|y|reporter=s\tsev=11",
	} {
		f.Add([]byte(s))
	}
	mp := Mapper{Location: time.FixedZone("UTC+2", 2*3600)}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := Decode(line)
		if err != nil {
			return
		}
		a, warns, err := mp.Alert(m)
		if err != nil {
			return
		}
		if a.Vendor != m.Vendor || a.SignatureID != m.EventID {
			t.Fatalf("header not carried: %+v", a)
		}
		if a.Severity.String() == "" && a.Severity != 0 {
			t.Fatalf("Severity = %d", a.Severity)
		}
		for _, w := range warns {
			if w.Err == nil || w.Key == "" {
				t.Fatalf("warning %+v", w)
			}
		}
	})
}

func FuzzGoLayout(f *testing.F) {
	for _, s := range []string{
		"MMM dd yyyy HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "h 'o''clock' a",
		"'''", "ss.S", "EEEE", "yyyy '2' MM",
	} {
		f.Add(s)
	}
	ref := time.Date(2024, 7, 15, 10, 12, 11, 250e6, time.UTC)
	f.Fuzz(func(t *testing.T, pattern string) {
		layout, err := GoLayout(pattern)
		if err != nil {
			return
		}
		// Text without pattern letters or quotes is literal and must stay so.
		if !strings.ContainsFunc(pattern, func(r rune) bool {
			return r == '\'' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		}) && layout != pattern {
			t.Fatalf("GoLayout(%q) = %q, want the text unchanged", pattern, layout)
		}
		_, _ = time.Parse(layout, ref.Format(layout))
	})
}
