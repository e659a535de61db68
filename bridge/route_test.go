package bridge

import (
	"reflect"
	"testing"
)

func TestRoute(t *testing.T) {
	rules := []Rule{
		{Appliance: "plant-a", ApplianceKind: ApplianceSensor, Name: "critical", MinSeverity: SeverityCritical},
		{Appliance: "plant-a", ApplianceKind: ApplianceSensor, Name: "modbus", MinSeverity: SeverityWarning, Protocols: []string{"Modbus"}},
		{Appliance: "plant-b", ApplianceKind: ApplianceSensor, Name: "all", MinSeverity: SeverityWarning},
		{Appliance: "cm", ApplianceKind: ApplianceConsole, Name: "off-rule", MinSeverity: SeverityWarning},
	}
	ref := func(app, rule string) RuleRef { return RuleRef{Appliance: app, Rule: rule} }
	routing := Routing{
		Rules: map[RuleRef]RuleRoute{
			ref("plant-a", "critical"): {Mode: ModeDual, Legacy: []string{"proxy"}, Modern: []string{"sentinel"}},
			ref("plant-a", "modbus"):   {Mode: ModeModern, Legacy: []string{"proxy"}, Modern: []string{"sentinel", "archive"}},
			ref("cm", "off-rule"):      {Mode: ModeOff, Legacy: []string{"proxy"}},
		},
		Default: RuleRoute{Mode: ModeLegacy, Legacy: []string{"proxy"}},
	}

	tests := []struct {
		name       string
		alert      Alert
		undecided  UndecidedPolicy
		deliveries []Delivery
		selected   []bool
	}{
		{
			name:  "two rules share a destination: delivered once",
			alert: Alert{Sensor: "plant-a", Severity: SeverityCritical, Protocol: "Modbus"},
			deliveries: []Delivery{
				{Path: PathLegacy, Destination: "proxy", Rules: []RuleRef{ref("plant-a", "critical")}},
				{Path: PathModern, Destination: "sentinel", Rules: []RuleRef{ref("plant-a", "critical"), ref("plant-a", "modbus")}},
				{Path: PathModern, Destination: "archive", Rules: []RuleRef{ref("plant-a", "modbus")}},
			},
			selected: []bool{true, true, true},
		},
		{
			name:     "filter excludes",
			alert:    Alert{Sensor: "plant-a", Severity: SeverityMajor, Protocol: "HTTP"},
			selected: []bool{false, false, true},
		},
		{
			name:  "undecided included by default",
			alert: Alert{Sensor: "plant-a", Severity: SeverityMajor},
			deliveries: []Delivery{
				{Path: PathModern, Destination: "sentinel", Rules: []RuleRef{ref("plant-a", "modbus")}},
				{Path: PathModern, Destination: "archive", Rules: []RuleRef{ref("plant-a", "modbus")}},
			},
			selected: []bool{false, true, true},
		},
		{
			name:      "undecided excluded by policy",
			alert:     Alert{Sensor: "plant-a", Severity: SeverityMajor},
			undecided: UndecidedExclude,
			selected:  []bool{false, false, true},
		},
		{
			name:  "default route for unlisted rule",
			alert: Alert{Sensor: "plant-b", Severity: SeverityMinor},
			deliveries: []Delivery{
				{Path: PathLegacy, Destination: "proxy", Rules: []RuleRef{ref("plant-b", "all")}},
			},
			selected: []bool{true, true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := routing
			r.Undecided = tt.undecided
			got := Route(&tt.alert, rules, &r)
			if !reflect.DeepEqual(got.Deliveries, tt.deliveries) {
				t.Errorf("deliveries:\n got %+v\nwant %+v", got.Deliveries, tt.deliveries)
			}
			var sel []bool
			for _, d := range got.Decisions {
				sel = append(sel, d.Selected)
			}
			if !reflect.DeepEqual(sel, tt.selected) {
				t.Errorf("selected = %v, want %v (decisions %+v)", sel, tt.selected, got.Decisions)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range Modes {
		got, err := ParseMode(string(m))
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMode("cutover"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
	if !ModeDual.Legacy() || !ModeDual.Modern() || ModeOff.Legacy() || ModeOff.Modern() || ModeLegacy.Modern() || ModeModern.Legacy() {
		t.Error("mode path flags are wrong")
	}
}

func TestRouting_InScope(t *testing.T) {
	rules := []Rule{
		{Appliance: "a", Name: "sentinel", Actions: []Action{{Type: ActionEmail}, {Type: ActionSentinel}}},
		{Appliance: "a", Name: "mail", Actions: []Action{{Type: ActionEmail}}},
		{Appliance: "a", Name: "siem", Actions: []Action{{Type: ActionSyslogCEF}}},
	}
	r := Routing{Rules: map[RuleRef]RuleRoute{{Appliance: "a", Rule: "siem"}: {Mode: ModeModern}}}
	var names []string
	for _, rule := range r.InScope(rules) {
		names = append(names, rule.Name)
	}
	if !reflect.DeepEqual(names, []string{"sentinel", "siem"}) {
		t.Errorf("InScope = %v, want [sentinel siem]", names)
	}
}
