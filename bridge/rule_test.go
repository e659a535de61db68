package bridge

import (
	"testing"
	"time"
)

func TestRule_Matches(t *testing.T) {
	modbusOnly := Rule{Name: "r", MinSeverity: SeverityMinor, Protocols: []string{"Modbus", "DNP3"}}
	malwareOnly := Rule{Name: "r", MinSeverity: SeverityWarning, Engines: []Engine{EngineMalware}}
	anything := Rule{Name: "r"}

	tests := []struct {
		name  string
		rule  Rule
		alert Alert
		want  Match
	}{
		{"level above minimum", modbusOnly, Alert{Severity: SeverityMajor, Protocol: "MODBUS"}, Matched},
		{"level equal to minimum", modbusOnly, Alert{Severity: SeverityMinor, Protocol: "dnp3"}, Matched},
		{"level below minimum", modbusOnly, Alert{Severity: SeverityWarning, Protocol: "Modbus"}, NoMatch},
		{"protocol not listed", modbusOnly, Alert{Severity: SeverityCritical, Protocol: "HTTP"}, NoMatch},
		{"protocol missing", modbusOnly, Alert{Severity: SeverityCritical}, Undecided},
		{"protocol missing but level excludes", modbusOnly, Alert{Severity: SeverityWarning}, NoMatch},
		{"severity missing", modbusOnly, Alert{Protocol: "Modbus"}, Undecided},
		{"engine listed", malwareOnly, Alert{Severity: SeverityWarning, Engine: EngineMalware}, Matched},
		{"engine not listed", malwareOnly, Alert{Severity: SeverityWarning, Engine: EngineAnomaly}, NoMatch},
		{"engine missing", malwareOnly, Alert{Severity: SeverityWarning}, Undecided},
		{"any filter needs nothing", anything, Alert{}, Matched},
		{"any protocol ignores protocol", malwareOnly, Alert{Severity: SeverityMajor, Engine: EngineMalware, Protocol: "x"}, Matched},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Matches(&tt.alert); got != tt.want {
				t.Errorf("Matches() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRule_Covers(t *testing.T) {
	sensorRule := Rule{Appliance: "Plant-A", ApplianceKind: ApplianceSensor}
	consoleAll := Rule{Appliance: "cm", ApplianceKind: ApplianceConsole}
	consoleSome := Rule{Appliance: "cm", ApplianceKind: ApplianceConsole, Sensors: []string{"plant-b"}}

	tests := []struct {
		rule   Rule
		sensor string
		want   bool
	}{
		{sensorRule, "plant-a", true},
		{sensorRule, "plant-b", false},
		{sensorRule, "", true},
		{consoleAll, "anything", true},
		{consoleSome, "PLANT-B", true},
		{consoleSome, "plant-a", false},
	}
	for _, tt := range tests {
		if got := tt.rule.Covers(tt.sensor); got != tt.want {
			t.Errorf("%s(%v).Covers(%q) = %v, want %v", tt.rule.Appliance, tt.rule.Sensors, tt.sensor, got, tt.want)
		}
	}
}

func TestSeverity_order(t *testing.T) {
	for i := 1; i < len(Severities); i++ {
		if Severities[i-1] >= Severities[i] {
			t.Fatalf("%v is not below %v", Severities[i-1], Severities[i])
		}
	}
	for _, s := range Severities {
		if got := SeverityFromCEF(s.CEF()); got != s {
			t.Errorf("SeverityFromCEF(%d) = %v, want %v", s.CEF(), got, s)
		}
		got, err := ParseSeverity(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseSeverity("High"); err == nil {
		t.Error("ParseSeverity accepted the portal's High")
	}
	if got := SeverityFromCEF(11); got != SeverityUnknown {
		t.Errorf("SeverityFromCEF(11) = %v", got)
	}
}

func TestParseEngine(t *testing.T) {
	for in, want := range map[string]Engine{
		"Protocol Violation": EngineProtocolViolation,
		"PROTOCOL_VIOLATION": EngineProtocolViolation,
		"policyviolation":    EnginePolicyViolation,
		"Malware":            EngineMalware,
		"ANOMALY":            EngineAnomaly,
		"Operational Engine": EngineOperational,
	} {
		got, err := ParseEngine(in)
		if err != nil || got != want {
			t.Errorf("ParseEngine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseEngine("Heuristics"); err == nil {
		t.Error("ParseEngine accepted an unknown engine")
	}
}

func TestAlert_Key(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	withUUID := Alert{Sensor: "Plant-A", UUID: "1-1594550943000", ID: "7"}
	withID := Alert{Sensor: "Plant-A", ID: "7"}
	bare := Alert{Sensor: "Plant-A", DetectedAt: at, Title: "Unauthorized PLC Program Upload", Severity: SeverityMajor}
	if got := withUUID.Key(); got != "plant-a/1-1594550943000" {
		t.Errorf("Key with UUID = %q", got)
	}
	if got := withID.Key(); got != "plant-a/id-7" {
		t.Errorf("Key with id = %q", got)
	}

	// The digest key is stable and depends on the facts, not on the origin.
	other := bare
	other.Origin = OriginSyslogCEF
	other.Raw = []byte("raw")
	if bare.Key() != other.Key() {
		t.Error("Key depends on origin or raw bytes")
	}
	later := bare
	later.DetectedAt = at.Add(time.Millisecond)
	if bare.Key() == later.Key() {
		t.Error("Key ignores the detection time")
	}
}

func TestAction_Target(t *testing.T) {
	tests := []struct {
		a    Action
		want string
	}{
		{Action{Host: "proxy", Port: 514}, "proxy:514"},
		{Action{Host: "proxy"}, "proxy"},
		{Action{Email: "soc@water.example"}, "soc@water.example"},
		{Action{URL: "https://soar.example"}, "https://soar.example"},
		{Action{URL: "https://soar.example/"}, "https://soar.example"},
		// A webhook path or query may be its secret.
		{Action{URL: "https://hooks.example/services/T000/B000/XXXXSECRET"}, "https://hooks.example/…"},
		{Action{URL: "https://soar.example/hook?sig=XXXXSECRET"}, "https://soar.example/…"},
		{Action{URL: "::not a url"}, "(unreadable URL)"},
	}
	for _, tt := range tests {
		if got := tt.a.Target(); got != tt.want {
			t.Errorf("Target of %+v = %q, want %q", tt.a, got, tt.want)
		}
	}
}
