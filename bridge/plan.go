package bridge

import (
	"encoding/json"
	"time"
)

// PlanSchemaVersion is the version of the migration report's JSON form. It
// grows by one whenever a field changes meaning or goes away; new fields
// may appear without a change.
const PlanSchemaVersion = 1

// FindingSeverity says how much a finding stands in the way of migrating.
type FindingSeverity string

// The severities of findings, from worst.
const (
	// FindingBlocker: the migration of the rule cannot go ahead as planned.
	FindingBlocker FindingSeverity = "blocker"
	// FindingWarning: it can, but something will change or may break.
	FindingWarning FindingSeverity = "warning"
	// FindingInfo: worth knowing, nothing to fix.
	FindingInfo FindingSeverity = "info"
)

// rank orders severities, worst first.
func (s FindingSeverity) rank() int {
	switch s {
	case FindingBlocker:
		return 0
	case FindingWarning:
		return 1
	}
	return 2
}

// The finding codes. They are stable: pipelines and change tickets refer to
// them.
const (
	CodeMultipleSentinelServers  = "multiple-sentinel-servers"
	CodeTLSMaterialUnreadable    = "tls-material-unreadable"
	CodeTLSCertificateExpired    = "tls-certificate-expired"
	CodeTLSCertificateExpiring   = "tls-certificate-expiring"
	CodeTLSKeyMismatch           = "tls-key-mismatch"
	CodeUnencryptedTransport     = "unencrypted-transport"
	CodeRetiredAction            = "retired-action"
	CodeManagementConsoleRetired = "management-console-retired"
	CodeSystemNotifications      = "system-notifications-not-migrated"
	CodeFilterNotEvaluable       = "filter-not-evaluable"
	CodeNoDestination            = "no-destination"
	CodeFieldTruncated           = "field-truncated"
	CodeUnmappedFields           = "unmapped-fields"
)

// Finding is one thing the migration report found, with what to do.
type Finding struct {
	Code     string          `json:"code"`
	Severity FindingSeverity `json:"severity"`
	// Rule and Action say what the finding concerns: Rule is nil for a
	// finding about the config or a destination, Action is the 1-based
	// index of the rule's action, 0 for the rule as a whole.
	Rule   *RuleRef `json:"rule,omitempty"`
	Action int      `json:"action,omitempty"`
	// Destination names the otbridge destination concerned, if any; Field
	// the config or inventory field, if any ("listeners[0].tls").
	Destination string `json:"destination,omitempty"`
	Field       string `json:"field,omitempty"`
	// Where is the file and line of the inventory or config entry, when
	// known ("inventory.yaml:14").
	Where string `json:"where,omitempty"`
	// Message says what was found, Fix what to do about it.
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// PlanInput is everything the migration report is computed from. The
// caller reads files and decodes alerts; BuildPlan itself does no I/O.
type PlanInput struct {
	// Appliances is the whole rule inventory.
	Appliances []Appliance
	// Routing is the configured routing: modes, destinations, undecided
	// policy.
	Routing *Routing
	// Legacy names the configured legacy (CEF proxy) destinations; Modern
	// describes the modern ones.
	Legacy []string
	Modern []PlanDestination
	// Samples are sample alerts to run through routing, if any.
	Samples []Sample
	// TLS holds the checked certificate and key files that the inventory
	// and the config name.
	TLS []TLSMaterial
	// Now is the time the report is made at: certificates are judged
	// against it. ExpiryHorizon is how soon an expiry warns; if zero, 30
	// days.
	Now           time.Time
	ExpiryHorizon time.Duration
	// Previews is how many rows to preview per rule; if zero, 3; negative
	// for none.
	Previews int
	// Locate, if set, returns the file and line where a rule (action 0)
	// or its 1-based action is written, for findings.
	Locate func(ref RuleRef, action int) string
	// Sources describes where the alerts came from, for the report's
	// header (config and inventory files, sample file).
	Sources PlanSources
}

// PlanSources names the inputs of a report.
type PlanSources struct {
	Config    string   `json:"config"`
	Inventory []string `json:"inventory"`
	Alerts    []string `json:"alerts,omitempty"`
}

// Sample is one sample alert with where it was read.
type Sample struct {
	Alert *Alert
	// Where is "file:line" or "file#index".
	Where string
}

// RowMapper turns alerts into the JSON rows of a modern destination's
// profile. AppendRow appends one row to dst and reports how many field
// values it cut to the field limit.
type RowMapper interface {
	AppendRow(dst []byte, a *Alert, path Path) (row []byte, truncated int, err error)
}

// PlanDestination is a modern destination as the report needs it.
type PlanDestination struct {
	Name    string
	Profile string
	// Stream and Table say where rows land, for the report.
	Stream string
	Table  string
	// Coverage maps each alert field the profile carries to its columns;
	// fields not listed are dropped.
	Coverage []FieldColumns
	// FieldLimit is the longest field value the destination sends whole,
	// in bytes. FlushDelay is how long a partial batch waits for more
	// rows, which bounds the requests per day from below at low rates.
	FieldLimit int
	FlushDelay time.Duration
	// Mapper renders rows; Measure batches them as the sender would and
	// returns the bytes on the wire. Both may be nil (no previews, no
	// volume in bytes).
	Mapper  RowMapper
	Measure func(rows [][]byte) (Volume, error)
}

// TLSMaterial is the state of one certificate (and key) that the inventory
// or the config names, as the caller found it on disk.
type TLSMaterial struct {
	// Rule and Action locate an inventory action's encryption; Field a
	// config setting. One of the two is set.
	Rule   *RuleRef
	Action int
	Field  string
	// Where is the file and line that names the material, when known.
	Where string
	// CertFile and KeyFile are the files checked; either may be empty.
	CertFile string
	KeyFile  string
	// Err says why the material could not be read or parsed; the other
	// fields are then unset.
	Err string
	// Subject and NotAfter describe the (first) certificate.
	Subject  string
	NotAfter time.Time
	// KeyMismatch: the key does not belong to the certificate.
	KeyMismatch bool
}

// Volume is an amount of traffic: alerts, rows' bytes before and after
// compression, and requests.
type Volume struct {
	Alerts     float64 `json:"alerts"`
	Bytes      float64 `json:"bytes"`
	Compressed float64 `json:"compressed_bytes"`
	Requests   float64 `json:"requests"`
}

// Plan is the migration report: per appliance, rule and action, what the
// migration will do, what stands in its way, and what it will carry.
type Plan struct {
	SchemaVersion int         `json:"schema_version"`
	GeneratedAt   time.Time   `json:"generated_at"`
	Sources       PlanSources `json:"sources"`
	Summary       PlanSummary `json:"summary"`
	// Findings holds every finding, worst first, then in inventory order.
	Findings     []Finding         `json:"findings"`
	Appliances   []PlanAppliance   `json:"appliances"`
	Destinations []PlanDestSummary `json:"destinations"`
	Samples      PlanSampleSummary `json:"samples"`
	// Undecided is the configured policy for alerts a filter cannot judge;
	// Horizon how soon a certificate expiry is reported.
	Undecided UndecidedPolicy `json:"undecided_policy"`
	Horizon   JSONDuration    `json:"expiry_horizon"`
}

// JSONDuration is a duration written as Go's text ("720h0m0s").
type JSONDuration time.Duration

// MarshalJSON writes the duration as text.
func (d JSONDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads the duration from text.
func (d *JSONDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = JSONDuration(v)
	return err
}

// PlanSummary counts what the report covers.
type PlanSummary struct {
	Appliances int `json:"appliances"`
	Rules      int `json:"rules"`
	// Routed counts the rules otbridge routes (a Sentinel action or a
	// route of their own); per mode in Modes.
	Routed   int            `json:"routed_rules"`
	Modes    map[Mode]int   `json:"modes"`
	Blockers int            `json:"blockers"`
	Warnings int            `json:"warnings"`
	Infos    int            `json:"infos"`
	Codes    map[string]int `json:"codes"`
}

// PlanSampleSummary describes the sample alerts.
type PlanSampleSummary struct {
	Count int `json:"count"`
	// Routed counts the samples at least one routed rule selects.
	Routed int `json:"routed"`
	// First and Last are the earliest and latest detection times; Days the
	// span between them, the base of the per-day estimates (0: too short
	// to estimate).
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	Days  float64   `json:"days"`
}

// PlanAppliance is one appliance with its rules.
type PlanAppliance struct {
	Name    string        `json:"name"`
	Kind    ApplianceKind `json:"kind"`
	Version string        `json:"version,omitempty"`
	Rules   []PlanRule    `json:"rules"`
}

// PlanRule is one forwarding rule: its filters, its actions, the path its
// alerts take today and after the migration, the samples it selects and
// what they amount to.
type PlanRule struct {
	Rule RuleRef `json:"rule"`
	// MinLevel is the minimal alert level; empty for any level.
	MinLevel  string   `json:"minimal_alert_level"`
	Protocols []string `json:"protocols"` // null: any protocol
	Engines   []string `json:"engines"`   // null: any engine
	// Routed: otbridge routes this rule; Mode and the destinations are set
	// only then.
	Routed  bool         `json:"routed"`
	Mode    Mode         `json:"mode,omitempty"`
	Legacy  []string     `json:"legacy_destinations,omitempty"`
	Modern  []string     `json:"modern_destinations,omitempty"`
	Current string       `json:"current_path"`
	Planned string       `json:"proposed_path"`
	Actions []PlanAction `json:"actions"`
	// Matched, Undecided and Selected count the sample alerts: matched by
	// the filters, undecided (a filter lacked its field), and selected
	// (forwarded: matched, or undecided under the include policy).
	Matched   int `json:"matched_samples"`
	Undecided int `json:"undecided_samples"`
	Selected  int `json:"selected_samples"`
	// SampleRefs lists where the first few selected samples were read.
	SampleRefs []string `json:"sample_refs,omitempty"`
	// PerDay is the expected daily volume, estimated from the samples
	// (nil without a span to estimate from). Its bytes are those of the
	// modern rows of destination EstimatedWith: the rule's first modern
	// destination, else the first one configured.
	PerDay        *Volume `json:"per_day,omitempty"`
	EstimatedWith string  `json:"estimated_with,omitempty"`
	// Previews are the first rows the modern path would send.
	Previews []RowPreview `json:"previews,omitempty"`
	// Findings counts this rule's findings per severity.
	Blockers int `json:"blockers"`
	Warnings int `json:"warnings"`
}

// PlanAction is one action (server) of a rule.
type PlanAction struct {
	Index     int        `json:"index"`
	Type      ActionType `json:"type"`
	Label     string     `json:"label"`
	Target    string     `json:"target,omitempty"`
	Encrypted bool       `json:"encrypted"`
	// Current and Planned: what the action does today and what it will
	// do: for a Sentinel action the rule's mode decides, the others stay
	// on the appliance.
	Current string `json:"current"`
	Planned string `json:"proposed"`
	Retired string `json:"retired,omitempty"`
}

// RowPreview is one row the modern path would send.
type RowPreview struct {
	Destination string          `json:"destination"`
	Sample      string          `json:"sample"`
	Row         json.RawMessage `json:"row"`
}

// PlanDestSummary is one destination as the report shows it, with the
// field coverage of its profile.
type PlanDestSummary struct {
	Name    string `json:"name"`
	Path    Path   `json:"path"`
	Profile string `json:"profile,omitempty"`
	Stream  string `json:"stream,omitempty"`
	Table   string `json:"table,omitempty"`
	// Rules names the rules that send here in their proposed mode.
	Rules []RuleRef `json:"rules"`
	// Coverage has one entry per alert field (modern destinations only).
	Coverage []FieldCoverage `json:"coverage,omitempty"`
}

// FieldCoverage says where one alert field lands in a profile's rows, and
// how many sample alerts sent there carry it.
type FieldCoverage struct {
	Field   string   `json:"field"`
	Columns []string `json:"columns"` // empty: the profile drops the field
	Present int      `json:"present"`
	Missing int      `json:"missing"`
}
