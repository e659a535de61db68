package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// The golden files of this package are rewritten by "go test -update". The
// flag is registered here only if no other test file of the package has
// done so already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with the golden file at path, or rewrites the
// file under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update after checking the change):\n got: %.2000s\nwant: %.2000s", path, got, want)
	}
}

// The hostile strings of the fixture: each must come out as written, never
// as markup, a table cell break, a code span end or a terminal escape.
const (
	hostileRule  = `<script>alert("x")</script> & 'quotes' | pipes`
	backtickRule = "Kühlwasser — Überwachung ``` `rm -rf` ```"
	// A long path, longer than a text line, that must wrap, not vanish.
	longCertPath = "/etc/otbridge/tls/plant-b-sensor-02.zürich.example/listener-certificate-issued-2024-11-01-by-the-plant-ca.pem"
)

var (
	fixtureNow   = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	fixtureFirst = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// fixtures are the plans every format is pinned on.
var fixtures = []struct {
	name string
	plan func() *bridge.Plan
}{
	{"full", fixturePlan},
	{"no-samples", fixturePlanWithoutSamples},
	{"empty", fixtureEmptyPlan},
}

func sentinelAction(index int, target string, encrypted bool, planned string) bridge.PlanAction {
	return bridge.PlanAction{
		Index: index, Type: bridge.ActionSentinel, Label: "Microsoft Sentinel", Target: target, Encrypted: encrypted,
		Current: "CEF over syslog to the proxy " + target, Planned: planned, Retired: "2025-01-01",
	}
}

// fixturePlan is a realistic report, made by hand: three sensors and a
// management console, rules in every mode and one otbridge does not route,
// filters on protocols and engines and "any", findings of every severity,
// volumes, previews and field coverage, and hostile strings in names,
// messages and rows.
func fixturePlan() *bridge.Plan {
	dual := "dual: CEF proxy cef-proxy and Logs Ingestion sentinel-main"
	modern := "modern: Logs Ingestion sentinel-main"
	row1 := `{"TimeGenerated":"2026-11-01T00:12:07.123Z","DeviceVendor":"Microsoft Defender for IoT","DeviceProduct":"plant-a-sensor-01","Activity":"Unauthorized PLC Program Upload","LogSeverity":"8","Message":"A program was uploaded to \"PLC-7\" (10.1.0.20) from 10.1.0.5; mode=remote, site Zürich, operator <script>alert(1)</script> & co | line 2 ` + "```" + `","AdditionalExtensions":"protocol=S7;severity=Major;type=Policy Violation","DeviceCustomString5":"plant-a-sensor-01/1-1730419927123"}`
	row2 := `{"TimeGenerated":"2026-11-01T03:40:00Z","DeviceVendor":"Microsoft Defender for IoT","DeviceProduct":"plant-a-sensor-01","Activity":"Excessive Number of Sessions","LogSeverity":"10","Message":"Sessions exceeded the learned rate","DeviceCustomString5":"plant-a-sensor-01/1-1730432400000"}`

	allAlerts := bridge.RuleRef{Appliance: "plant-a-sensor-01", Rule: "All alerts to Sentinel"}
	modbus := bridge.RuleRef{Appliance: "plant-a-sensor-01", Rule: "Modbus and S7 writes"}
	arcsight := bridge.RuleRef{Appliance: "plant-a-sensor-01", Rule: "ArcSight export"}
	cooling := bridge.RuleRef{Appliance: "plant-b-sensor-02", Rule: backtickRule}
	hostile := bridge.RuleRef{Appliance: "plant-b-sensor-02", Rule: hostileRule}
	fleet := bridge.RuleRef{Appliance: "cm-central", Rule: "Fleet critical"}

	p := &bridge.Plan{
		SchemaVersion: bridge.PlanSchemaVersion,
		GeneratedAt:   fixtureNow,
		Sources: bridge.PlanSources{
			Config:    "configs/example.yaml",
			Inventory: []string{"configs/inventory.yaml", "configs/inventory-plant-b.yaml"},
			Alerts:    []string{"configs/sample-alerts.log"},
		},
		Undecided: bridge.UndecidedInclude,
		Horizon:   bridge.JSONDuration(30 * 24 * time.Hour),
		Samples: bridge.PlanSampleSummary{
			Count: 120, Routed: 98, First: fixtureFirst, Last: fixtureFirst.Add(54 * time.Hour), Days: 2.25,
		},
	}
	p.Findings = []bridge.Finding{
		{Code: bridge.CodeMultipleSentinelServers, Severity: bridge.FindingBlocker, Rule: &allAlerts, Where: "configs/inventory.yaml:14",
			Message: "the rule sends to 2 Microsoft Sentinel servers; the sensor supports one Sentinel instance per rule",
			Fix:     "split it into one rule per Sentinel workspace, each with one Sentinel action, and route each rule on its own"},
		{Code: bridge.CodeTLSCertificateExpired, Severity: bridge.FindingBlocker, Field: "listeners[0].tls", Where: "configs/example.yaml:22",
			Message: "the certificate " + longCertPath + " (CN=otbridge.plant-b) expired on 2026-11-30",
			Fix:     "issue a new certificate and upload it where the old one is used; with validation on, the sensor forwards nothing and says nothing"},
		{Code: bridge.CodeNoDestination, Severity: bridge.FindingBlocker, Rule: &fleet, Where: "configs/inventory.yaml:61",
			Message: "mode modern sends on the modern path but the route names no modern destination",
			Fix:     "add a Logs Ingestion destination under destinations.modern and name it in the rule's route (routing.rules[].modern)"},
		{Code: bridge.CodeUnencryptedTransport, Severity: bridge.FindingWarning, Rule: &modbus, Action: 1, Where: "configs/inventory.yaml:27",
			Message: "Microsoft Sentinel action to 10.0.0.6:514 sends CEF without encryption",
			Fix:     "turn on the action's encryption (TLS 1.2, port 6514) with a certificate from the receiver, or accept clear text on a segregated network"},
		{Code: bridge.CodeFilterNotEvaluable, Severity: bridge.FindingWarning, Rule: &modbus,
			Message: "the rule's filters cannot judge 3 sample alerts (3 without protocol); they are forwarded (routing.undecided is include)",
			Fix:     "keep include if a missing alert is worse than an extra one; set routing.undecided to exclude otherwise"},
		{Code: bridge.CodeRetiredAction, Severity: bridge.FindingWarning, Rule: &arcsight, Action: 1,
			Message: "the ArcSight integration: announced for retirement on 1 December 2025, a date that has passed",
			Fix:     "replace it with a syslog forwarding rule (CEF or LEEF) to a collector of your own, or the REST API"},
		{Code: bridge.CodeFieldTruncated, Severity: bridge.FindingWarning, Rule: &hostile, Destination: "sentinel-main",
			Message: "4 sample alerts have values over the limit in message; rows to sentinel-main cut them at 32766 bytes",
			Fix:     "nothing to do if the start of the value is enough; the legacy path keeps the whole message meanwhile"},
		{Code: bridge.CodeManagementConsoleRetired, Severity: bridge.FindingWarning, Rule: &fleet, Where: "configs/inventory.yaml:61",
			Message: "the rule lives on the on-premises management console, which can no longer be downloaded since 1 January 2025",
			Fix:     "recreate the rule on the sensors it covers (plant-a-sensor-01, plant-b-sensor-02) and route those rules instead"},
		{Code: bridge.CodeSystemNotifications, Severity: bridge.FindingWarning, Rule: &fleet,
			Message: "the rule reports system notifications (sensor disconnected, backup failed); the modern path carries alerts only",
			Fix:     "keep a syslog or email action for system notifications before the rule goes modern"},
		{Code: bridge.CodeUnmappedFields, Severity: bridge.FindingInfo, Destination: "sentinel-main",
			Message: "profile commonsecuritylog-compatible drops 3 alert fields: origin, handled, zone_id (in 12 samples)",
			Fix:     "nothing, if the legacy rows never had them either; see https://learn.microsoft.com/azure/sentinel/ for the enriched profile"},
	}

	p.Appliances = []bridge.PlanAppliance{
		{Name: "plant-a-sensor-01", Kind: bridge.ApplianceSensor, Version: "24.1.3", Rules: []bridge.PlanRule{
			{Rule: allAlerts, MinLevel: "Minor", Routed: true, Mode: bridge.ModeDual,
				Legacy: []string{"cef-proxy"}, Modern: []string{"sentinel-main"},
				Current: "Microsoft Sentinel 10.0.0.5:6514, Microsoft Sentinel 10.0.9.5:6514",
				Planned: dual,
				Actions: []bridge.PlanAction{
					sentinelAction(1, "10.0.0.5:6514", true, "through otbridge: "+dual),
					sentinelAction(2, "10.0.9.5:6514", true, "through otbridge: "+dual),
				},
				Matched: 60, Undecided: 0, Selected: 60,
				SampleRefs: []string{"configs/sample-alerts.log:1", "configs/sample-alerts.log:2", "configs/sample-alerts.log:4",
					"configs/sample-alerts.log:5", "configs/sample-alerts.log:9"},
				PerDay:        &bridge.Volume{Alerts: 26.666, Bytes: 31_400, Compressed: 6_120, Requests: 26.7},
				EstimatedWith: "sentinel-main",
				Previews: []bridge.RowPreview{
					{Destination: "sentinel-main", Sample: "configs/sample-alerts.log:1", Row: []byte(row1)},
					{Destination: "sentinel-main", Sample: "configs/sample-alerts.log:2", Row: []byte(row2)},
				},
				Blockers: 1},
			{Rule: modbus, MinLevel: "Major", Protocols: []string{"Modbus", "S7", "DNP3", "IEC 60870-5-104"},
				Engines: []string{"Policy Violation", "Protocol Violation"},
				Routed:  true, Mode: bridge.ModeModern, Modern: []string{"sentinel-main"},
				Current: "Microsoft Sentinel 10.0.0.6:514, Syslog server (CEF format) 10.2.0.9:6514",
				Planned: modern,
				Actions: []bridge.PlanAction{
					sentinelAction(1, "10.0.0.6:514", false, "through otbridge: "+modern),
					{Index: 2, Type: bridge.ActionSyslogCEF, Label: "Syslog server (CEF format)", Target: "10.2.0.9:6514", Encrypted: true,
						Current: "syslog to 10.2.0.9:6514", Planned: "unchanged: stays on the appliance"},
				},
				Matched: 30, Undecided: 3, Selected: 33,
				SampleRefs:    []string{"configs/sample-alerts.log:3"},
				PerDay:        &bridge.Volume{Alerts: 14.666, Bytes: 2_300_000, Compressed: 410_000, Requests: 14.7},
				EstimatedWith: "sentinel-main",
				Warnings:      2},
			{Rule: arcsight, MinLevel: "", Current: "ArcSight 10.3.0.1:514",
				Planned: "unchanged: otbridge does not route this rule",
				Actions: []bridge.PlanAction{{Index: 1, Type: bridge.ActionArcSight, Label: "ArcSight", Target: "10.3.0.1:514",
					Current: "syslog to 10.3.0.1:514", Planned: "unchanged: stays on the appliance", Retired: "2025-12-01"}},
				Warnings: 1},
		}},
		{Name: "plant-b-sensor-02", Kind: bridge.ApplianceSensor, Version: "23.2.0", Rules: []bridge.PlanRule{
			{Rule: cooling, MinLevel: "Warning", Engines: []string{"Malware"},
				Routed: true, Mode: bridge.ModeLegacy, Legacy: []string{"cef-proxy"},
				Current: "Microsoft Sentinel 10.1.0.5:6514", Planned: "legacy: CEF proxy cef-proxy",
				Actions: []bridge.PlanAction{sentinelAction(1, "10.1.0.5:6514", true, "through otbridge: legacy: CEF proxy cef-proxy")},
				Matched: 4, Selected: 4, SampleRefs: []string{"configs/sample-alerts.log:77"},
				PerDay:        &bridge.Volume{Alerts: 1.777, Bytes: 2_100, Compressed: 690, Requests: 1.8},
				EstimatedWith: "sentinel-main"},
			{Rule: hostile, MinLevel: "Critical", Protocols: []string{"Modbus | TCP", "<b>BACnet</b>"},
				Routed: true, Mode: bridge.ModeOff,
				Current: "Microsoft Sentinel 10.1.0.5:6514", Planned: "off: otbridge forwards nothing",
				Actions: []bridge.PlanAction{sentinelAction(1, "10.1.0.5:6514", true, "through otbridge: off: otbridge forwards nothing")},
				Matched: 1, Selected: 1, SampleRefs: []string{"configs/sample-alerts.log:99"},
				Warnings: 1},
		}},
		{Name: "cm-central", Kind: bridge.ApplianceConsole, Version: "24.1.3", Rules: []bridge.PlanRule{
			{Rule: fleet, MinLevel: "Critical", Routed: true, Mode: bridge.ModeModern,
				Current: "Microsoft Sentinel 10.0.0.5:6514, Webhook https://hooks.example/plant",
				Planned: "modern: Logs Ingestion (no destination)",
				Actions: []bridge.PlanAction{
					sentinelAction(1, "10.0.0.5:6514", true, "through otbridge: modern: Logs Ingestion (no destination)"),
					{Index: 2, Type: bridge.ActionWebhook, Label: "Webhook", Target: "https://hooks.example/plant",
						Current: "to https://hooks.example/plant", Planned: "unchanged: stays on the appliance", Retired: "2025-12-01"},
				},
				Blockers: 1, Warnings: 2},
		}},
		{Name: "lab-sensor", Kind: bridge.ApplianceSensor, Version: "24.1.3", Rules: []bridge.PlanRule{}},
	}

	coverage := map[string][]string{
		"vendor": {"DeviceVendor"}, "signature_id": {"DeviceEventClassID"}, "sensor": {"DeviceProduct", "Computer"},
		"sensor_version": {"DeviceVersion"}, "uuid": {"AdditionalExtensions", "DeviceCustomString5"},
		"detected_at": {"TimeGenerated"}, "title": {"Activity"}, "message": {"Message"}, "severity": {"LogSeverity", "AdditionalExtensions"},
		"engine": {"AdditionalExtensions"}, "protocol": {"AdditionalExtensions"}, "category": {"DeviceEventCategory"},
		"source.ip": {"SourceIP"}, "source.mac": {"SourceMACAddress"}, "destination.ip": {"DestinationIP"},
		"destination.mac": {"DestinationMACAddress"},
	}
	var fields []bridge.FieldCoverage
	for i, f := range bridge.AlertFields() {
		cols := coverage[f.Name]
		if cols == nil {
			cols = []string{}
		}
		present := (i * 37) % 99
		fields = append(fields, bridge.FieldCoverage{Field: f.Name, Columns: cols, Present: present, Missing: 98 - min(present, 98)})
	}
	p.Destinations = []bridge.PlanDestSummary{
		{Name: "cef-proxy", Path: bridge.PathLegacy, Rules: []bridge.RuleRef{allAlerts, cooling}},
		{Name: "sentinel-main", Path: bridge.PathModern, Profile: "commonsecuritylog-compatible",
			Stream: "Custom-CommonSecurityLog", Table: "CommonSecurityLog",
			Rules: []bridge.RuleRef{allAlerts, modbus}, Coverage: fields},
		{Name: "sentinel-lab", Path: bridge.PathModern, Profile: "custom-table",
			Stream: "Custom-OTBridgeAlerts", Table: "OTBridgeAlerts_CL", Rules: []bridge.RuleRef{}},
	}
	p.Summary = bridge.PlanSummary{
		Appliances: 4, Rules: 6, Routed: 5,
		Modes:    map[bridge.Mode]int{bridge.ModeLegacy: 1, bridge.ModeDual: 1, bridge.ModeModern: 2, bridge.ModeOff: 1},
		Blockers: 3, Warnings: 6, Infos: 1,
		Codes: map[string]int{},
	}
	for _, f := range p.Findings {
		p.Summary.Codes[f.Code] = 1
	}
	return p
}

// fixturePlanWithoutSamples is the full plan as made without sample
// alerts: no matches, volumes or previews.
func fixturePlanWithoutSamples() *bridge.Plan {
	p := fixturePlan()
	p.Sources.Alerts = nil
	p.Samples = bridge.PlanSampleSummary{}
	for ai := range p.Appliances {
		for ri := range p.Appliances[ai].Rules {
			r := &p.Appliances[ai].Rules[ri]
			r.Matched, r.Undecided, r.Selected = 0, 0, 0
			r.SampleRefs, r.PerDay, r.EstimatedWith, r.Previews = nil, nil, "", nil
		}
	}
	for di := range p.Destinations {
		for ci := range p.Destinations[di].Coverage {
			c := &p.Destinations[di].Coverage[ci]
			c.Present, c.Missing = 0, 0
		}
	}
	// The findings that only samples give go, with their counts.
	var kept []bridge.Finding
	for _, f := range p.Findings {
		if f.Code != bridge.CodeFieldTruncated && f.Code != bridge.CodeFilterNotEvaluable {
			kept = append(kept, f)
		}
	}
	p.Findings = kept
	delete(p.Summary.Codes, bridge.CodeFieldTruncated)
	delete(p.Summary.Codes, bridge.CodeFilterNotEvaluable)
	p.Summary.Warnings -= 2
	p.Appliances[0].Rules[1].Warnings--
	p.Appliances[1].Rules[1].Warnings--
	return p
}

// fixtureEmptyPlan is the report on an empty inventory.
func fixtureEmptyPlan() *bridge.Plan {
	p := &bridge.Plan{
		SchemaVersion: bridge.PlanSchemaVersion,
		GeneratedAt:   fixtureNow,
		Sources:       bridge.PlanSources{Config: "otbridge.yaml", Inventory: []string{}},
		Findings:      []bridge.Finding{},
		Appliances:    []bridge.PlanAppliance{},
		Destinations:  []bridge.PlanDestSummary{},
		Undecided:     bridge.UndecidedExclude,
		Horizon:       bridge.JSONDuration(36 * time.Hour),
		Summary:       bridge.PlanSummary{Modes: map[bridge.Mode]int{}, Codes: map[string]int{}},
	}
	return p
}

// render runs one format.
func render(t *testing.T, format string, p *bridge.Plan) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "txt":
		err = Text(&b, p, TextOptions{})
	case "color.txt":
		err = Text(&b, p, TextOptions{Color: true})
	case "md":
		err = Markdown(&b, p)
	case "json":
		err = JSON(&b, p)
	case "html":
		err = HTML(&b, p)
	default:
		t.Fatalf("no format %q", format)
	}
	if err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return b.Bytes()
}

// goldenTest pins one format on every fixture.
func goldenTest(t *testing.T, format string) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			checkGolden(t, filepath.Join("testdata", f.name+"."+format), render(t, format, f.plan()))
		})
	}
}

var ansiStyle = regexp.MustCompile("\x1b\\[[0-9;]*m")

// longLines returns the lines of out wider than limit, ANSI styles aside.
func longLines(out []byte, limit int) []string {
	var long []string
	for _, l := range strings.Split(string(out), "\n") {
		if width(ansiStyle.ReplaceAllString(l, "")) > limit {
			long = append(long, l)
		}
	}
	return long
}

// failWriter fails every write.
type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRenderers_NilPlanAndWriteError(t *testing.T) {
	renderers := map[string]func(w *failWriter, p *bridge.Plan) error{
		"text":     func(w *failWriter, p *bridge.Plan) error { return Text(w, p, TextOptions{}) },
		"markdown": func(w *failWriter, p *bridge.Plan) error { return Markdown(w, p) },
		"json":     func(w *failWriter, p *bridge.Plan) error { return JSON(w, p) },
		"html":     func(w *failWriter, p *bridge.Plan) error { return HTML(w, p) },
	}
	for name, fn := range renderers {
		t.Run(name, func(t *testing.T) {
			if err := fn(&failWriter{}, nil); !errors.Is(err, errNilPlan) {
				t.Errorf("nil plan: got %v, want %v", err, errNilPlan)
			}
			if err := fn(&failWriter{}, fixturePlan()); !errors.Is(err, errWrite) {
				t.Errorf("failing writer: got %v, want it wrapped", err)
			}
		})
	}
}
