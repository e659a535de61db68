package report

import (
	"strings"
	"testing"
)

func TestMarkdown_Golden(t *testing.T) { goldenTest(t, "md") }

// cells counts a table row's cells: its pipes less the escaped ones.
func cells(row string) int {
	return strings.Count(row, "|") - strings.Count(row, `\|`) - 1
}

// Every row of a table has as many cells as its header, whatever the
// values hold.
func TestMarkdown_Tables(t *testing.T) {
	for _, f := range fixtures {
		out := string(render(t, "md", f.plan()))
		header := -1
		for i, l := range strings.Split(out, "\n") {
			switch {
			case !strings.HasPrefix(l, "|"):
				header = -1
			case header < 0:
				header = cells(l)
			case cells(l) != header:
				t.Errorf("%s line %d has %d cells, its header %d: %s", f.name, i+1, cells(l), header, l)
			}
		}
	}
}

func TestMarkdown_Escaping(t *testing.T) {
	out := string(render(t, "md", fixturePlan()))
	for _, want := range []string{
		`\<script\>alert("x")\</script\> \& 'quotes' \| pipes`, // text, in a heading and a cell
		"Kühlwasser — Überwachung \\`\\`\\` \\`rm -rf\\` \\`\\`\\`",
		"````json\n", // a row holding ``` gets a longer fence
		"setting `listeners[0].tls`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>") {
		// Only inside the fenced rows may markup stand as written.
		for _, block := range strings.Split(out, "```") {
			if strings.Contains(block, "<b>") {
				t.Errorf("markdown has unescaped markup outside a code block: %.200s", block)
			}
		}
	}

	tests := []struct {
		in   string
		cell bool
		want string
	}{
		{"plain", false, "`plain`"},
		{"a`b", false, "``a`b``"},
		{"`x`", false, "`` `x` ``"},
		{"a|b", true, "`a\\|b`"},
		{"a|b", false, "`a|b`"},
		{"", false, ""},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in, tt.cell); got != tt.want {
			t.Errorf("mdCode(%q, %v) = %q, want %q", tt.in, tt.cell, got, tt.want)
		}
	}
	for in, want := range map[string]string{"- item": `\- item`, "1. one": `1\. one`, "# h": `\# h`, "=": `\=`, "ok": "ok"} {
		if got := mdLine(in); got != want {
			t.Errorf("mdLine(%q) = %q, want %q", in, got, want)
		}
	}
}
