package bridge

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The defaults of PlanInput.
const (
	DefaultExpiryHorizon = 30 * 24 * time.Hour
	DefaultPreviews      = 3
	// sampleRefsPerRule bounds PlanRule.SampleRefs.
	sampleRefsPerRule = 5
	// measureRows bounds the rows per rule that are batched and
	// compressed to measure bytes; the rest are extrapolated.
	measureRows = 256
	// minSpan is the shortest sample span a per-day estimate is made from.
	minSpan = time.Hour
)

// BuildPlan computes the migration report. It reads no file and sends
// nothing: it routes the samples with Route, the function the daemon
// uses, so the report says what the daemon would do.
func BuildPlan(in PlanInput) *Plan {
	b := newPlanBuilder(in)
	b.rules()
	b.samples()
	b.volumes()
	b.destinations()
	b.tls()
	b.finish()
	return b.plan
}

type planBuilder struct {
	in      PlanInput
	plan    *Plan
	routing *Routing
	// all holds every rule of the inventory in order, scope the routed
	// ones; views are their report entries (pointing into plan.Appliances),
	// order their position.
	all     []Rule
	scope   []Rule
	views   map[RuleRef]*PlanRule
	order   map[RuleRef]int
	modern  map[string]*PlanDestination
	legacy  map[string]bool
	perRule map[RuleRef]*ruleSamples
	rows    map[string]*rowCache
	// routed lists the samples any routed rule selects.
	routed []*Alert
}

// ruleSamples gathers what one rule selects.
type ruleSamples struct {
	samples []int // indexes into in.Samples
	missing map[string]int
	// truncated counts samples whose rows had values cut, per destination;
	// long lists the fields over the limit.
	truncated map[string]int
	long      map[string]map[string]bool
}

func newPlanBuilder(in PlanInput) *planBuilder {
	if in.ExpiryHorizon <= 0 {
		in.ExpiryHorizon = DefaultExpiryHorizon
	}
	if in.Previews == 0 {
		in.Previews = DefaultPreviews
	}
	routing := in.Routing
	if routing == nil {
		routing = &Routing{Default: RuleRoute{Mode: ModeLegacy}}
	}
	undecided := routing.Undecided
	if undecided == "" {
		undecided = UndecidedInclude
	}
	b := &planBuilder{
		in:      in,
		routing: routing,
		views:   map[RuleRef]*PlanRule{},
		order:   map[RuleRef]int{},
		modern:  map[string]*PlanDestination{},
		legacy:  map[string]bool{},
		perRule: map[RuleRef]*ruleSamples{},
		rows:    map[string]*rowCache{},
		plan: &Plan{
			SchemaVersion: PlanSchemaVersion,
			GeneratedAt:   in.Now.UTC(),
			Sources:       in.Sources,
			Findings:      []Finding{},
			Appliances:    []PlanAppliance{},
			Destinations:  []PlanDestSummary{},
			Undecided:     undecided,
			Horizon:       JSONDuration(in.ExpiryHorizon),
		},
	}
	for i := range in.Modern {
		b.modern[in.Modern[i].Name] = &in.Modern[i]
	}
	for _, name := range in.Legacy {
		b.legacy[name] = true
	}
	return b
}

// add records a finding.
func (b *planBuilder) add(f Finding) { b.plan.Findings = append(b.plan.Findings, f) }

// rules fills the appliances and rules of the report, with the findings
// the inventory and the routing alone give.
func (b *planBuilder) rules() {
	for _, app := range b.in.Appliances {
		b.all = append(b.all, app.Rules...)
	}
	b.scope = b.routing.InScope(b.all)
	routed := map[RuleRef]bool{}
	for _, r := range b.scope {
		routed[r.Ref()] = true
	}

	for _, app := range b.in.Appliances {
		pa := PlanAppliance{Name: app.Name, Kind: app.Kind, Version: app.Version, Rules: make([]PlanRule, len(app.Rules))}
		for i := range app.Rules {
			r := &app.Rules[i]
			pa.Rules[i] = b.ruleView(r, routed[r.Ref()])
		}
		b.plan.Appliances = append(b.plan.Appliances, pa)
	}
	// Point the index at the final slices.
	for ai := range b.plan.Appliances {
		for ri := range b.plan.Appliances[ai].Rules {
			pr := &b.plan.Appliances[ai].Rules[ri]
			b.order[pr.Rule] = len(b.order)
			b.views[pr.Rule] = pr
		}
	}

	for _, app := range b.in.Appliances {
		for i := range app.Rules {
			r := &app.Rules[i]
			b.ruleFindings(r, routed[r.Ref()])
		}
	}
}

func (b *planBuilder) ruleView(r *Rule, routed bool) PlanRule {
	pr := PlanRule{
		Rule:      r.Ref(),
		MinLevel:  r.MinSeverity.String(),
		Protocols: r.Protocols,
		Routed:    routed,
	}
	for _, e := range r.Engines {
		pr.Engines = append(pr.Engines, string(e))
	}
	pr.Current = currentPath(r)
	pr.Planned = "unchanged: otbridge does not route this rule"
	if routed {
		route := b.routing.RouteFor(r.Ref())
		pr.Mode, pr.Legacy, pr.Modern = route.Mode, route.Legacy, route.Modern
		pr.Planned = plannedPath(route)
	}
	for i, a := range r.Actions {
		info, _ := a.Type.Info()
		pa := PlanAction{
			Index:     i + 1,
			Type:      a.Type,
			Label:     info.Label,
			Target:    a.Target(),
			Encrypted: a.Encryption.Enabled,
			Current:   actionCurrent(&a, info),
			Planned:   "unchanged: stays on the appliance",
		}
		if routed && a.Type == ActionSentinel {
			pa.Planned = "through otbridge: " + pr.Planned
		}
		// The Sentinel action's deprecation is why the report exists; the
		// others' retirement is news.
		if !info.Retired.IsZero() && a.Type != ActionSentinel {
			pa.Retired = info.Retired.Format("2006-01-02")
		}
		pr.Actions = append(pr.Actions, pa)
	}
	return pr
}

// currentPath says where the rule's alerts go today.
func currentPath(r *Rule) string {
	var parts []string
	for _, a := range r.Actions {
		info, _ := a.Type.Info()
		s := info.Label
		if t := a.Target(); t != "" {
			s += " " + t
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "nowhere: the rule has no action"
	}
	return strings.Join(parts, ", ")
}

// plannedPath says where a routed rule's alerts go in its mode.
func plannedPath(rr RuleRoute) string {
	list := func(names []string) string {
		if len(names) == 0 {
			return "(no destination)"
		}
		return strings.Join(names, ", ")
	}
	switch rr.Mode {
	case ModeLegacy:
		return "legacy: CEF proxy " + list(rr.Legacy)
	case ModeDual:
		return "dual: CEF proxy " + list(rr.Legacy) + " and Logs Ingestion " + list(rr.Modern)
	case ModeModern:
		return "modern: Logs Ingestion " + list(rr.Modern)
	}
	return "off: otbridge forwards nothing"
}

func actionCurrent(a *Action, info ActionInfo) string {
	switch {
	case a.Type == ActionSentinel:
		return "CEF over syslog to the proxy " + a.Target()
	case info.Network:
		return "syslog to " + a.Target()
	case a.Target() != "":
		return "to " + a.Target()
	}
	return "vendor integration"
}

// ruleFindings checks one rule's actions and route.
func (b *planBuilder) ruleFindings(r *Rule, routed bool) {
	ref := r.Ref()
	rp := &ref
	where := func(action int) string {
		if b.in.Locate == nil {
			return ""
		}
		return b.in.Locate(ref, action)
	}

	if n := len(r.SentinelActions()); n > 1 {
		b.add(Finding{
			Code: CodeMultipleSentinelServers, Severity: FindingBlocker, Rule: rp, Where: where(0),
			Message: fmt.Sprintf("the rule sends to %d Microsoft Sentinel servers; the sensor supports one Sentinel instance per rule", n),
			Fix:     "split it into one rule per Sentinel workspace, each with one Sentinel action, and route each rule on its own",
		})
	}
	if r.ApplianceKind == ApplianceConsole {
		sensors := "every sensor connected to it"
		if len(r.Sensors) > 0 {
			sensors = strings.Join(r.Sensors, ", ")
		}
		b.add(Finding{
			Code: CodeManagementConsoleRetired, Severity: FindingWarning, Rule: rp, Where: where(0),
			Message: "the rule lives on the on-premises management console, which can no longer be downloaded since 1 January 2025 and which newer sensors do not connect to",
			Fix:     "recreate the rule on the sensors it covers (" + sensors + ") and route those rules instead",
		})
		if r.SystemNotifications && routed {
			b.add(Finding{
				Code: CodeSystemNotifications, Severity: FindingWarning, Rule: rp, Where: where(0),
				Message: "the rule reports system notifications (sensor disconnected, backup failed); the modern path carries alerts only, so in modern mode they stop reaching Sentinel",
				Fix:     "keep a syslog or email action for system notifications, or watch sensor health in the Azure portal, before the rule goes modern",
			})
		}
	}
	for i, a := range r.Actions {
		info, _ := a.Type.Info()
		if (a.Type == ActionSentinel || a.Type == ActionSyslogCEF) && !a.Encryption.Enabled {
			b.add(Finding{
				Code: CodeUnencryptedTransport, Severity: FindingWarning, Rule: rp, Action: i + 1, Where: where(i + 1),
				Message: fmt.Sprintf("%s action to %s sends CEF without encryption", info.Label, a.Target()),
				Fix:     "turn on the action's encryption (TLS 1.2, port 6514) with a certificate from the receiver, or accept clear text on a segregated network",
			})
		}
		if !info.Retired.IsZero() && a.Type != ActionSentinel {
			passed := ""
			if !info.Retired.After(b.in.Now) {
				passed = ", a date that has passed"
			}
			b.add(Finding{
				Code: CodeRetiredAction, Severity: FindingWarning, Rule: rp, Action: i + 1, Where: where(i + 1),
				Message: fmt.Sprintf("the %s integration: %s%s", info.Label, info.RetiredNote, passed),
				Fix:     "replace it with a syslog forwarding rule (CEF or LEEF) to a collector of your own, or the REST API",
			})
		}
	}

	if !routed {
		return
	}
	route := b.routing.RouteFor(ref)
	if route.Mode.Legacy() && len(route.Legacy) == 0 {
		b.add(Finding{
			Code: CodeNoDestination, Severity: FindingBlocker, Rule: rp, Where: where(0),
			Message: fmt.Sprintf("mode %s sends on the legacy path but the route names no legacy destination", route.Mode),
			Fix:     "name the CEF proxy under the rule's route (routing.rules[].legacy) or routing.default.legacy",
		})
	}
	if route.Mode.Modern() && len(route.Modern) == 0 {
		b.add(Finding{
			Code: CodeNoDestination, Severity: FindingBlocker, Rule: rp, Where: where(0),
			Message: fmt.Sprintf("mode %s sends on the modern path but the route names no modern destination", route.Mode),
			Fix:     "add a Logs Ingestion destination under destinations.modern and name it in the rule's route (routing.rules[].modern)",
		})
	}
	for _, name := range route.Modern {
		if route.Mode.Modern() && b.modern[name] == nil {
			b.add(Finding{
				Code: CodeNoDestination, Severity: FindingBlocker, Rule: rp, Destination: name, Where: where(0),
				Message: fmt.Sprintf("the route names modern destination %q, which is not configured", name),
				Fix:     "configure it under destinations.modern or correct the name",
			})
		}
	}
	for _, name := range route.Legacy {
		if route.Mode.Legacy() && !b.legacy[name] {
			b.add(Finding{
				Code: CodeNoDestination, Severity: FindingBlocker, Rule: rp, Destination: name, Where: where(0),
				Message: fmt.Sprintf("the route names legacy destination %q, which is not configured", name),
				Fix:     "configure it under destinations.legacy or correct the name",
			})
		}
	}
}

// samples routes every sample alert and gathers per rule what it selects.
func (b *planBuilder) samples() {
	ss := &b.plan.Samples
	ss.Count = len(b.in.Samples)
	candidates := b.candidateRules()

	for i, s := range b.in.Samples {
		a := s.Alert
		if a == nil {
			continue
		}
		if t := a.DetectedAt; !t.IsZero() {
			if ss.First.IsZero() || t.Before(ss.First) {
				ss.First = t
			}
			if t.After(ss.Last) {
				ss.Last = t
			}
		}

		res := Route(a, candidates(a.Sensor), b.routing)
		any := false
		for _, d := range res.Decisions {
			pr := b.views[d.Rule]
			rs := b.ruleSamples(d.Rule)
			switch d.Match {
			case Matched:
				pr.Matched++
			case Undecided:
				pr.Undecided++
				r := b.rule(d.Rule)
				for _, f := range missingFilterFields(r, a) {
					rs.missing[f]++
				}
			}
			if d.Selected {
				any = true
				pr.Selected++
				rs.samples = append(rs.samples, i)
				if len(pr.SampleRefs) < sampleRefsPerRule {
					pr.SampleRefs = append(pr.SampleRefs, s.Where)
				}
			}
		}
		if any {
			ss.Routed++
			b.routed = append(b.routed, a)
		}
	}
	if span := ss.Last.Sub(ss.First); span >= minSpan {
		ss.Days = span.Hours() / 24
	}
	ss.First, ss.Last = ss.First.UTC(), ss.Last.UTC()

	for _, r := range b.scope {
		b.undecidedFinding(&r)
	}
}

// candidateRules returns a function giving the routed rules that cover a
// sensor, computed once per sensor name: Route would skip the others, and
// skipping them here keeps a large fleet's report fast.
func (b *planBuilder) candidateRules() func(sensor string) []Rule {
	cache := map[string][]Rule{}
	return func(sensor string) []Rule {
		if rs, ok := cache[sensor]; ok {
			return rs
		}
		var rs []Rule
		for _, r := range b.scope {
			if r.Covers(sensor) {
				rs = append(rs, r)
			}
		}
		cache[sensor] = rs
		return rs
	}
}

func (b *planBuilder) rule(ref RuleRef) *Rule {
	for i := range b.scope {
		if b.scope[i].Ref() == ref {
			return &b.scope[i]
		}
	}
	return nil
}

func (b *planBuilder) ruleSamples(ref RuleRef) *ruleSamples {
	rs := b.perRule[ref]
	if rs == nil {
		rs = &ruleSamples{missing: map[string]int{}, truncated: map[string]int{}, long: map[string]map[string]bool{}}
		b.perRule[ref] = rs
	}
	return rs
}

// missingFilterFields names the alert fields a rule's filters need and the
// alert lacks.
func missingFilterFields(r *Rule, a *Alert) []string {
	var out []string
	if r.MinSeverity != SeverityUnknown && a.Severity == SeverityUnknown {
		out = append(out, "severity")
	}
	if len(r.Protocols) > 0 && a.Protocol == "" {
		out = append(out, "protocol")
	}
	if len(r.Engines) > 0 && a.Engine == "" {
		out = append(out, "engine")
	}
	return out
}

func (b *planBuilder) undecidedFinding(r *Rule) {
	rs := b.perRule[r.Ref()]
	if rs == nil || len(rs.missing) == 0 {
		return
	}
	ref := r.Ref()
	var parts []string
	for _, f := range []string{"severity", "protocol", "engine"} {
		if n := rs.missing[f]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d without %s", n, f))
		}
	}
	effect := "forwarded (routing.undecided is include)"
	fix := "keep include if a missing alert is worse than an extra one; set routing.undecided to exclude otherwise, or feed the rule from syslog, whose CEF carries the protocol"
	if b.plan.Undecided == UndecidedExclude {
		effect = "not forwarded (routing.undecided is exclude), though the sensor may have forwarded them"
		fix = "set routing.undecided to include so that no alert the sensor forwarded is lost, or feed the rule from syslog, whose CEF carries the protocol"
	}
	where := ""
	if b.in.Locate != nil {
		where = b.in.Locate(ref, 0)
	}
	b.add(Finding{
		Code: CodeFilterNotEvaluable, Severity: FindingWarning, Rule: &ref, Where: where,
		Message: fmt.Sprintf("the rule's filters cannot judge %s (%s); they are %s",
			plural(b.views[ref].Undecided, "sample alert"), strings.Join(parts, ", "), effect),
		Fix: fix,
	})
}

// volumes maps the selected samples to rows: previews, truncation,
// field coverage and the per-day estimates.
func (b *planBuilder) volumes() {
	days := b.plan.Samples.Days
	for _, r := range b.scope {
		ref := r.Ref()
		pr := b.views[ref]
		rs := b.perRule[ref]
		dest := b.estimateDestination(pr)
		if dest != nil {
			pr.EstimatedWith = dest.Name
		}
		if rs == nil || len(rs.samples) == 0 {
			continue
		}

		var rows [][]byte
		for n, si := range rs.samples {
			if dest == nil || dest.Mapper == nil {
				break
			}
			row, truncated, ok := b.row(dest, si)
			if !ok {
				continue
			}
			s := b.in.Samples[si]
			if truncated {
				rs.truncated[dest.Name]++
				if rs.long[dest.Name] == nil {
					rs.long[dest.Name] = map[string]bool{}
				}
				for _, f := range longFields(s.Alert, dest.FieldLimit) {
					rs.long[dest.Name][f] = true
				}
			}
			if n < measureRows {
				rows = append(rows, row)
			}
			if len(pr.Previews) < b.in.Previews {
				pr.Previews = append(pr.Previews, RowPreview{Destination: dest.Name, Sample: s.Where, Row: row})
			}
		}
		// Values are cut only on a modern path the rule really takes.
		if dest != nil && pr.Mode.Modern() && slices.Contains(pr.Modern, dest.Name) {
			b.truncationFindings(ref, rs)
		}

		if days <= 0 {
			continue
		}
		v := &Volume{Alerts: float64(pr.Selected) / days}
		if dest != nil && dest.Measure != nil && len(rows) > 0 {
			if m, err := dest.Measure(rows); err == nil {
				scale := float64(pr.Selected) / float64(len(rows)) / days
				v.Bytes, v.Compressed, v.Requests = m.Bytes*scale, m.Compressed*scale, m.Requests*scale
				// A partial batch leaves after the flush delay: at low rates
				// most alerts travel alone.
				if dest.FlushDelay > 0 {
					v.Requests = max(v.Requests, min(v.Alerts, float64(24*time.Hour/dest.FlushDelay)))
				}
			}
		}
		pr.PerDay = v
	}
}

// row returns the modern row of sample si for dest, mapping it once per
// destination however many rules select the sample. ok is false when the
// mapper refuses the alert; truncated says it cut a value.
func (b *planBuilder) row(dest *PlanDestination, si int) (row []byte, truncated, ok bool) {
	c := b.rows[dest.Name]
	if c == nil {
		c = &rowCache{rows: make([][]byte, len(b.in.Samples)), state: make([]uint8, len(b.in.Samples))}
		b.rows[dest.Name] = c
	}
	if c.state[si] == 0 {
		// Rows are appended to a shared chunk, which a full chunk leaves
		// to the rows already in it.
		if cap(c.chunk)-len(c.chunk) < 4096 {
			c.chunk = make([]byte, 0, 1<<20)
		}
		start := len(c.chunk)
		chunk, n, err := dest.Mapper.AppendRow(c.chunk, b.in.Samples[si].Alert, PathModern)
		var r []byte
		if err == nil {
			r = chunk[start:len(chunk):len(chunk)]
			if cap(chunk) == cap(c.chunk) { // appended in place
				c.chunk = chunk
			}
		}
		switch {
		case err != nil:
			c.state[si] = rowFailed
		case n > 0:
			c.rows[si], c.state[si] = r, rowTruncated
		default:
			c.rows[si], c.state[si] = r, rowMapped
		}
	}
	return c.rows[si], c.state[si] == rowTruncated, c.state[si] != rowFailed
}

// rowCache holds one destination's rows of the samples, by sample index.
type rowCache struct {
	rows  [][]byte
	state []uint8
	chunk []byte
}

// The states of a rowCache entry; zero is "not mapped yet".
const (
	rowMapped uint8 = iota + 1
	rowTruncated
	rowFailed
)

// estimateDestination is the modern destination whose rows measure the
// rule's volume: its first configured modern destination, else the first
// one configured at all.
func (b *planBuilder) estimateDestination(pr *PlanRule) *PlanDestination {
	for _, name := range pr.Modern {
		if d := b.modern[name]; d != nil {
			return d
		}
	}
	if len(b.in.Modern) > 0 {
		return &b.in.Modern[0]
	}
	return nil
}

// longFields names the alert fields with a value over limit bytes.
func longFields(a *Alert, limit int) []string {
	if limit <= 0 {
		return nil
	}
	var out []string
	for _, f := range alertFields {
		for _, v := range f.Values(a) {
			if len(v) > limit {
				out = append(out, f.Name)
				break
			}
		}
	}
	return out
}

func (b *planBuilder) truncationFindings(ref RuleRef, rs *ruleSamples) {
	for _, dest := range slices.Sorted(mapKeys(rs.truncated)) {
		n := rs.truncated[dest]
		fields := slices.Sorted(mapKeys(rs.long[dest]))
		what := "values that together exceed a column's limit"
		if len(fields) > 0 {
			what = "values over the limit in " + strings.Join(fields, ", ")
		}
		limit := b.modern[dest].FieldLimit
		b.add(Finding{
			Code: CodeFieldTruncated, Severity: FindingWarning, Rule: &ref, Destination: dest,
			Message: fmt.Sprintf("%s with %s; rows to %s cut them at %d bytes (the API would cut them at 64 KB silently)", plural(n, "sample alert"), what, dest, limit),
			Fix:     "nothing to do if the start of the value is enough; the legacy path keeps the whole message meanwhile",
		})
	}
}

// plural writes "1 sample" or "2 samples".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// destinations summarises each destination with its rules and, for the
// modern ones, the field coverage of its profile.
func (b *planBuilder) destinations() {
	users := func(p Path, name string) []RuleRef {
		out := []RuleRef{}
		for _, r := range b.scope {
			pr := b.views[r.Ref()]
			names, on := pr.Legacy, pr.Mode.Legacy()
			if p == PathModern {
				names, on = pr.Modern, pr.Mode.Modern()
			}
			if on && slices.Contains(names, name) {
				out = append(out, pr.Rule)
			}
		}
		return out
	}
	for _, name := range b.in.Legacy {
		b.plan.Destinations = append(b.plan.Destinations, PlanDestSummary{Name: name, Path: PathLegacy, Rules: users(PathLegacy, name)})
	}
	for i := range b.in.Modern {
		d := &b.in.Modern[i]
		sum := PlanDestSummary{
			Name: d.Name, Path: PathModern, Profile: d.Profile, Stream: d.Stream, Table: d.Table,
			Rules: users(PathModern, d.Name),
		}
		columns := map[string][]string{}
		for _, fc := range d.Coverage {
			columns[fc.Field] = fc.Columns
		}
		var dropped []string
		for _, f := range alertFields {
			fc := FieldCoverage{Field: f.Name, Columns: columns[f.Name]}
			if fc.Columns == nil {
				fc.Columns = []string{}
			}
			for _, a := range b.routed {
				if len(f.Values(a)) > 0 {
					fc.Present++
				} else {
					fc.Missing++
				}
			}
			if len(fc.Columns) == 0 {
				what := f.Name
				if fc.Present > 0 {
					what += " (in " + plural(fc.Present, "sample") + ")"
				}
				dropped = append(dropped, what)
			}
			sum.Coverage = append(sum.Coverage, fc)
		}
		if len(dropped) > 0 {
			b.add(Finding{
				Code: CodeUnmappedFields, Severity: FindingInfo, Destination: d.Name,
				Message: fmt.Sprintf("profile %s drops %d alert fields: %s", d.Profile, len(dropped), strings.Join(dropped, ", ")),
				Fix:     "nothing, if the legacy rows never had them either; otherwise use commonsecuritylog-enriched or custom-table",
			})
		}
		b.plan.Destinations = append(b.plan.Destinations, sum)
	}
}

// tls judges every certificate and key the inventory and config name.
func (b *planBuilder) tls() {
	for _, m := range b.in.TLS {
		f := Finding{Rule: m.Rule, Action: m.Action, Field: m.Field, Where: m.Where}
		switch {
		case m.Err != "":
			f.Code, f.Severity = CodeTLSMaterialUnreadable, FindingBlocker
			f.Message = m.Err
			f.Fix = "make the file readable as the message says: until then the report cannot judge its expiry or key, and material a sensor cannot use makes it forward nothing"
		case m.KeyMismatch:
			f.Code, f.Severity = CodeTLSKeyMismatch, FindingBlocker
			f.Message = fmt.Sprintf("the key %s does not belong to the certificate %s (%s)", m.KeyFile, m.CertFile, m.Subject)
			f.Fix = "pair the certificate with the key it was issued for; a TLS handshake with these fails and the sensor forwards nothing"
		case !m.NotAfter.IsZero() && !m.NotAfter.After(b.in.Now):
			f.Code, f.Severity = CodeTLSCertificateExpired, FindingBlocker
			f.Message = fmt.Sprintf("the certificate %s (%s) expired on %s", m.CertFile, m.Subject, m.NotAfter.UTC().Format(time.DateOnly))
			f.Fix = "issue a new certificate and upload it where the old one is used; with validation on, the sensor forwards nothing and says nothing"
		case !m.NotAfter.IsZero() && m.NotAfter.Before(b.in.Now.Add(b.in.ExpiryHorizon)):
			f.Code, f.Severity = CodeTLSCertificateExpiring, FindingWarning
			days := int(m.NotAfter.Sub(b.in.Now).Hours() / 24)
			f.Message = fmt.Sprintf("the certificate %s (%s) expires on %s, in %d days", m.CertFile, m.Subject, m.NotAfter.UTC().Format(time.DateOnly), days)
			f.Fix = "renew it before the cutover, and upload the new one wherever the old one is used"
		default:
			continue
		}
		b.add(f)
	}
}

// finish sorts the findings and counts them.
func (b *planBuilder) finish() {
	p := b.plan
	pos := func(f *Finding) int {
		if f.Rule == nil {
			return len(b.order)
		}
		if i, ok := b.order[*f.Rule]; ok {
			return i
		}
		return len(b.order)
	}
	slices.SortStableFunc(p.Findings, func(x, y Finding) int {
		return cmp.Or(
			cmp.Compare(x.Severity.rank(), y.Severity.rank()),
			cmp.Compare(pos(&x), pos(&y)),
			cmp.Compare(x.Action, y.Action),
			cmp.Compare(x.Code, y.Code),
			cmp.Compare(x.Field, y.Field),
			cmp.Compare(x.Destination, y.Destination),
		)
	})

	s := &p.Summary
	s.Modes = map[Mode]int{}
	s.Codes = map[string]int{}
	s.Appliances = len(p.Appliances)
	for _, f := range p.Findings {
		s.Codes[f.Code]++
		switch f.Severity {
		case FindingBlocker:
			s.Blockers++
		case FindingWarning:
			s.Warnings++
		default:
			s.Infos++
		}
		if f.Rule != nil {
			if pr := b.views[*f.Rule]; pr != nil {
				switch f.Severity {
				case FindingBlocker:
					pr.Blockers++
				case FindingWarning:
					pr.Warnings++
				}
			}
		}
	}
	for _, a := range p.Appliances {
		s.Rules += len(a.Rules)
		for _, r := range a.Rules {
			if r.Routed {
				s.Routed++
				s.Modes[r.Mode]++
			}
		}
	}
}

// HasBlockers reports whether the plan found anything that stops the
// migration as configured.
func (p *Plan) HasBlockers() bool { return p.Summary.Blockers > 0 }
