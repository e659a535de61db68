package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/otbridge/otbridge/legacy/cef"
)

func decodeOutput(t *testing.T, out string) []decoded {
	t.Helper()
	var ds []decoded
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var d decoded
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("output is not JSON lines: %v\n%s", err, out)
		}
		ds = append(ds, d)
	}
	return ds
}

func TestDecode_lines(t *testing.T) {
	in := strings.Join([]string{
		`<9>Mar  4 09:15:02 wtp-north-ot01 CEF:0|Microsoft Defender for IoT|wtp-north-ot01|24.1.3|Microsoft Defender for IoT Alert|Unauthorized PLC Programming|8|msg=PLC programmed protocol=S7 severity=Major type=Policy Violation`,
		``,
		`CEF:0|Vendor|Product\|1|Version|Signature ID|some name|Severity| aa=field1 bb=this is a name\=value`,
		`CEF:0|broken`,
		"<9>Mar  4 09:15:02 wtp-north-ot01 LEEF:1.0|Microsoft Defender for IoT|Sensor|24.1.3|Microsoft Defender for IoT Alert|title=Scan\tseverity=Minor",
		strings.Repeat("x", 300),
	}, "\n")
	code, out, errOut := runCLI(t, in, "decode", "--max-message-size", "256")
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	for _, want := range []string{"stdin:4: decode cef: cef header has", "stdin:6: message longer than 256 bytes", "2 of 5 messages failed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	ds := decodeOutput(t, out)
	if len(ds) != 3 {
		t.Fatalf("%d objects, want 3:\n%s", len(ds), out)
	}
	if d := ds[0]; d.Line != 1 || d.Syslog == nil || d.Syslog.Hostname != "wtp-north-ot01" || d.CEF == nil || d.Alert == nil || d.Alert.Title != "Unauthorized PLC Programming" {
		t.Errorf("line 1 = %+v", d)
	}
	if d := ds[1]; d.Line != 3 || d.CEF.Product != "Product|1" || d.CEF.Extensions["bb"] != "this is a name=value" || d.Alert != nil || d.NotAlert == "" {
		t.Errorf("line 3 = %+v", d)
	}
	if d := ds[2]; d.Line != 5 || d.LEEF == nil || d.Alert == nil || d.Alert.Sensor != "wtp-north-ot01" {
		t.Errorf("line 5 = %+v", d)
	}
}

func TestDecode_apiJSON(t *testing.T) {
	doc := `[
  {"id": 1, "time": 1594550943000, "title": "Unauthorized PLC Program Upload", "severity": "Major", "engine": "POLICY_VIOLATION",
   "additionalinformation": {"description": "d", "information": ["i"]}, "remediationSteps": "Check the PLC"},
  {"id": 2, "time": "soon"},
  {"id": 3, "title": "Scan", "severity": null}
]`
	code, out, errOut := runCLI(t, doc, "decode")
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(errOut, "stdin:4:") || !strings.Contains(errOut, "1 of 3 messages failed") {
		t.Errorf("stderr = %q", errOut)
	}
	ds := decodeOutput(t, out)
	if len(ds) != 2 || *ds[0].Index != 0 || *ds[1].Index != 2 {
		t.Fatalf("output = %s", out)
	}
	a := ds[0].Alert
	if a.AdditionalInfo == nil || a.AdditionalInfo.Description != "d" || len(a.RemediationSteps) != 1 || a.Engine != "Policy Violation" {
		t.Errorf("alert 0 = %+v", a)
	}
}

func TestDecode_badFlags(t *testing.T) {
	for _, args := range [][]string{
		{"decode", "--format", "xml"},
		{"decode", "--timezone", "Nowhere/Else"},
		{"decode", "a", "b"},
	} {
		if code, _, _ := runCLI(t, "", args...); code != exitUsage && code != exitFailure {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	if code, _, errOut := runCLI(t, "", "decode", "no-such-file.log"); code != exitFailure || !strings.Contains(errOut, "no-such-file.log") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

// TestDecode_vectors runs the public CEF vectors through the command: every
// line that the cef package decodes comes out with the same header and
// extensions, and every line it refuses is reported with its line number.
func TestDecode_vectors(t *testing.T) {
	files, err := filepath.Glob("../../legacy/cef/testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	var lines []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Cases       []struct{ Input *string } `json:"cases"`
			DecodeCases []struct{ Input *string } `json:"decode_cases"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range append(doc.Cases, doc.DecodeCases...) {
			// One message per line: inputs holding a line break are the
			// package test's business.
			if c.Input != nil && *c.Input != "" && !strings.ContainsAny(*c.Input, "\r\n") {
				lines = append(lines, *c.Input)
			}
		}
	}
	if len(lines) < 50 {
		t.Fatalf("only %d vector lines", len(lines))
	}

	_, out, errOut := runCLI(t, strings.Join(lines, "\n"), "decode", "--format", "cef")
	got := map[int]decoded{}
	for _, d := range decodeOutput(t, out) {
		got[d.Line] = d
	}
	for i, line := range lines {
		n := i + 1
		ev, err := cef.Decode([]byte(line))
		d, printed := got[n]
		switch {
		case err != nil && printed:
			t.Errorf("line %d: package refuses (%v) but the command printed %+v", n, err, d.CEF)
		case err != nil && !strings.Contains(errOut, fmt.Sprintf("stdin:%d: ", n)):
			t.Errorf("line %d: refused without a report on stderr", n)
		case err == nil && !printed:
			t.Errorf("line %d: package decodes but the command printed nothing", n)
		case err == nil && !reflect.DeepEqual(*d.CEF, *viewCEF(ev)):
			t.Errorf("line %d: command %+v, package %+v", n, *d.CEF, *viewCEF(ev))
		}
	}
}
