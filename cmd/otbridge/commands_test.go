package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line with the given standard input and returns
// the exit status and both outputs.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const exampleConfig = "../../configs/example.yaml"

func TestValidate_example(t *testing.T) {
	code, out, errOut := runCLI(t, "", "validate", "--config", exampleConfig)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "ok: 4 appliances, 11 rules (5 routed)") {
		t.Errorf("unexpected summary: %q", out)
	}
}

func TestValidate_reportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "inventory.yaml", `version: 1
appliances:
  - name: plant-a
    kind: sensor
    rules:
      - name: r1
        minimal_alert_level: Hgh
        any_protocol_detected: true
        traffic_detected_by_any_engine: true
        actions:
          - type: sentinel
            host: 10.0.0.1
            port: 70000
            timezone: UTC
`)
	cfg := writeFile(t, dir, "otbridge.yaml", `inventory: [inventory.yaml]
destinations:
  legacy:
    - name: proxy
      address: 127.0.0.1:514
routing:
  default:
    mode: legacy
    legacy: [proxy]
  rules:
    - appliance: plant-a
      rule: r2
      mode: legacy
      legacy: [proxy]
`)
	code, _, errOut := runCLI(t, "", "validate", "--config", cfg)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	for _, want := range []string{
		"inventory.yaml:7:", "minimal_alert_level", `"Hgh"`,
		"inventory.yaml:13:", "port",
		"2 problems found",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// An unknown key in the config does not hide the inventory's problems.
	badKey := writeFile(t, dir, "bad-key.yaml", "inventory: [inventory.yaml]\nroutng: {}\n")
	code, _, errOut = runCLI(t, "", "validate", "--config", badKey)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	for _, want := range []string{"bad-key.yaml:2: routng: unknown key", "inventory.yaml:7:", "inventory.yaml:13:", "3 problems found"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// Routes are checked against the inventory once it loads.
	writeFile(t, dir, "inventory.yaml", `version: 1
appliances:
  - name: plant-a
    kind: sensor
    rules:
      - name: r1
        minimal_alert_level: Major
        any_protocol_detected: true
        traffic_detected_by_any_engine: true
        actions: [{type: sentinel, host: 10.0.0.1, port: 514, timezone: UTC}]
`)
	_, _, errOut = runCLI(t, "", "validate", "--config", cfg)
	if want := `otbridge.yaml:11: routing.rules[0]: no rule "r2" on appliance "plant-a"`; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

func TestRules_json(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "--config", exampleConfig, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var views []ruleView
	if err := json.Unmarshal([]byte(out), &views); err != nil {
		t.Fatal(err)
	}
	byName := map[string]ruleView{}
	for _, v := range views {
		byName[v.Appliance+"/"+v.Rule] = v
	}
	dual := byName["wtp-north-ot01/sentinel-critical"]
	if dual.Mode != "dual" || len(dual.Legacy) != 1 || len(dual.Modern) != 1 || !dual.Routed {
		t.Errorf("sentinel-critical route = %+v", dual)
	}
	if got := filepath.ToSlash(dual.Source); !strings.HasSuffix(got, "configs/inventory.yaml:27:9") {
		t.Errorf("source = %q", got)
	}
	mail := byName["wtp-north-ot01/ot-engineering-mail"]
	if mail.Routed || mail.Mode != "" || mail.Actions[0].Path != "appliance" {
		t.Errorf("a rule without a Sentinel action is routed: %+v", mail)
	}
	if v := byName["wtp-north-ot01/sentinel-modbus-dnp3"]; len(v.Protocols) != 2 || len(v.Engines) != 2 {
		t.Errorf("filters lost: %+v", v)
	}
}

func TestRules_text(t *testing.T) {
	code, out, _ := runCLI(t, "", "rules", "--config", exampleConfig)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "dual -> cef-proxy-01 + sentinel-ot") || !strings.Contains(out, "cm-scada-hq (console)") {
		t.Errorf("table lacks routes or console marker:\n%s", out)
	}
}

func TestRun_usage(t *testing.T) {
	code, _, errOut := runCLI(t, "", "rules", "--format", "xml", "--config", exampleConfig)
	if code != exitUsage || !strings.Contains(errOut, "unknown --format") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, _ = runCLI(t, "", "validate", "--no-such-flag")
	if code != exitUsage {
		t.Errorf("unknown flag: exit %d, want %d", code, exitUsage)
	}
	code, out, _ := runCLI(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "otbridge ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestFlags_overrideConfig(t *testing.T) {
	// The flag beats the environment, which beats the file.
	t.Setenv("OTBRIDGE_LOG_LEVEL", "debug")
	code, _, errOut := runCLI(t, "", "validate", "--config", exampleConfig, "--log-level", "chatty")
	if code != exitFailure || !strings.Contains(errOut, `log.level: unknown level "chatty" (want debug, info, warn or error) (set by flag --log-level)`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	t.Setenv("OTBRIDGE_LOG_LEVEL", "loud")
	code, _, errOut = runCLI(t, "", "validate", "--config", exampleConfig)
	if code != exitFailure || !strings.Contains(errOut, `(set by environment variable OTBRIDGE_LOG_LEVEL)`) {
		t.Errorf("environment not applied: exit %d, stderr %q", code, errOut)
	}
}
