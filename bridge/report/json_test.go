package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/otbridge/otbridge/bridge"
)

func TestJSON_Golden(t *testing.T) { goldenTest(t, "json") }

// The JSON report decodes to the plan's schema: its version, the keys of
// the struct tags, findings with their codes, rows as JSON objects, and
// strings with <, > and & as written.
func TestJSON_RoundTrip(t *testing.T) {
	p := fixturePlan()
	out := render(t, "json", p)
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("json report does not decode: %v", err)
	}
	if v, ok := doc["schema_version"].(float64); !ok || int(v) != bridge.PlanSchemaVersion {
		t.Errorf("schema_version = %v, want %d", doc["schema_version"], bridge.PlanSchemaVersion)
	}
	for _, key := range []string{"generated_at", "sources", "summary", "findings", "appliances", "destinations", "samples", "undecided_policy", "expiry_horizon"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("json report lacks %q", key)
		}
	}
	if doc["expiry_horizon"] != "720h0m0s" {
		t.Errorf("expiry_horizon = %v", doc["expiry_horizon"])
	}

	findings, _ := doc["findings"].([]any)
	if len(findings) != len(p.Findings) {
		t.Fatalf("%d findings, want %d", len(findings), len(p.Findings))
	}
	for i, f := range findings {
		if code := f.(map[string]any)["code"]; code != p.Findings[i].Code {
			t.Errorf("finding %d code %v, want %s", i, code, p.Findings[i].Code)
		}
	}
	rule := doc["appliances"].([]any)[0].(map[string]any)["rules"].([]any)[0].(map[string]any)
	row, ok := rule["previews"].([]any)[0].(map[string]any)["row"].(map[string]any)
	if !ok || row["DeviceVendor"] != "Microsoft Defender for IoT" {
		t.Errorf("preview row is not the row's JSON object: %v", rule["previews"])
	}
	if rule["per_day"].(map[string]any)["compressed_bytes"] != 6120.0 {
		t.Errorf("per_day = %v", rule["per_day"])
	}

	// Decoded into a Plan and written again, the report is the same.
	var back bridge.Plan
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("json report does not decode into a plan: %v", err)
	}
	var again bytes.Buffer
	if err := JSON(&again, &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), out) {
		t.Errorf("json report changes through a plan:\n got: %.500s\nwant: %.500s", again.Bytes(), out)
	}

	if bytes.Contains(out, []byte(`\u003c`)) || !bytes.Contains(out, []byte(`<script>alert(\"x\")</script> & 'quotes'`)) {
		t.Error("json report escapes <, > or & for HTML")
	}
}
