package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/otbridge/otbridge/bridge"
)

// TextOptions configure Text.
type TextOptions struct {
	// Color adds ANSI colours: blockers red, warnings yellow, info dim.
	// The caller turns it on only when it writes to a terminal (and the
	// user has not asked for NO_COLOR).
	Color bool
	// Width is the longest line, in columns; if zero, 100. It is at least
	// 90. Only a preview line of a JSON row is cut to fit, ending in "…";
	// everything else wraps.
	Width int
}

// DefaultTextWidth is the line length of the text report when
// TextOptions.Width is zero.
const DefaultTextWidth = 100

// minTextWidth is the narrowest text report.
const minTextWidth = 90

// labelWidth is the width of the labels of the report's header and of a
// rule's details.
const labelWidth = 11

// Text writes the plan for a terminal: a header with the inputs and the
// counts, the findings worst first, each appliance's rules with their
// paths and actions, each destination's field coverage, and the previews
// of the rows the modern path would send.
func Text(w io.Writer, p *bridge.Plan, opts TextOptions) error {
	if p == nil {
		return errNilPlan
	}
	o := &textOut{color: opts.Color, width: opts.Width}
	if o.width == 0 {
		o.width = DefaultTextWidth
	}
	o.width = max(o.width, minTextWidth)

	textHeader(o, p)
	textFindings(o, p)
	for i := range p.Appliances {
		textAppliance(o, p, &p.Appliances[i])
	}
	for i := range p.Destinations {
		textDestination(o, p, &p.Destinations[i])
	}
	textPreviews(o, p)

	return write(w, "text", o.b.Bytes())
}

// severityStyle is the ANSI style of a severity.
func severityStyle(s bridge.FindingSeverity) string {
	switch s {
	case bridge.FindingBlocker:
		return ansiRed
	case bridge.FindingWarning:
		return ansiYellow
	}
	return ansiDim
}

// counts writes the findings' counts, blockers and warnings in their
// colours when there are any.
func (o *textOut) counts(s *bridge.PlanSummary) string {
	b := plural(s.Blockers, "blocker")
	if s.Blockers > 0 {
		b = o.style(ansiRed, b)
	}
	w := plural(s.Warnings, "warning")
	if s.Warnings > 0 {
		w = o.style(ansiYellow, w)
	}
	return b + ", " + w + ", " + o.style(ansiDim, fmt.Sprintf("%d info", s.Infos))
}

func textHeader(o *textOut, p *bridge.Plan) {
	o.line(o.style(ansiBold, "otbridge migration plan") + fmt.Sprintf(" (report schema %d)", p.SchemaVersion))
	o.line("")
	field := func(label, value string) { o.field("", label, labelWidth, clean(value)) }
	field("generated", timeText(p.GeneratedAt))
	if p.Sources.Config != "" {
		field("config", p.Sources.Config)
	}
	if len(p.Sources.Inventory) > 0 {
		field("inventory", strings.Join(p.Sources.Inventory, ", "))
	}
	if len(p.Sources.Alerts) > 0 {
		field("alerts", strings.Join(p.Sources.Alerts, ", "))
	}
	field("scope", scope(&p.Summary))
	o.field("", "findings", labelWidth, o.counts(&p.Summary))
	field("samples", samples(&p.Samples))
	field("undecided", undecided(p.Undecided))
	field("expiry", horizon(p.Horizon))
	o.line("")
}

func textFindings(o *textOut, p *bridge.Plan) {
	o.line(o.style(ansiBold, "FINDINGS"))
	o.line("")
	if len(p.Findings) == 0 {
		o.line("  none")
		o.line("")
		return
	}
	const indent = "         " // as wide as "BLOCKER  "
	for i := range p.Findings {
		f := &p.Findings[i]
		label := strings.ToUpper(string(f.Severity))
		first := pad(o.style(severityStyle(f.Severity), label), len(indent))
		about := f.Code + " · " + subject(f)
		if f.Where != "" {
			about += " (" + f.Where + ")"
		}
		o.para(first, indent, clean(about))
		o.para(indent, indent, clean(f.Message))
		o.para(indent+"fix: ", indent+"     ", clean(f.Fix))
		o.line("")
	}
}

// kind is an appliance kind as the report says it.
func kind(k bridge.ApplianceKind) string {
	if k == bridge.ApplianceConsole {
		return "management console"
	}
	return string(k)
}

func textAppliance(o *textOut, p *bridge.Plan, a *bridge.PlanAppliance) {
	title := "APPLIANCE " + clean(a.Name)
	about := kind(a.Kind)
	if a.Version != "" {
		about += ", version " + clean(a.Version)
	}
	about += ", " + plural(len(a.Rules), "rule")
	o.para(o.style(ansiBold, title)+" · ", "  ", about)
	o.line("")
	if len(a.Rules) == 0 {
		o.line("  no forwarding rules")
		o.line("")
		return
	}

	cols := []column{
		{title: "RULE", shrink: 10},
		{title: "LEVEL"},
		{title: "PROTOCOLS", shrink: 9},
		{title: "ENGINES", shrink: 9},
		{title: "MODE", shrink: 6},
		{title: "SAMPLES", right: true},
		{title: "ALERTS/DAY", right: true},
		{title: "BYTES/DAY", right: true},
	}
	rows := make([][]string, len(a.Rules))
	for i := range a.Rules {
		r := &a.Rules[i]
		rows[i] = []string{
			clean(r.Rule.Rule), clean(level(r)), clean(anyOf(r.Protocols)), clean(anyOf(r.Engines)),
			mode(r), samplesCell(p, r), alertsPerDay(r), bytesPerDay(r),
		}
	}
	o.table("  ", cols, rows)
	if p.Samples.Count > 0 {
		o.para("  ", "  ", o.style(ansiDim, "samples: matched/selected by the rule's filters; bytes: modern request bodies, compressed"))
	}
	o.line("")

	for i := range a.Rules {
		textRule(o, p, &a.Rules[i])
	}
}

func textRule(o *textOut, p *bridge.Plan, r *bridge.PlanRule) {
	head := clean(r.Rule.Rule)
	if c := ruleCounts(r); c != "" {
		style := ansiYellow
		if r.Blockers > 0 {
			style = ansiRed
		}
		head += ": " + o.style(style, c)
	}
	o.para("  "+o.style(ansiBold, "▸")+" ", "    ", head)
	field := func(label, value string) { o.field("    ", label, labelWidth, clean(value)) }
	field("current", r.Current)
	field("proposed", r.Planned)
	if r.Routed && p.Samples.Count > 0 {
		s := sampleCounts(r)
		if len(r.SampleRefs) > 0 {
			s += ": " + strings.Join(r.SampleRefs, ", ")
			if r.Selected > len(r.SampleRefs) {
				s += ", …"
			}
		}
		field("samples", s)
	}
	if r.PerDay != nil {
		field("per day", perDay(r))
	}
	if len(r.Actions) == 0 {
		field("actions", "none")
	}
	for i := range r.Actions {
		a := &r.Actions[i]
		about := actionTitle(a) + ", " + encryption(a)
		if a.Retired != "" {
			about += ", retired " + a.Retired
		}
		label := fmt.Sprintf("action %d", a.Index)
		field(label, about)
		rest := "    " + strings.Repeat(" ", labelWidth)
		o.para(rest+"current:  ", rest+"          ", clean(a.Current))
		o.para(rest+"proposed: ", rest+"          ", clean(a.Planned))
	}
	o.line("")
}

func textDestination(o *textOut, p *bridge.Plan, d *bridge.PlanDestSummary) {
	about := string(d.Path)
	if d.Profile != "" {
		about += ", profile " + clean(d.Profile)
	}
	if d.Stream != "" {
		about += ", stream " + clean(d.Stream)
	}
	if d.Table != "" {
		about += ", table " + clean(d.Table)
	}
	o.para(o.style(ansiBold, "DESTINATION "+clean(d.Name))+" · ", "  ", about)
	o.line("")
	o.field("  ", "rules", labelWidth, clean(rulesText(d.Rules)))
	o.line("")
	if len(d.Coverage) == 0 {
		return
	}

	cols := []column{{title: "FIELD"}, {title: "COLUMNS", shrink: 12}}
	withCounts := p.Samples.Count > 0
	if withCounts {
		cols = append(cols, column{title: "PRESENT", right: true}, column{title: "MISSING", right: true})
	}
	rows := make([][]string, len(d.Coverage))
	for i, c := range d.Coverage {
		columns := strings.Join(c.Columns, ", ")
		if len(c.Columns) == 0 {
			columns = "— dropped"
		}
		rows[i] = []string{clean(c.Field), clean(columns)}
		if withCounts {
			rows[i] = append(rows[i], fmt.Sprint(c.Present), fmt.Sprint(c.Missing))
		}
	}
	o.table("  ", cols, rows)
	if withCounts {
		o.para("  ", "  ", o.style(ansiDim, "present/missing: the sample alerts selected by a routed rule that have the field or lack it"))
	}
	o.line("")
}

// rulesText lists the rules sending to a destination.
func rulesText(rules []bridge.RuleRef) string {
	if len(rules) == 0 {
		return "none in their proposed mode"
	}
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.String()
	}
	return strings.Join(names, ", ")
}

func textPreviews(o *textOut, p *bridge.Plan) {
	o.line(o.style(ansiBold, "ROW PREVIEWS"))
	o.line("")
	shown, cutAny := false, false
	for _, a := range p.Appliances {
		for _, r := range a.Rules {
			for _, pv := range r.Previews {
				shown = true
				o.para("  "+o.style(ansiBold, "▸")+" ", "    ", clean(r.Rule.String()+" → "+pv.Destination+", sample "+pv.Sample))
				for _, l := range prettyRow(pv.Row) {
					l, c := cut("    "+l, o.width)
					cutAny = cutAny || c
					o.line(l)
				}
				o.line("")
			}
		}
	}
	if !shown {
		o.para("  ", "  ", "none: no sample alert was selected by a rule with a modern destination to map it")
		o.line("")
		return
	}
	if cutAny {
		o.para("  ", "  ", o.style(ansiDim, "Lines ending in … are cut to fit; the JSON and HTML reports show whole rows."))
		o.line("")
	}
}

// prettyRow indents a row's JSON (or keeps it as is if it is not JSON)
// and returns its lines, made safe to print with clean.
func prettyRow(row json.RawMessage) []string {
	var b bytes.Buffer
	text := string(row)
	if err := json.Indent(&b, row, "", "  "); err == nil {
		text = b.String()
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return lines
}
