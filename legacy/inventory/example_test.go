package inventory

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otbridge/otbridge/bridge"
)

// TestLoad_Examples loads the commented examples in configs/, which the
// README points readers at, so that they never drift from the format.
func TestLoad_Examples(t *testing.T) {
	configs := filepath.Join("..", "..", "configs")

	t.Run("yaml", func(t *testing.T) {
		inv, err := Load(filepath.Join(configs, "inventory.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range inv.Appliances {
			names = append(names, string(a.Kind)+":"+a.Name)
		}
		want := []string{"sensor:wtp-north-ot01", "sensor:wtp-south-ot01", "sensor:pump-station-07", "management-console:cm-scada-hq"}
		if !slices.Equal(names, want) {
			t.Errorf("appliances = %v, want %v", names, want)
		}
		if n := len(inv.Rules()); n != 11 {
			t.Errorf("rules = %d, want 11", n)
		}

		// The example shows every action type, every minimal level and
		// every filter shape.
		types := map[bridge.ActionType]bool{}
		levels := map[bridge.Severity]bool{}
		var anyProto, listProto, anyEngine, listEngine bool
		for _, r := range inv.Rules() {
			levels[r.MinSeverity] = true
			anyProto = anyProto || r.Protocols == nil
			listProto = listProto || r.Protocols != nil
			anyEngine = anyEngine || r.Engines == nil
			listEngine = listEngine || r.Engines != nil
			for _, a := range r.Actions {
				types[a.Type] = true
				if info, _ := a.Type.Info(); info.ConsoleOnly && r.ApplianceKind != bridge.ApplianceConsole {
					t.Errorf("%s: console-only %s action on a sensor", r.Ref(), a.Type)
				}
			}
		}
		for _, at := range bridge.ActionTypes() {
			if !types[at] {
				t.Errorf("no %s action in the example", at)
			}
		}
		for _, s := range bridge.Severities {
			if !levels[s] {
				t.Errorf("no rule with minimal level %s", s)
			}
		}
		if !anyProto || !listProto || !anyEngine || !listEngine {
			t.Errorf("filter shapes: any protocol %v, protocol list %v, any engine %v, engine list %v", anyProto, listProto, anyEngine, listEngine)
		}

		twice := inv.Rule(bridge.RuleRef{Appliance: "wtp-north-ot01", Rule: "sentinel-modbus-dnp3"})
		if twice == nil || len(twice.SentinelActions()) != 2 {
			t.Errorf("the rule with two Sentinel servers: %+v", twice)
		}
		if !slices.Equal(twice.Protocols, []string{"Modbus", "DNP3"}) ||
			!slices.Equal(twice.Engines, []bridge.Engine{bridge.EngineProtocolViolation, bridge.EnginePolicyViolation}) {
			t.Errorf("filters = %v %v", twice.Protocols, twice.Engines)
		}

		crit := inv.Rule(bridge.RuleRef{Appliance: "wtp-north-ot01", Rule: "sentinel-critical"})
		enc := crit.Actions[0].Encryption
		if !enc.Enabled || enc.CertFile != filepath.Join(configs, "tls", "cef-proxy-01.crt") || enc.KeyFile != filepath.Join(configs, "tls", "wtp-north-ot01.key") {
			t.Errorf("encryption = %+v, want files under configs/tls", enc)
		}

		text := inv.Rule(bridge.RuleRef{Appliance: "pump-station-07", Rule: "operations-log"}).Actions[0]
		if text.Transport != bridge.TransportTCP || text.Timezone != "UTC-05:00" || text.Target() != "ops-log.water.example:1514" {
			t.Errorf("syslog-text action = %+v", text)
		}

		cm := inv.Appliance("cm-scada-hq")
		if !slices.Equal(cm.Sensors, []string{"wtp-north-ot01", "pump-station-07"}) || !cm.Rules[0].SystemNotifications {
			t.Errorf("management console = %+v", cm)
		}
		if pos := inv.RuleSource(twice.Ref()); pos.Line == 0 || !strings.HasSuffix(pos.File, "inventory.yaml") {
			t.Errorf("rule source = %v", pos)
		}
	})

	t.Run("json", func(t *testing.T) {
		inv, err := Load(filepath.Join(configs, "inventory.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Appliances) != 2 || len(inv.Rules()) != 3 {
			t.Fatalf("got %d appliances, %d rules; want 2 and 3", len(inv.Appliances), len(inv.Rules()))
		}
		cm := inv.Appliance("cm-plant-b")
		if cm.Kind != bridge.ApplianceConsole || cm.Sensors != nil || !cm.Rules[0].Covers("plant-b-line2") {
			t.Errorf("management console = %+v", cm)
		}
		hook := cm.Rules[0].Actions[1]
		if hook.Type != bridge.ActionWebhook || hook.Headers["X-Api-Key_file"] != filepath.Join(configs, "secrets", "hooks.api-key") {
			t.Errorf("webhook = %+v", hook)
		}
		r := inv.Rule(bridge.RuleRef{Appliance: "plant-b-line2", Rule: "profinet-to-syslog"})
		if r.MinSeverity != bridge.SeverityMinor || !slices.Equal(r.Protocols, []string{"PROFINET", "S7"}) {
			t.Errorf("rule = %+v", r)
		}
		if pos := inv.ActionSource(r.Ref(), 1); pos.Line != 42 || pos.Column != 13 {
			t.Errorf("email action source = %v, want line 42, column 13", pos)
		}
	})

	t.Run("together", func(t *testing.T) {
		inv, err := LoadFiles(filepath.Join(configs, "inventory.yaml"), filepath.Join(configs, "inventory.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Appliances) != 6 {
			t.Errorf("appliances = %d, want 6", len(inv.Appliances))
		}
	})
}
