package bridge

import (
	"slices"
	"strings"
)

// ApplianceKind says whether a rule lives on a sensor or on the on-premises
// management console.
type ApplianceKind string

// The appliance kinds.
const (
	ApplianceSensor  ApplianceKind = "sensor"
	ApplianceConsole ApplianceKind = "management-console"
)

// Appliance is a sensor or management console and the forwarding rules
// configured on it.
type Appliance struct {
	Name string
	Kind ApplianceKind
	// Version is the appliance software version, when known ("24.1.3").
	Version string
	// Sensors, for a management console, names the sensors whose alerts its
	// rules see. Empty means every sensor connected to it.
	Sensors []string
	Rules   []Rule
}

// RuleRef names one rule: rule names are unique per appliance only.
type RuleRef struct {
	Appliance string `json:"appliance"`
	Rule      string `json:"rule"`
}

// String renders the reference as "appliance/rule".
func (r RuleRef) String() string { return r.Appliance + "/" + r.Rule }

// Rule is a forwarding rule exactly as the sensor or management console UI
// defines it. Filters left empty mean "any", as the UI's toggles do.
type Rule struct {
	// Appliance and ApplianceKind name where the rule lives. Sensors is the
	// appliance's sensor list for a management console rule.
	Appliance     string
	ApplianceKind ApplianceKind
	Sensors       []string

	Name string
	// MinSeverity is the minimal alert level: that level and above forward.
	MinSeverity Severity
	// Protocols is nil for "any protocol detected", else the protocols the
	// rule forwards.
	Protocols []string
	// Engines is nil for "traffic detected by any engine", else the engines
	// whose alerts the rule forwards.
	Engines []Engine
	// SystemNotifications and AlertNotifications are the management
	// console's "report system notifications" and "report alert
	// notifications" options; sensors have neither.
	SystemNotifications bool
	AlertNotifications  bool

	Actions []Action
}

// Ref returns the rule's reference.
func (r *Rule) Ref() RuleRef { return RuleRef{Appliance: r.Appliance, Rule: r.Name} }

// Match is the outcome of checking an alert against a rule's filters.
type Match int

// The outcomes of Rule.Matches.
const (
	// NoMatch: a filter the alert could be checked against excludes it.
	NoMatch Match = iota
	// Matched: every filter includes the alert.
	Matched
	// Undecided: no filter excludes the alert, but at least one filter needs
	// a field the alert lacks (API alerts carry no protocol), so only a
	// policy can say whether the sensor would have forwarded it.
	Undecided
)

// String returns "no-match", "match" or "undecided".
func (m Match) String() string {
	switch m {
	case Matched:
		return "match"
	case Undecided:
		return "undecided"
	}
	return "no-match"
}

// Covers reports whether the rule sees alerts from the named sensor: a
// sensor's rules see its own alerts, a management console's rules see those
// of the sensors it lists (all of them when it lists none). An alert whose
// sensor is unknown is seen by every rule.
func (r *Rule) Covers(sensor string) bool {
	if sensor == "" {
		return true
	}
	if r.ApplianceKind == ApplianceConsole {
		return len(r.Sensors) == 0 || slices.ContainsFunc(r.Sensors, func(s string) bool {
			return strings.EqualFold(s, sensor)
		})
	}
	return strings.EqualFold(r.Appliance, sensor)
}

// Matches applies the rule's filters to the alert the way the sensor does:
// the alert's severity must be at least MinSeverity, its protocol one of
// Protocols unless that is empty, and its engine one of Engines unless that
// is empty. Protocol names compare without regard to case.
//
// When the alert lacks a field that a filter needs (no severity, no protocol
// or no engine), that filter can neither include nor exclude it: Matches
// returns Undecided, unless another filter already excludes the alert, which
// gives NoMatch. A filter set to "any" never needs the field. Matches does
// not look at Covers.
func (r *Rule) Matches(a *Alert) Match {
	undecided := false

	if r.MinSeverity != SeverityUnknown {
		switch {
		case a.Severity == SeverityUnknown:
			undecided = true
		case a.Severity < r.MinSeverity:
			return NoMatch
		}
	}

	if len(r.Protocols) > 0 {
		switch {
		case a.Protocol == "":
			undecided = true
		case !slices.ContainsFunc(r.Protocols, func(p string) bool { return strings.EqualFold(p, a.Protocol) }):
			return NoMatch
		}
	}

	if len(r.Engines) > 0 {
		switch {
		case a.Engine == "":
			undecided = true
		case !slices.Contains(r.Engines, a.Engine):
			return NoMatch
		}
	}

	if undecided {
		return Undecided
	}
	return Matched
}

// SentinelActions returns the rule's legacy Microsoft Sentinel actions, the
// ones this migration replaces.
func (r *Rule) SentinelActions() []Action {
	var out []Action
	for _, a := range r.Actions {
		if a.Type == ActionSentinel {
			out = append(out, a)
		}
	}
	return out
}
