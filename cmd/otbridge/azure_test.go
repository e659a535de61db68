package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAzureDCR(t *testing.T) {
	for _, args := range [][]string{
		{"azure", "dcr", "--profile", "custom-table"},
		{"azure", "dcr", "--config", exampleConfig, "--destination", "sentinel-ot"},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d, stderr %s", args, code, errOut)
		}
		var tmpl struct {
			Resources []map[string]any `json:"resources"`
			Outputs   map[string]any   `json:"outputs"`
		}
		if err := json.Unmarshal([]byte(out), &tmpl); err != nil {
			t.Fatalf("%v: not JSON: %v", args, err)
		}
		if len(tmpl.Resources) == 0 || len(tmpl.Outputs) == 0 || !strings.Contains(out, "Microsoft.Insights/dataCollectionRules") {
			t.Errorf("%v: template lacks the DCR or its outputs", args)
		}
	}
	if code, out, _ := runCLI(t, "", "azure", "dcr", "--profile", "custom-table"); code != exitOK || !strings.Contains(out, "Microsoft.OperationalInsights/workspaces/tables") {
		t.Error("custom-table template lacks the table")
	}

	out := filepath.Join(t.TempDir(), "dcr.json")
	if code, _, _ := runCLI(t, "", "azure", "dcr", "--out", out); code != exitOK {
		t.Fatal("--out failed")
	}
	if b, err := os.ReadFile(out); err != nil || !json.Valid(b) {
		t.Errorf("--out wrote no valid JSON: %v", err)
	}
	if code, _, _ := runCLI(t, "", "azure", "dcr", "--profile", "nope"); code != exitUsage {
		t.Errorf("unknown profile: exit %d", code)
	}
	if code, _, errOut := runCLI(t, "", "azure", "dcr", "--config", exampleConfig, "--destination", "nope"); code != exitFailure || !strings.Contains(errOut, `no modern destination named "nope"`) {
		t.Errorf("unknown destination: exit %d, %q", code, errOut)
	}
}

func TestAzureKQL(t *testing.T) {
	code, out, errOut := runCLI(t, "", "azure", "kql", "--config", exampleConfig, "--destination", "sentinel-ot")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	// The dual and modern rules routed to the destination name their
	// sensors' counts.
	for _, want := range []string{"CommonSecurityLog", "wtp-north-ot01/sentinel-critical", "wtp-south-ot01/sentinel-major"} {
		if !strings.Contains(out, want) {
			t.Errorf("queries lack %q", want)
		}
	}
	if strings.Contains(out, "pump-station-07/sentinel-all") {
		t.Error("a legacy-only rule is counted under the destination")
	}
}
