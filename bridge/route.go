package bridge

import (
	"fmt"
	"slices"
	"strings"
)

// Mode is a rule's migration state: where the alerts it selects go.
type Mode string

// The modes, in migration order.
const (
	// ModeLegacy: the legacy CEF proxy path only (today's behaviour).
	ModeLegacy Mode = "legacy"
	// ModeDual: both paths, so they can be compared.
	ModeDual Mode = "dual"
	// ModeModern: the Logs Ingestion API only.
	ModeModern Mode = "modern"
	// ModeOff: the rule's alerts go nowhere.
	ModeOff Mode = "off"
)

// Modes lists the modes in migration order.
var Modes = []Mode{ModeLegacy, ModeDual, ModeModern, ModeOff}

// ParseMode reads a mode name, ignoring case.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Modes, m) {
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want legacy, dual, modern or off)", s)
}

// Legacy reports whether the mode sends on the legacy path.
func (m Mode) Legacy() bool { return m == ModeLegacy || m == ModeDual }

// Modern reports whether the mode sends on the modern path.
func (m Mode) Modern() bool { return m == ModeModern || m == ModeDual }

// Path is one of the two ways to Sentinel.
type Path string

// The paths.
const (
	PathLegacy Path = "legacy" // CEF over syslog to the proxy
	PathModern Path = "modern" // the Logs Ingestion API
)

// UndecidedPolicy says what routing does with an alert that a rule's filters
// cannot judge (see Match).
type UndecidedPolicy string

// The policies for undecided matches.
const (
	// UndecidedInclude treats an undecided alert as matching: nothing the
	// sensor might have forwarded is lost, at the cost of possibly
	// forwarding alerts it would not have.
	UndecidedInclude UndecidedPolicy = "include"
	// UndecidedExclude treats it as not matching.
	UndecidedExclude UndecidedPolicy = "exclude"
)

// RuleRoute says where one rule's alerts go.
type RuleRoute struct {
	Mode Mode
	// Legacy and Modern name the destinations of each path. A path the
	// mode does not use is ignored.
	Legacy []string
	Modern []string
}

// Routing is the routing configuration: per rule, its mode and
// destinations, and the policy for undecided matches.
type Routing struct {
	// Rules maps each rule to its route. A rule without an entry gets
	// Default.
	Rules   map[RuleRef]RuleRoute
	Default RuleRoute
	// Undecided, if empty, is UndecidedInclude.
	Undecided UndecidedPolicy
}

// RouteFor returns the route of the rule: its own entry or the default.
func (r *Routing) RouteFor(ref RuleRef) RuleRoute {
	if rr, ok := r.Rules[ref]; ok {
		return rr
	}
	return r.Default
}

// InScope returns the rules otbridge routes: every rule with a Microsoft
// Sentinel action (the integration being migrated) and every rule the
// routing lists explicitly, in their original order. Other rules (email,
// another SIEM) keep working on the appliance and are none of otbridge's
// business unless the team routes them on purpose.
func (r *Routing) InScope(rules []Rule) []Rule {
	var out []Rule
	for i := range rules {
		_, listed := r.Rules[rules[i].Ref()]
		if listed || len(rules[i].SentinelActions()) > 0 {
			out = append(out, rules[i])
		}
	}
	return out
}

// Decision records what routing concluded for one rule that covers the
// alert's sensor.
type Decision struct {
	Rule  RuleRef
	Match Match
	// Selected: the rule forwards the alert (Matched, or Undecided under
	// UndecidedInclude).
	Selected bool
	Mode     Mode
}

// Delivery is one destination that receives the alert, with every selected
// rule that sends it there. An alert selected by two rules that share a
// destination is delivered there once.
type Delivery struct {
	Path        Path
	Destination string
	Rules       []RuleRef
}

// Result is the outcome of routing one alert.
type Result struct {
	// Decisions has one entry per rule that covers the alert's sensor, in
	// rule order.
	Decisions []Decision
	// Deliveries has one entry per destination, legacy ones first, each
	// path in order of first appearance.
	Deliveries []Delivery
}

// Route decides which destinations receive the alert. It considers each
// rule that covers the alert's sensor, applies its filters (Rule.Matches)
// and the undecided policy, and sends the alert along the paths of the
// rule's mode. The result does not depend on anything but its arguments: the
// daemon and the dry-run report call this one function.
//
// A caller that knows the alert belongs to one rule (a listener bound to a
// rule) passes just that rule.
func Route(a *Alert, rules []Rule, routing *Routing) Result {
	var res Result
	var legacy, modern []Delivery
	for i := range rules {
		r := &rules[i]
		if !r.Covers(a.Sensor) {
			continue
		}

		ref := r.Ref()
		route := routing.RouteFor(ref)
		m := r.Matches(a)
		selected := m == Matched || (m == Undecided && routing.Undecided != UndecidedExclude)
		res.Decisions = append(res.Decisions, Decision{Rule: ref, Match: m, Selected: selected, Mode: route.Mode})
		if !selected {
			continue
		}

		if route.Mode.Legacy() {
			for _, d := range route.Legacy {
				legacy = addDelivery(legacy, PathLegacy, d, ref)
			}
		}
		if route.Mode.Modern() {
			for _, d := range route.Modern {
				modern = addDelivery(modern, PathModern, d, ref)
			}
		}
	}
	res.Deliveries = append(legacy, modern...)
	return res
}

func addDelivery(ds []Delivery, p Path, dest string, ref RuleRef) []Delivery {
	for i := range ds {
		if ds[i].Destination == dest {
			if !slices.Contains(ds[i].Rules, ref) {
				ds[i].Rules = append(ds[i].Rules, ref)
			}
			return ds
		}
	}
	return append(ds, Delivery{Path: p, Destination: dest, Rules: []RuleRef{ref}})
}
