package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/otbridge/otbridge/bridge"
)

func TestText_Golden(t *testing.T)      { goldenTest(t, "txt") }
func TestText_GoldenColor(t *testing.T) { goldenTest(t, "color.txt") }

func TestText_Width(t *testing.T) {
	for _, f := range fixtures {
		for _, width := range []int{0, 90, 132} {
			for _, color := range []bool{false, true} {
				var b bytes.Buffer
				if err := Text(&b, f.plan(), TextOptions{Color: color, Width: width}); err != nil {
					t.Fatal(err)
				}
				limit := width
				if limit == 0 {
					limit = DefaultTextWidth
				}
				if long := longLines(b.Bytes(), limit); len(long) > 0 {
					t.Errorf("%s, width %d, color %v: %d lines over %d columns, first:\n%s", f.name, width, color, len(long), limit, long[0])
				}
			}
		}
	}
}

func TestText_Color(t *testing.T) {
	plain := render(t, "txt", fixturePlan())
	if bytes.ContainsRune(plain, '\x1b') {
		t.Error("text without colour has an escape character")
	}
	colored := render(t, "color.txt", fixturePlan())
	for _, want := range []string{ansiRed + "BLOCKER" + ansiReset, ansiYellow + "WARNING" + ansiReset, ansiDim + "INFO" + ansiReset} {
		if !bytes.Contains(colored, []byte(want)) {
			t.Errorf("coloured text lacks %q", want)
		}
	}
	if got := ansiStyle.ReplaceAll(colored, nil); !bytes.Equal(got, plain) {
		t.Error("coloured text differs from plain text in more than its styles")
	}
}

// Every value of the plan reaches the text report, whole: wrapped lines
// joined again give the long path back.
func TestText_Content(t *testing.T) {
	out := string(render(t, "txt", fixturePlan()))
	joined := strings.Join(strings.Fields(out), "")
	for _, want := range []string{hostileRule, backtickRule, longCertPath} {
		if !strings.Contains(joined, strings.Join(strings.Fields(want), "")) {
			t.Errorf("text report lacks %q", want)
		}
	}
	p := fixturePlan()
	for _, f := range p.Findings {
		if !strings.Contains(out, f.Code) {
			t.Errorf("text report lacks finding %s", f.Code)
		}
	}
	for _, a := range p.Appliances {
		for _, r := range a.Rules {
			for _, act := range r.Actions {
				if !strings.Contains(joined, strings.Join(strings.Fields(act.Current), "")) {
					t.Errorf("text report lacks action %s/%d: %s", r.Rule, act.Index, act.Current)
				}
			}
		}
	}
}

// A name with terminal control characters or text direction overrides
// is shown escaped: a report must not be able to drive the terminal.
func TestText_ControlCharacters(t *testing.T) {
	p := fixturePlan()
	p.Appliances[0].Rules[0].Rule.Rule = "evil\x1b[2J\x1b]0;title\a\u202egnp.exe"
	p.Findings[0].Message = "line one\nline two\r\u009b31m \x9b1m"
	out := render(t, "txt", p)
	if bytes.ContainsAny(out, "\x1b\a\r\u202e\u009b") || bytes.IndexByte(out, 0x9b) >= 0 {
		t.Errorf("text report writes control characters: %q", out)
	}
	for _, want := range []string{`evil\x1b[2J\x1b]0;title\a\u202egnp.exe`, `line one line two \u009b31m` + " \uFFFD1m"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("text report lacks the escaped %q", want)
		}
	}
}

func TestText_LayoutHelpers(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"one two three", 7, []string{"one two", "three"}},
		{"abcdefghij klm", 4, []string{"abcd", "efgh", "ij", "klm"}},
		{"Zürich Überwachung", 6, []string{"Zürich", "Überwa", "chung"}},
		{"rule sentinel-notifications", 12, []string{"rule", "sentinel-", "notification", "s"}},
		{"at /etc/otbridge/tls/listener.pem now", 16, []string{"at", "/etc/otbridge/", "tls/listener.pem", "now"}},
		{ansiRed + "red" + ansiReset + " word", 8, []string{ansiRed + "red" + ansiReset + " word"}},
	}
	for _, tt := range tests {
		got := wrap(tt.s, tt.width)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
	}
	if got, cut := cut("abcdef", 4); got != "abc…" || !cut {
		t.Errorf("cut = %q, %v", got, cut)
	}
	for v, want := range map[float64]string{0: "0", 1.777: "1.8", 26.666: "27", 12345.6: "12,346", 1234567: "1,234,567"} {
		if got := rate(v); got != want {
			t.Errorf("rate(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0 B", 999: "999 B", 6120: "6.1 kB", 2_300_000: "2.3 MB", 4.2e12: "4.2 TB"} {
		if got := byteSize(v); got != want {
			t.Errorf("byteSize(%v) = %q, want %q", v, got, want)
		}
	}
}

// The report of a plan that BuildPlan made, with its real messages, keeps
// within the width too.
func TestText_BuildPlan(t *testing.T) {
	p := builtPlan(t)
	for _, format := range []string{"txt", "color.txt", "md", "json", "html"} {
		out := render(t, format, p)
		if format == "txt" || format == "color.txt" {
			if long := longLines(out, DefaultTextWidth); len(long) > 0 {
				t.Errorf("%s: line over %d columns: %s", format, DefaultTextWidth, long[0])
			}
		}
		if !bytes.Contains(out, []byte(bridge.CodeMultipleSentinelServers)) {
			t.Errorf("%s lacks the finding", format)
		}
	}
}
