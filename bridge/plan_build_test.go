package bridge

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var planNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// fakeMapper writes a small row per alert and reports a truncation when
// the message is over limit.
type fakeMapper struct{ limit int }

func (m fakeMapper) AppendRow(dst []byte, a *Alert, path Path) ([]byte, int, error) {
	truncated := 0
	msg := a.Message
	if len(msg) > m.limit {
		msg, truncated = msg[:m.limit], 1
	}
	return fmt.Appendf(dst, `{"Key":%q,"Path":%q,"Message":%q}`, a.Key(), path, msg), truncated, nil
}

func fakeMeasure(rows [][]byte) (Volume, error) {
	var v Volume
	for _, r := range rows {
		v.Bytes += float64(len(r) + 1)
	}
	v.Compressed, v.Requests, v.Alerts = v.Bytes/10, 1, float64(len(rows))
	return v, nil
}

func sentinel(host string, encrypted bool) Action {
	return Action{Type: ActionSentinel, Host: host, Port: 6514, Encryption: Encryption{Enabled: encrypted, CertFile: "c.crt", KeyFile: "c.key"}}
}

// planFixture is a small fleet with one instance of every finding.
func planFixture() PlanInput {
	s1 := Appliance{Name: "s1", Kind: ApplianceSensor, Version: "24.1.3"}
	s1.Rules = []Rule{
		{Name: "two-workspaces", MinSeverity: SeverityMajor,
			Actions: []Action{sentinel("proxy-a", true), sentinel("proxy-b", false)}},
		{Name: "modbus-only", MinSeverity: SeverityWarning, Protocols: []string{"Modbus"},
			Actions: []Action{sentinel("proxy-a", true)}},
		{Name: "arcsight", MinSeverity: SeverityMinor,
			Actions: []Action{{Type: ActionArcSight, Host: "arc", Port: 514}}},
		{Name: "dual-nowhere", MinSeverity: SeverityCritical,
			Actions: []Action{sentinel("proxy-a", true)}},
	}
	cm := Appliance{Name: "cm", Kind: ApplianceConsole}
	cm.Rules = []Rule{
		{Name: "fleet", MinSeverity: SeverityCritical, SystemNotifications: true,
			Actions: []Action{sentinel("proxy-a", true)}},
	}
	for _, a := range []*Appliance{&s1, &cm} {
		for i := range a.Rules {
			a.Rules[i].Appliance, a.Rules[i].ApplianceKind = a.Name, a.Kind
		}
	}

	routing := &Routing{
		Default: RuleRoute{Mode: ModeLegacy, Legacy: []string{"proxy"}},
		Rules: map[RuleRef]RuleRoute{
			{Appliance: "s1", Rule: "modbus-only"}:  {Mode: ModeModern, Modern: []string{"m1"}},
			{Appliance: "s1", Rule: "dual-nowhere"}: {Mode: ModeDual, Legacy: []string{"proxy"}},
		},
	}

	day := 24 * time.Hour
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var samples []Sample
	for i := range 20 {
		a := &Alert{
			Origin: OriginSyslogCEF, Sensor: "s1", UUID: fmt.Sprintf("1-%d", i), Title: "t",
			Severity: SeverityMajor, Engine: EngineProtocolViolation, Protocol: "Modbus",
			DetectedAt: start.Add(time.Duration(i) * day / 10), Message: "m",
		}
		if i%2 == 1 {
			// API alerts carry no protocol.
			a.Origin, a.Protocol = OriginSensorAPI, ""
		}
		if i == 19 {
			a.Severity = SeverityCritical
			a.DetectedAt = start.Add(2 * day)
			a.Message = strings.Repeat("x", 100)
		}
		samples = append(samples, Sample{Alert: a, Where: fmt.Sprintf("alerts.log:%d", i+1)})
	}

	return PlanInput{
		Appliances: []Appliance{s1, cm},
		Routing:    routing,
		Legacy:     []string{"proxy"},
		Modern: []PlanDestination{{
			Name: "m1", Profile: "test", FieldLimit: 50,
			Coverage: []FieldColumns{{Field: "uuid", Columns: []string{"Key"}}, {Field: "message", Columns: []string{"Message"}}},
			Mapper:   fakeMapper{limit: 50}, Measure: fakeMeasure,
		}},
		Samples: samples,
		TLS: []TLSMaterial{
			{Field: "listeners[0].tls", CertFile: "ok.crt", KeyFile: "ok.key", Subject: "ok", NotAfter: planNow.Add(365 * day)},
			{Field: "listeners[1].tls", CertFile: "gone.crt", Err: "open gone.crt: no such file"},
			{Rule: &RuleRef{"s1", "modbus-only"}, Action: 1, CertFile: "old.crt", Subject: "old", NotAfter: planNow.Add(-day)},
			{Rule: &RuleRef{"s1", "dual-nowhere"}, Action: 1, CertFile: "soon.crt", Subject: "soon", NotAfter: planNow.Add(10 * day)},
			{Rule: &RuleRef{"cm", "fleet"}, Action: 1, CertFile: "a.crt", KeyFile: "b.key", Subject: "a", NotAfter: planNow.Add(365 * day), KeyMismatch: true},
		},
		Now: planNow,
		Locate: func(ref RuleRef, action int) string {
			return fmt.Sprintf("inventory.yaml:%s/%s#%d", ref.Appliance, ref.Rule, action)
		},
	}
}

func findings(p *Plan, code string) []Finding {
	var out []Finding
	for _, f := range p.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

func TestBuildPlan_findings(t *testing.T) {
	p := BuildPlan(planFixture())
	tests := []struct {
		code     string
		severity FindingSeverity
		rule     string // appliance/rule, "" for none
		action   int
	}{
		{CodeMultipleSentinelServers, FindingBlocker, "s1/two-workspaces", 0},
		{CodeUnencryptedTransport, FindingWarning, "s1/two-workspaces", 2},
		{CodeFilterNotEvaluable, FindingWarning, "s1/modbus-only", 0},
		{CodeRetiredAction, FindingWarning, "s1/arcsight", 1},
		{CodeNoDestination, FindingBlocker, "s1/dual-nowhere", 0},
		{CodeManagementConsoleRetired, FindingWarning, "cm/fleet", 0},
		{CodeSystemNotifications, FindingWarning, "cm/fleet", 0},
		{CodeTLSMaterialUnreadable, FindingBlocker, "", 0},
		{CodeTLSCertificateExpired, FindingBlocker, "s1/modbus-only", 1},
		{CodeTLSCertificateExpiring, FindingWarning, "s1/dual-nowhere", 1},
		{CodeTLSKeyMismatch, FindingBlocker, "cm/fleet", 1},
		{CodeFieldTruncated, FindingWarning, "s1/modbus-only", 0},
		{CodeUnmappedFields, FindingInfo, "", 0},
	}
	for _, tt := range tests {
		fs := findings(p, tt.code)
		if len(fs) != 1 {
			t.Errorf("%s: %d findings, want 1: %+v", tt.code, len(fs), fs)
			continue
		}
		f := fs[0]
		rule := ""
		if f.Rule != nil {
			rule = f.Rule.String()
		}
		if f.Severity != tt.severity || rule != tt.rule || f.Action != tt.action {
			t.Errorf("%s: severity %s, rule %q, action %d; want %s, %q, %d", tt.code, f.Severity, rule, f.Action, tt.severity, tt.rule, tt.action)
		}
		if f.Message == "" || f.Fix == "" {
			t.Errorf("%s: message %q, fix %q: both must say something", tt.code, f.Message, f.Fix)
		}
	}
	if len(p.Findings) != len(tests) {
		for _, f := range p.Findings {
			t.Logf("%s %s %v %s", f.Severity, f.Code, f.Rule, f.Message)
		}
		t.Errorf("%d findings, want %d", len(p.Findings), len(tests))
	}
	if !p.HasBlockers() || p.Summary.Blockers != 5 || p.Summary.Warnings != 7 || p.Summary.Infos != 1 {
		t.Errorf("summary %+v", p.Summary)
	}

	// Worst first, then in inventory order.
	for i := 1; i < len(p.Findings); i++ {
		if p.Findings[i-1].Severity.rank() > p.Findings[i].Severity.rank() {
			t.Fatalf("finding %d (%s) after a less severe one", i, p.Findings[i].Code)
		}
	}
	if f := findings(p, CodeMultipleSentinelServers)[0]; f.Where != "inventory.yaml:s1/two-workspaces#0" {
		t.Errorf("finding located at %q", f.Where)
	}
	if f := findings(p, CodeUnmappedFields)[0]; !strings.Contains(f.Message, "protocol (in 10 samples)") {
		t.Errorf("unmapped fields: %s", f.Message)
	}
}

func TestBuildPlan_samples(t *testing.T) {
	in := planFixture()
	p := BuildPlan(in)
	rule := func(ref string) *PlanRule {
		for ai := range p.Appliances {
			for ri := range p.Appliances[ai].Rules {
				if pr := &p.Appliances[ai].Rules[ri]; pr.Rule.String() == ref {
					return pr
				}
			}
		}
		t.Fatalf("no rule %s", ref)
		return nil
	}

	if p.Samples.Count != 20 || p.Samples.Days != 2 {
		t.Errorf("samples %+v, want 20 over 2 days", p.Samples)
	}
	// modbus-only: the 10 syslog alerts match, the 10 API alerts lack the
	// protocol and are included by default.
	mo := rule("s1/modbus-only")
	if mo.Matched != 10 || mo.Undecided != 10 || mo.Selected != 20 {
		t.Errorf("modbus-only matched %d, undecided %d, selected %d", mo.Matched, mo.Undecided, mo.Selected)
	}
	if mo.PerDay == nil || mo.PerDay.Alerts != 10 {
		t.Fatalf("modbus-only per day %+v, want 10 alerts", mo.PerDay)
	}
	if mo.PerDay.Compressed*10 != mo.PerDay.Bytes || mo.PerDay.Bytes == 0 {
		t.Errorf("per-day bytes %+v", mo.PerDay)
	}
	if len(mo.Previews) != DefaultPreviews || mo.Previews[0].Destination != "m1" || !strings.Contains(string(mo.Previews[0].Row), `"Path":"modern"`) {
		t.Errorf("previews %+v", mo.Previews)
	}
	if mo.EstimatedWith != "m1" || len(mo.SampleRefs) != sampleRefsPerRule || mo.SampleRefs[0] != "alerts.log:1" {
		t.Errorf("estimated with %q, sample refs %v", mo.EstimatedWith, mo.SampleRefs)
	}

	// The console rule covers every sensor: only the one Critical sample.
	if fl := rule("cm/fleet"); fl.Selected != 1 || !fl.Routed || fl.Mode != ModeLegacy {
		t.Errorf("cm/fleet selected %d, routed %v, mode %s", fl.Selected, fl.Routed, fl.Mode)
	}
	// The ArcSight rule has no Sentinel action: not routed, not counted.
	if ar := rule("s1/arcsight"); ar.Routed || ar.Selected != 0 || ar.Mode != "" {
		t.Errorf("arcsight routed %v, selected %d", ar.Routed, ar.Selected)
	}
	if p.Summary.Rules != 5 || p.Summary.Routed != 4 || p.Summary.Modes[ModeLegacy] != 2 {
		t.Errorf("summary %+v", p.Summary)
	}

	// Excluding undecided alerts drops the API alerts from the rule.
	in.Routing.Undecided = UndecidedExclude
	p = BuildPlan(in)
	if mo := rule("s1/modbus-only"); mo.Selected != 10 {
		t.Errorf("with exclude, modbus-only selected %d, want 10", mo.Selected)
	}
	if f := findings(p, CodeFilterNotEvaluable); len(f) != 1 || !strings.Contains(f[0].Message, "not forwarded") {
		t.Errorf("with exclude: %+v", f)
	}
}

// TestBuildPlan_routesLikeRoute checks the report's counts against Route
// called directly, alert by alert: the report must not drift from what
// the daemon does.
func TestBuildPlan_routesLikeRoute(t *testing.T) {
	in := planFixture()
	p := BuildPlan(in)
	var all []Rule
	for _, a := range in.Appliances {
		all = append(all, a.Rules...)
	}
	scope := in.Routing.InScope(all)
	want := map[RuleRef]int{}
	for _, s := range in.Samples {
		for _, d := range Route(s.Alert, scope, in.Routing).Decisions {
			if d.Selected {
				want[d.Rule]++
			}
		}
	}
	for _, a := range p.Appliances {
		for _, r := range a.Rules {
			if r.Selected != want[r.Rule] {
				t.Errorf("%s: report selects %d, Route %d", r.Rule, r.Selected, want[r.Rule])
			}
		}
	}
}

func TestBuildPlan_coverage(t *testing.T) {
	p := BuildPlan(planFixture())
	var m1 *PlanDestSummary
	for i := range p.Destinations {
		if p.Destinations[i].Name == "m1" {
			m1 = &p.Destinations[i]
		}
	}
	if m1 == nil || len(m1.Coverage) != len(AlertFields()) {
		t.Fatalf("destinations %+v", p.Destinations)
	}
	if !slices.Equal(m1.Rules, []RuleRef{{"s1", "modbus-only"}}) {
		t.Errorf("m1 rules %v", m1.Rules)
	}
	for _, fc := range m1.Coverage {
		switch fc.Field {
		case "uuid":
			if len(fc.Columns) != 1 || fc.Present != 20 || fc.Missing != 0 {
				t.Errorf("uuid coverage %+v", fc)
			}
		case "protocol":
			if len(fc.Columns) != 0 || fc.Present != 10 || fc.Missing != 10 {
				t.Errorf("protocol coverage %+v", fc)
			}
		}
	}
}

func TestBuildPlan_noSamples(t *testing.T) {
	in := planFixture()
	in.Samples, in.TLS = nil, nil
	p := BuildPlan(in)
	if p.Samples.Count != 0 || p.Samples.Days != 0 {
		t.Errorf("samples %+v", p.Samples)
	}
	for _, a := range p.Appliances {
		for _, r := range a.Rules {
			if r.PerDay != nil || len(r.Previews) > 0 {
				t.Errorf("%s: volume or previews without samples", r.Rule)
			}
		}
	}
	if len(findings(p, CodeFilterNotEvaluable)) != 0 || len(findings(p, CodeFieldTruncated)) != 0 {
		t.Error("sample findings without samples")
	}
}

func TestBuildPlan_clean(t *testing.T) {
	s := Appliance{Name: "s", Kind: ApplianceSensor, Rules: []Rule{{Appliance: "s", ApplianceKind: ApplianceSensor, Name: "r",
		MinSeverity: SeverityMajor, Actions: []Action{sentinel("proxy", true)}}}}
	p := BuildPlan(PlanInput{
		Appliances: []Appliance{s},
		Routing:    &Routing{Default: RuleRoute{Mode: ModeDual, Legacy: []string{"proxy"}, Modern: []string{"m"}}},
		Legacy:     []string{"proxy"},
		Modern:     []PlanDestination{{Name: "m", Coverage: allCoverage()}},
		Now:        planNow,
	})
	if p.HasBlockers() || len(p.Findings) != 0 {
		t.Errorf("findings on a clean setup: %+v", p.Findings)
	}
	if got := p.Appliances[0].Rules[0].Planned; got != "dual: CEF proxy proxy and Logs Ingestion m" {
		t.Errorf("planned path %q", got)
	}
}

func allCoverage() []FieldColumns {
	var out []FieldColumns
	for _, f := range AlertFields() {
		out = append(out, FieldColumns{Field: f.Name, Columns: []string{f.Name}})
	}
	return out
}

// BenchmarkBuildPlan is the report on 1,000 rules and 100,000 sample
// alerts (the target: a few seconds).
func BenchmarkBuildPlan(b *testing.B) {
	in := largePlanInput(1000, 100000)
	b.ResetTimer()
	for b.Loop() {
		p := BuildPlan(in)
		if p.Samples.Count != 100000 {
			b.Fatal(p.Samples.Count)
		}
	}
}

// largePlanInput builds a fleet of sensors with ten rules each, and a
// management console, with samples spread over a week.
func largePlanInput(rules, samples int) PlanInput {
	var apps []Appliance
	sensors := rules / 10
	for s := range sensors {
		name := fmt.Sprintf("sensor-%03d", s)
		app := Appliance{Name: name, Kind: ApplianceSensor}
		for r := range 10 {
			rule := Rule{Appliance: name, ApplianceKind: ApplianceSensor, Name: fmt.Sprintf("rule-%d", r),
				MinSeverity: Severities[r%4], Actions: []Action{sentinel("proxy", true)}}
			if r%3 == 1 {
				rule.Protocols = []string{"Modbus", "DNP3"}
			}
			if r%3 == 2 {
				rule.Engines = []Engine{EngineMalware, EngineAnomaly}
			}
			app.Rules = append(app.Rules, rule)
		}
		apps = append(apps, app)
	}
	engines := []Engine{EngineProtocolViolation, EnginePolicyViolation, EngineMalware, EngineAnomaly, EngineOperational}
	protocols := []string{"Modbus", "DNP3", "S7", "BACnet", ""}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	in := PlanInput{
		Appliances: apps,
		Routing:    &Routing{Default: RuleRoute{Mode: ModeDual, Legacy: []string{"proxy"}, Modern: []string{"m"}}},
		Legacy:     []string{"proxy"},
		Modern: []PlanDestination{{Name: "m", Coverage: allCoverage(), FieldLimit: 65536,
			Mapper: fakeMapper{limit: 65536}, Measure: fakeMeasure}},
		Now: planNow,
	}
	for i := range samples {
		in.Samples = append(in.Samples, Sample{Where: fmt.Sprintf("alerts.log:%d", i+1), Alert: &Alert{
			Sensor: fmt.Sprintf("sensor-%03d", i%sensors), UUID: fmt.Sprintf("1-%d", i), Title: "Unauthorized PLC Programming",
			Severity: Severities[i%4], Engine: engines[i%5], Protocol: protocols[i%5],
			DetectedAt: start.Add(time.Duration(i) * 7 * 24 * time.Hour / time.Duration(samples)),
		}})
	}
	return in
}
