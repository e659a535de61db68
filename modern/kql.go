package modern

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// KQLOptions adjusts the queries ParityKQL prints.
type KQLOptions struct {
	// Lookback is how far back the queries read. Default 24h.
	Lookback time.Duration
	// Settle keeps alerts younger than this out of the one-path-only query:
	// a row can take minutes to be queryable, and the paths do not deliver
	// at the same moment. Default 30m.
	Settle time.Duration
	// Timezone is the IANA name of the legacy Sentinel actions' timezone,
	// in which the sensor writes "start" (give the mapper the same one with
	// WithStartLocation). Default UTC.
	Timezone string
	// Rules maps sensor names to the forwarding rule their alerts are
	// counted under. CommonSecurityLog rows name the sensor but not the
	// rule, so counts are per sensor unless a sensor is listed here; a
	// sensor with several Sentinel rules can only be counted under one.
	// Names are matched regardless of case.
	Rules map[string]string
	// PairOnFacts pairs the two copies of an alert on its sensor, detection
	// time (to the second) and title only. By default an alert with a UUID
	// is paired on its UUID; that fails where one path carries the UUID and
	// the other does not, as when the sensor's CEF goes to the legacy proxy
	// and otbridge reads the same alerts from the sensor API.
	PairOnFacts bool
}

// ParityKQL returns the KQL queries that compare the two paths in the
// workspace for cfg's profile: first the rows and distinct alerts each path
// wrote per rule (see KQLOptions.Rules) and hour, then the alerts one path
// has and the other lacks, per sensor and hour. Each query is a block of
// its own that runs alone in Log Analytics.
//
// Legacy rows are the Defender for IoT rows of CommonSecurityLog (vendor
// "Defender for IoT" or "CyberX") without the PathLabel column: rows the
// proxy's agent wrote, which carry nothing otbridge added. Modern rows are
// those labelled with path "modern", in CommonSecurityLog or in the custom
// table. Both are paired on a key built from what every row holds: the
// lower-case sensor name with the UUID from AdditionalExtensions (custom
// table: AlertUUID), or when there is none the sensor, the detection time
// and the title. The detection time of a CommonSecurityLog row is read
// from "start" in the sensor's layout, "Jan 02 2006 15:04:05" in the
// action's timezone, or any form todatetime reads.
func ParityKQL(cfg Config, opts KQLOptions) string {
	cfg = cfg.WithDefaults()
	if opts.Lookback <= 0 {
		opts.Lookback = 24 * time.Hour
	}
	if opts.Settle <= 0 {
		opts.Settle = 30 * time.Minute
	}
	if opts.Timezone == "" {
		opts.Timezone = "UTC"
	}

	var pre strings.Builder
	fmt.Fprintf(&pre, "let lookback = %s;\n", kqlTimespan(opts.Lookback))
	fmt.Fprintf(&pre, "let settle = %s;\n", kqlTimespan(opts.Settle))
	fmt.Fprintf(&pre, "// The legacy actions' timezone: the zone of \"start\".\n")
	fmt.Fprintf(&pre, "let tz = %s;\n", kqlString(opts.Timezone))
	pre.WriteString(`let months = dynamic(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]);` + "\n")

	var rules strings.Builder
	rules.WriteString("// The rule each sensor's alerts count under; other sensors count as \"sensor:<name>\".\n")
	rules.WriteString("let rules = datatable(Sensor: string, Rule: string) [")
	ruleOf := lowerKeys(opts.Rules)
	for i, sensor := range slices.Sorted(maps.Keys(ruleOf)) {
		if i > 0 {
			rules.WriteString(",")
		}
		fmt.Fprintf(&rules, "\n    %s, %s", kqlString(sensor), kqlString(ruleOf[sensor]))
	}
	rules.WriteString("\n];\n")

	// The pairing key, from the columns Sensor, UUID, Detected and Title.
	pairKey := `iff(isnotempty(UUID), strcat(Sensor, "/", UUID), strcat(Sensor, "|", Detected, "|", Title))`
	if opts.PairOnFacts {
		pairKey = `strcat(Sensor, "|", Detected, "|", Title)`
	}

	// Rows of CommonSecurityLog with the columns the queries use. The
	// detection time comes from "start", read in the sensor's layout in
	// tz, else in any form todatetime reads.
	csl := func(filter string) string {
		return `CommonSecurityLog
    | where TimeGenerated > ago(lookback + settle)
    | where DeviceVendor contains "Defender for IoT" or DeviceVendor contains "CyberX"
` + filter + `    | extend Sensor = tolower(DeviceProduct), Title = Activity
    | extend UUID = extract(@"(?:^|;)UUID=([^;]*)", 1, AdditionalExtensions)
    | extend Start = extract(@"(?:^|;)start=([^;]*)", 1, AdditionalExtensions)
    | parse Start with StartMonth " " StartDay:int " " StartYear:int " " StartHour:int ":" StartMinute:int ":" StartSecond:int
    | extend Detected = coalesce(datetime_local_to_utc(make_datetime(StartYear, array_index_of(months, StartMonth) + 1, StartDay, StartHour, StartMinute, StartSecond), tz), todatetime(Start))
    | extend PairKey = ` + pairKey + `
    | project TimeGenerated, Path, Sensor, Title, PairKey`
	}

	var rows, modern string
	if cfg.Profile == ProfileCustom {
		modern = fmt.Sprintf("rows of %s whose Path is \"modern\"", cfg.Table)
		rows = "let legacy_rows = " + csl(`    | where DeviceCustomString6Label != "`+PathLabel+`"
    | extend Path = "legacy"
`) + ";\n" + "let modern_rows = " + cfg.Table + `
    | where TimeGenerated > ago(lookback + settle)
    | where Path == "modern"
    | extend Sensor = tolower(Sensor), UUID = AlertUUID, Detected = bin(DetectedAt, 1s)
    | extend PairKey = ` + pairKey + `
    | project TimeGenerated, Path, Sensor, Title, PairKey;
let defender = union legacy_rows, modern_rows;
`
	} else {
		modern = fmt.Sprintf("rows of CommonSecurityLog whose DeviceCustomString6Label\n// is %q and DeviceCustomString6 \"modern\"", PathLabel)
		rows = "let defender = " + csl(`    | extend Path = iff(DeviceCustomString6Label == "`+PathLabel+`", DeviceCustomString6, "legacy")
`) + ";\n"
	}
	preamble := pre.String() + rows

	var b strings.Builder
	fmt.Fprintf(&b, "// otbridge parity queries, profile %s.\n", cfg.Profile)
	b.WriteString("//\n")
	fmt.Fprintf(&b, "// Legacy rows: Defender for IoT rows of CommonSecurityLog without the %s\n", PathLabel)
	b.WriteString("// label, as the CEF proxy's agent wrote them.\n")
	b.WriteString("// Modern rows: " + modern + ".\n")
	if opts.PairOnFacts {
		b.WriteString("// The two copies of an alert are paired on sensor, detection time and title.\n")
	} else {
		b.WriteString("// The two copies of an alert are paired on sensor and UUID, or on sensor,\n")
		b.WriteString("// detection time and title when the row has no UUID.\n")
	}
	b.WriteString("// Each query below runs on its own: place the cursor in it and run it.\n")
	b.WriteString("\n")

	b.WriteString("// Query 1: rows and distinct alerts each path wrote, per rule and hour of\n")
	b.WriteString("// arrival. More rows than alerts means duplicates (retries).\n")
	b.WriteString(preamble)
	b.WriteString(rules.String())
	b.WriteString(`defender
| where TimeGenerated > ago(lookback)
| lookup kind=leftouter rules on Sensor
| extend Rule = iff(isempty(Rule), strcat("sensor:", Sensor), Rule)
| summarize Rows = count(), Alerts = dcount(PairKey, 4) by Rule, Path, Hour = bin(TimeGenerated, 1h)
| order by Hour asc, Rule asc, Path asc
`)
	b.WriteString("\n")

	b.WriteString("// Query 2: alerts one path wrote and the other did not, per sensor and hour\n")
	b.WriteString("// of first arrival, leaving out the last `settle` (still on their way).\n")
	b.WriteString(preamble)
	b.WriteString(`let legacy = defender
    | where Path == "legacy"
    | summarize FirstSeen = min(TimeGenerated), Title = take_any(Title) by PairKey, Sensor;
let modern = defender
    | where Path == "modern"
    | summarize FirstSeen = min(TimeGenerated), Title = take_any(Title) by PairKey, Sensor;
union
    (legacy | join kind=leftanti modern on PairKey | extend MissingOn = "modern"),
    (modern | join kind=leftanti legacy on PairKey | extend MissingOn = "legacy")
| where FirstSeen between (ago(lookback) .. ago(settle))
| summarize Alerts = count(), Examples = make_list(strcat(PairKey, " ", Title), 5) by Sensor, MissingOn, Hour = bin(FirstSeen, 1h)
| order by Hour asc, Sensor asc, MissingOn asc
`)
	return b.String()
}

// lowerKeys returns m with lower-case keys, as the queries compare sensor
// names.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// kqlString quotes s as a KQL string literal.
func kqlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// kqlTimespan writes d as a KQL timespan literal in the largest whole
// unit: 1d, 30m, 45s.
func kqlTimespan(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
