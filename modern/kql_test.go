package modern

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParityKQL_golden(t *testing.T) {
	opts := KQLOptions{
		Timezone: "Europe/Paris",
		Rules: map[string]string{
			"Plant-A-Sensor-01": "plant-a / Sentinel critical",
			"plant-b-sensor-02": `plant-b / "all"`,
		},
	}
	for _, profile := range Profiles {
		t.Run(profile, func(t *testing.T) {
			got := ParityKQL(Config{Profile: profile}, opts)
			checkKQL(t, got)
			checkGolden(t, filepath.Join("testdata", "kql", profile+".kql"), []byte(got))
		})
	}
}

// checkKQL checks what can be checked of KQL without a cluster: two query
// blocks separated by a blank line, brackets and quotes balanced, every
// let statement ended, and no block ending in a let.
func checkKQL(t *testing.T, q string) {
	t.Helper()
	blocks := strings.Split(strings.TrimSpace(q), "\n\n")
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want the header comment and two queries", len(blocks))
	}
	for i, block := range blocks[1:] {
		var code []string
		for _, line := range strings.Split(block, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "//") {
				code = append(code, line)
			}
		}
		src := strings.Join(code, "\n")
		var stack []rune
		inString := false
		for j, r := range src {
			switch {
			case inString:
				if r == '"' && src[j-1] != '\\' {
					inString = false
				}
			case r == '"':
				inString = true
			case r == '(' || r == '[':
				stack = append(stack, r)
			case r == ')' || r == ']':
				open := map[rune]rune{')': '(', ']': '['}[r]
				if len(stack) == 0 || stack[len(stack)-1] != open {
					t.Fatalf("query %d: unbalanced %c at %d:\n%s", i+1, r, j, src)
				}
				stack = stack[:len(stack)-1]
			}
		}
		if inString || len(stack) != 0 {
			t.Errorf("query %d: open string or brackets %q", i+1, stack)
		}
		// Statements are separated by ";": every one but the last is a let.
		stmts := strings.Split(strings.TrimSpace(src), ";\n")
		for _, s := range stmts[:len(stmts)-1] {
			if !strings.HasPrefix(strings.TrimSpace(s), "let ") {
				t.Errorf("query %d: statement is not a let: %.80s", i+1, s)
			}
		}
		if last := stmts[len(stmts)-1]; strings.HasPrefix(last, "let ") || strings.HasSuffix(last, ";") {
			t.Errorf("query %d ends without a tabular expression: %.80s", i+1, last)
		}
	}
}

func TestParityKQL_options(t *testing.T) {
	q := ParityKQL(Config{Profile: ProfileCustom, Table: "PlantA_CL"}, KQLOptions{
		Lookback:    36 * time.Hour,
		Settle:      90 * time.Second,
		PairOnFacts: true,
	})
	checkKQL(t, q)
	for _, want := range []string{
		"let lookback = 36h;",
		"let settle = 90s;",
		`let tz = "UTC";`,
		"PlantA_CL\n",
		`| extend PairKey = strcat(Sensor, "|", Detected, "|", Title)`,
	} {
		if !strings.Contains(q, want) {
			t.Errorf("queries lack %q", want)
		}
	}
	if strings.Contains(q, "isnotempty(UUID)") {
		t.Error("PairOnFacts still pairs on UUID")
	}
}

func TestKQLString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:     `"plain"`,
		`a "b" \ c`: `"a \"b\" \\ c"`,
		"line\nx":   `"line\nx"`,
	} {
		if got := kqlString(in); got != want {
			t.Errorf("kqlString(%q) = %s, want %s", in, got, want)
		}
	}
}
