package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/tlscheck/tlstest"
)

// testdataDir is the package's testdata, absolute: TestPlan_golden
// changes the working directory.
var testdataDir, _ = filepath.Abs("testdata")

var updatePlanGolden = flag.Bool("update-plan", false, "rewrite the migration report golden files in testdata/plan")

// planNow is the report's clock in these tests: two days after the last
// sample.
var planNow = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

// planSecret is written to the secret files the fixture's inventory
// names; no report may contain it.
const planSecret = "s3cr3t-Value-Never-Shown"

// planFixture copies testdata/plan to a temporary folder and generates
// its TLS material: valid, about to expire, expired and mismatched
// (tls/missing.* stays missing). It returns the config path.
func planFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config.yaml", "inventory.yaml", "alerts.log", "api.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "plan", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name, string(data))
	}
	tls := filepath.Join(dir, "tls")
	if err := os.Mkdir(tls, 0o755); err != nil {
		t.Fatal(err)
	}
	year := 365 * 24 * time.Hour
	tlstest.Write(t, tls, "valid", tlstest.Options{CommonName: "cef-proxy-01.corp.example", NotAfter: planNow.Add(year)})
	tlstest.Write(t, tls, "listener", tlstest.Options{CommonName: "otbridge.corp.example", NotAfter: planNow.Add(2 * year)})
	tlstest.Write(t, tls, "expiring", tlstest.Options{CommonName: "cef-proxy-01.corp.example", NotAfter: planNow.Add(12 * 24 * time.Hour)})
	tlstest.Write(t, tls, "expired", tlstest.Options{CommonName: "proxy-soc.corp.example", NotAfter: planNow.Add(-40 * 24 * time.Hour)})
	tlstest.Write(t, tls, "mismatched", tlstest.Options{CommonName: "siem-collector.corp.example", NotAfter: planNow.Add(year), MismatchedKey: true})

	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fortigate.api-key", "splunk.password", "clearpass.client-secret"} {
		writeFile(t, secrets, name, planSecret+"\n")
	}
	return filepath.Join(dir, "config.yaml")
}

// runPlan runs `otbridge plan` with the report's clock pinned.
func runPlan(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, settings: newSettings(),
		now: func() time.Time { return planNow }}
	code = a.execute(context.Background(), append([]string{"plan"}, args...))
	return code, out.String(), errOut.String()
}

// TestPlan_golden pins every format of the report on the fixture, run
// from the fixture's folder so that the paths in it are relative.
func TestPlan_golden(t *testing.T) {
	t.Chdir(filepath.Dir(planFixture(t)))
	cfg := "config.yaml"
	for _, tt := range []struct{ format, file string }{
		{"text", "report.txt"},
		{"markdown", "report.md"},
		{"json", "report.json"},
		{"html", "report.html"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			code, out, errOut := runPlan(t, "--config", cfg, "--format", tt.format)
			if code != exitBlockers {
				t.Fatalf("exit %d, want %d (blockers); stderr:\n%s", code, exitBlockers, errOut)
			}
			if strings.Contains(out, planSecret) || strings.Contains(errOut, planSecret) {
				t.Fatal("a secret file's value is in the report")
			}
			got := out
			path := filepath.Join(testdataDir, "plan", tt.file)
			if *updatePlanGolden {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestPlan_golden -update-plan to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (run with -update-plan to accept):\n%s", tt.format, path, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + w + "\ngot:  " + g
		}
	}
	return ""
}

// TestPlan_findings checks that the fixture produces every finding the
// report knows, on the rule or setting it concerns.
func TestPlan_findings(t *testing.T) {
	cfg := planFixture(t)
	code, out, errOut := runPlan(t, "--config", cfg, "--format", "json")
	if code != exitBlockers {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	var p bridge.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.SchemaVersion != bridge.PlanSchemaVersion {
		t.Errorf("schema version %d", p.SchemaVersion)
	}

	type key struct{ code, rule, field string }
	got := map[key]bridge.FindingSeverity{}
	for _, f := range p.Findings {
		k := key{code: f.Code, field: f.Field}
		if f.Rule != nil {
			k.rule = f.Rule.String()
		}
		if f.Destination != "" && f.Rule == nil {
			k.field = "destination " + f.Destination
		}
		got[k] = f.Severity
	}
	want := map[key]bridge.FindingSeverity{
		{bridge.CodeMultipleSentinelServers, "wtp-north-ot01/sentinel-two-workspaces", ""}: bridge.FindingBlocker,
		{bridge.CodeTLSMaterialUnreadable, "wtp-south-ot02/sentinel-all", ""}:              bridge.FindingBlocker,
		{bridge.CodeTLSCertificateExpired, "wtp-north-ot01/sentinel-two-workspaces", ""}:   bridge.FindingBlocker,
		{bridge.CodeTLSCertificateExpiring, "wtp-north-ot01/sentinel-modbus-dnp3", ""}:     bridge.FindingWarning,
		{bridge.CodeTLSKeyMismatch, "wtp-north-ot01/soc-syslog", ""}:                       bridge.FindingBlocker,
		{bridge.CodeUnencryptedTransport, "wtp-north-ot01/sentinel-two-workspaces", ""}:    bridge.FindingWarning,
		{bridge.CodeUnencryptedTransport, "wtp-south-ot02/sentinel-operational", ""}:       bridge.FindingWarning,
		{bridge.CodeRetiredAction, "wtp-south-ot02/other-integrations", ""}:                bridge.FindingWarning,
		{bridge.CodeManagementConsoleRetired, "cm-scada-hq/sentinel-notifications", ""}:    bridge.FindingWarning,
		{bridge.CodeManagementConsoleRetired, "cm-scada-hq/soar-webhooks", ""}:             bridge.FindingWarning,
		{bridge.CodeRetiredAction, "cm-scada-hq/soar-webhooks", ""}:                        bridge.FindingWarning,
		{bridge.CodeSystemNotifications, "cm-scada-hq/sentinel-notifications", ""}:         bridge.FindingWarning,
		{bridge.CodeFilterNotEvaluable, "wtp-north-ot01/sentinel-modbus-dnp3", ""}:         bridge.FindingWarning,
		{bridge.CodeNoDestination, "wtp-south-ot02/sentinel-operational", ""}:              bridge.FindingBlocker,
		{bridge.CodeFieldTruncated, "wtp-south-ot02/sentinel-all", ""}:                     bridge.FindingWarning,
		{bridge.CodeUnmappedFields, "", "destination sentinel-ot"}:                         bridge.FindingInfo,
	}
	for k, sev := range want {
		if got[k] != sev {
			t.Errorf("finding %s on %q%s: severity %q, want %q", k.code, k.rule, k.field, got[k], sev)
		}
	}
	for k, sev := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected finding %s (%s) on %q %s", k.code, sev, k.rule, k.field)
		}
	}

	// Every code the report knows comes out of this fixture.
	codes := map[string]bool{}
	for _, f := range p.Findings {
		codes[f.Code] = true
	}
	for _, c := range []string{
		bridge.CodeMultipleSentinelServers, bridge.CodeTLSMaterialUnreadable, bridge.CodeTLSCertificateExpired,
		bridge.CodeTLSCertificateExpiring, bridge.CodeTLSKeyMismatch, bridge.CodeUnencryptedTransport,
		bridge.CodeRetiredAction, bridge.CodeManagementConsoleRetired, bridge.CodeSystemNotifications,
		bridge.CodeFilterNotEvaluable, bridge.CodeNoDestination, bridge.CodeFieldTruncated, bridge.CodeUnmappedFields,
	} {
		if !codes[c] {
			t.Errorf("no %s finding", c)
		}
	}

	// The broken sample line is reported with its line and skipped.
	if !strings.Contains(errOut, "alerts.log:8:") || !strings.Contains(errOut, "sample skipped") {
		t.Errorf("stderr does not report the broken sample:\n%s", errOut)
	}
	if p.Samples.Count != 12 {
		t.Errorf("%d samples, want 10 alerts from the log and 2 from the API document", p.Samples.Count)
	}
}

// TestPlan_rows checks the rule view: the modern rows previewed are the
// rows the destination's mapper writes, and volumes come from the samples.
func TestPlan_rows(t *testing.T) {
	cfg := planFixture(t)
	_, out, _ := runPlan(t, "--config", cfg, "--format", "json", "--previews", "1")
	var p bridge.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	var crit *bridge.PlanRule
	for ai := range p.Appliances {
		for ri := range p.Appliances[ai].Rules {
			if r := &p.Appliances[ai].Rules[ri]; r.Rule.String() == "wtp-north-ot01/sentinel-critical" {
				crit = r
			}
		}
	}
	if crit == nil {
		t.Fatal("no wtp-north-ot01/sentinel-critical in the report")
	}
	// Two Critical alerts of the north sensor in the log.
	if crit.Mode != bridge.ModeDual || crit.Selected != 2 || len(crit.Previews) != 1 {
		t.Fatalf("sentinel-critical: mode %s, selected %d, %d previews", crit.Mode, crit.Selected, len(crit.Previews))
	}
	var row map[string]any
	if err := json.Unmarshal(crit.Previews[0].Row, &row); err != nil {
		t.Fatal(err)
	}
	if row["DeviceProduct"] != "wtp-north-ot01" || row["DeviceCustomString6"] != "modern" || row["Activity"] != "Unauthorized PLC Programming" {
		t.Errorf("preview row %v", row)
	}
	if crit.PerDay == nil || crit.PerDay.Alerts <= 0 || crit.PerDay.Compressed <= 0 || crit.PerDay.Compressed >= crit.PerDay.Bytes {
		t.Errorf("per-day volume %+v", crit.PerDay)
	}
}

func TestPlan_exitStatus(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "inventory.yaml", `version: 1
appliances:
  - name: plant-a
    kind: sensor
    rules:
      - name: r1
        minimal_alert_level: Major
        actions:
          - type: sentinel
            host: 10.0.0.1
            port: 6514
            encryption:
              enabled: true
              certificate_file: proxy.crt
              key_file: proxy.key
`)
	tlstest.Write(t, dir, "proxy", tlstest.Options{NotAfter: planNow.Add(400 * 24 * time.Hour)})
	cfg := writeFile(t, dir, "otbridge.yaml", `inventory: [inventory.yaml]
destinations:
  legacy:
    - name: proxy
      address: 127.0.0.1:514
routing:
  default:
    mode: legacy
    legacy: [proxy]
`)
	code, out, errOut := runPlan(t, "--config", cfg)
	if code != exitOK {
		t.Fatalf("clean setup: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "0 blockers") {
		t.Errorf("text report without its summary:\n%s", out)
	}

	// --out writes the file and says so on stderr.
	outFile := filepath.Join(dir, "plan.md")
	code, out, errOut = runPlan(t, "--config", cfg, "--format", "markdown", "--out", outFile)
	if code != exitOK || out != "" || !strings.Contains(errOut, "wrote "+outFile) {
		t.Errorf("--out: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if data, err := os.ReadFile(outFile); err != nil || !bytes.HasPrefix(data, []byte("#")) {
		t.Errorf("--out file: %v %q", err, data)
	}

	// A cut-over route without a destination: validate refuses it, plan
	// reports it as a blocker.
	gap := writeFile(t, dir, "gap.yaml", `inventory: [inventory.yaml]
routing:
  default:
    mode: modern
`)
	if code, _, _ := runCLI(t, "", "validate", "--config", gap); code != exitFailure {
		t.Errorf("validate accepted a modern route without destination: exit %d", code)
	}
	code, out, _ = runPlan(t, "--config", gap, "--format", "json")
	if code != exitBlockers || !strings.Contains(out, `"code": "no-destination"`) {
		t.Errorf("gap: exit %d\n%s", code, out)
	}

	// Unreadable inputs are errors, not blockers.
	if code, _, errOut := runPlan(t, "--config", filepath.Join(dir, "none.yaml")); code != exitFailure {
		t.Errorf("missing config: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runPlan(t, "--config", cfg, "--alerts", filepath.Join(dir, "none.log")); code != exitFailure || !strings.Contains(errOut, "none.log") {
		t.Errorf("missing alerts: exit %d, %s", code, errOut)
	}
	if code, _, _ := runPlan(t, "--config", cfg, "--format", "pdf"); code != exitUsage {
		t.Errorf("unknown format: exit %d", code)
	}
}

// TestPlan_example runs the README's first command: the report on the
// bundled example, with its sample alerts.
func TestPlan_example(t *testing.T) {
	code, out, errOut := runPlan(t, "--config", exampleConfig)
	if code != exitOK && code != exitBlockers {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"wtp-north-ot01", "sentinel-critical", "FINDINGS", "13 alerts"} {
		if !strings.Contains(out, want) {
			t.Errorf("example report lacks %q", want)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 100 && !slices.ContainsFunc([]string{"{", "\""}, func(p string) bool { return strings.HasPrefix(strings.TrimSpace(line), p) }) {
			t.Errorf("line of %d columns: %s", n, line)
		}
	}
}
