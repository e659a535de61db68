package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// builtPlan is a plan that BuildPlan makes from a small inventory and a
// day of sample alerts, with its real paths and messages.
func builtPlan(t *testing.T) *bridge.Plan {
	t.Helper()
	sentinel := func(host string, encrypted bool) bridge.Action {
		return bridge.Action{Type: bridge.ActionSentinel, Host: host, Port: 6514, Encryption: bridge.Encryption{Enabled: encrypted}}
	}
	sensor := bridge.Appliance{Name: "plant-a-sensor-01", Kind: bridge.ApplianceSensor, Version: "24.1.3", Rules: []bridge.Rule{
		{Name: "two workspaces", MinSeverity: bridge.SeverityMajor,
			Actions: []bridge.Action{sentinel("10.0.0.5", true), sentinel("10.0.9.5", false)}},
		{Name: "modbus only", MinSeverity: bridge.SeverityWarning, Protocols: []string{"Modbus"},
			Engines: []bridge.Engine{bridge.EngineProtocolViolation}, Actions: []bridge.Action{sentinel("10.0.0.5", true)}},
		{Name: "arcsight", Actions: []bridge.Action{{Type: bridge.ActionArcSight, Host: "10.3.0.1", Port: 514}}},
	}}
	console := bridge.Appliance{Name: "cm-central", Kind: bridge.ApplianceConsole, Rules: []bridge.Rule{
		{Name: "fleet", MinSeverity: bridge.SeverityCritical, SystemNotifications: true,
			Actions: []bridge.Action{sentinel("10.0.0.5", true)}},
	}}
	for _, a := range []*bridge.Appliance{&sensor, &console} {
		for i := range a.Rules {
			a.Rules[i].Appliance, a.Rules[i].ApplianceKind = a.Name, a.Kind
		}
	}
	routing := &bridge.Routing{
		Default: bridge.RuleRoute{Mode: bridge.ModeLegacy, Legacy: []string{"cef-proxy"}},
		Rules: map[bridge.RuleRef]bridge.RuleRoute{
			{Appliance: "plant-a-sensor-01", Rule: "modbus only"}: {Mode: bridge.ModeDual, Legacy: []string{"cef-proxy"}, Modern: []string{"nowhere"}},
			{Appliance: "cm-central", Rule: "fleet"}:              {Mode: bridge.ModeModern},
		},
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var samples []bridge.Sample
	for i := range 48 {
		a := &bridge.Alert{
			Origin: bridge.OriginSyslogCEF, Sensor: "plant-a-sensor-01", UUID: fmt.Sprintf("1-%d", i),
			Title: "Unauthorized PLC Program Upload", Severity: bridge.SeverityMajor, Protocol: "Modbus",
			Engine: bridge.EngineProtocolViolation, DetectedAt: start.Add(time.Duration(i) * 30 * time.Minute),
		}
		samples = append(samples, bridge.Sample{Alert: a, Where: fmt.Sprintf("samples.log:%d", i+1)})
	}
	return bridge.BuildPlan(bridge.PlanInput{
		Appliances: []bridge.Appliance{sensor, console},
		Routing:    routing,
		Legacy:     []string{"cef-proxy"},
		Samples:    samples,
		TLS: []bridge.TLSMaterial{{Field: "listeners[0].tls", CertFile: "/etc/otbridge/tls/listener.pem",
			Subject: "CN=otbridge", NotAfter: start.Add(-24 * time.Hour)}},
		Now:     start.Add(40 * 24 * time.Hour),
		Sources: bridge.PlanSources{Config: "configs/example.yaml", Inventory: []string{"configs/inventory.yaml"}, Alerts: []string{"samples.log"}},
	})
}
