package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/otbridge/otbridge/bridge"
)

// Markdown writes the plan as GitHub-flavoured Markdown for a change
// ticket: the same content as Text, with headings per appliance and
// destination, tables, the findings as a list with their codes in code
// spans, and the row previews in fenced JSON blocks. Every value from the
// plan is escaped, so a rule named "a | b" or "<script>" shows as written.
func Markdown(w io.Writer, p *bridge.Plan) error {
	if p == nil {
		return errNilPlan
	}
	var b bytes.Buffer
	mdHeader(&b, p)
	mdFindings(&b, p)
	for i := range p.Appliances {
		mdAppliance(&b, p, &p.Appliances[i])
	}
	for i := range p.Destinations {
		mdDestination(&b, p, &p.Destinations[i])
	}
	mdPreviews(&b, p)
	return write(w, "markdown", b.Bytes())
}

// mdSpecial are the characters mdText escapes: those that start emphasis,
// code, links, HTML, entities, strikethrough and table cells.
const mdSpecial = "\\`*_[]<>|&~#"

// mdText escapes a value for Markdown text, a table cell included.
func mdText(s string) string {
	s = clean(s)
	if !strings.ContainsAny(s, mdSpecial) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(mdSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdLine escapes a value that starts a line, where a leading "-", "+",
// "=" or "1." would start a list or a heading.
func mdLine(s string) string {
	s = mdText(s)
	if s == "" {
		return s
	}
	switch s[0] {
	case '-', '+', '=':
		return "\\" + s
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') {
		return s[:i] + "\\" + s[i:]
	}
	return s
}

// mdSubject is subject with the setting in a code span.
func mdSubject(f *bridge.Finding) string {
	if f.Field == "" {
		return mdText(subject(f))
	}
	g := *f
	g.Field = ""
	s := "setting " + mdCode(f.Field, false)
	if g.Rule != nil || g.Destination != "" {
		s = mdText(subject(&g)) + ", " + s
	}
	return s
}

// mdCode writes a value as a code span, with a fence longer than any run
// of backticks in it. In a table cell, a "|" is escaped, which GitHub
// removes again inside the span.
func mdCode(s string, cell bool) string {
	s = clean(s)
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return fence + s + fence
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// mdCodes writes values as code spans separated by commas.
func mdCodes(values []string, cell bool) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = mdCode(v, cell)
	}
	return strings.Join(out, ", ")
}

// mdTable writes a table; align holds "---" or "---:" per column. The
// cells must be escaped already.
func mdTable(b *bytes.Buffer, header, align []string, rows [][]string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("| " + strings.Join(align, " | ") + " |\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func mdHeader(b *bytes.Buffer, p *bridge.Plan) {
	b.WriteString("# otbridge migration plan\n\n")
	fmt.Fprintf(b, "Generated %s, report schema %d.\n\n", timeText(p.GeneratedAt), p.SchemaVersion)
	item := func(label, value string) { fmt.Fprintf(b, "- **%s:** %s\n", label, value) }
	if p.Sources.Config != "" {
		item("Config", mdCode(p.Sources.Config, false))
	}
	if len(p.Sources.Inventory) > 0 {
		item("Inventory", mdCodes(p.Sources.Inventory, false))
	}
	if len(p.Sources.Alerts) > 0 {
		item("Sample alerts", mdCodes(p.Sources.Alerts, false))
	}
	s := &p.Summary
	item("Scope", mdText(scope(s)))
	counts := mdText(findingCounts(s))
	if s.Blockers > 0 {
		counts = "**" + counts + "**"
	}
	item("Findings", counts)
	item("Samples", mdText(samples(&p.Samples)))
	item("Undecided alerts", mdText(undecided(p.Undecided)))
	item("Certificate expiry", mdText(horizon(p.Horizon)))
	b.WriteString("\n")
}

func mdFindings(b *bytes.Buffer, p *bridge.Plan) {
	b.WriteString("## Findings\n\n")
	if len(p.Findings) == 0 {
		b.WriteString("None.\n\n")
		return
	}
	for i := range p.Findings {
		f := &p.Findings[i]
		about := mdSubject(f)
		if f.Where != "" {
			about += " (" + mdCode(f.Where, false) + ")"
		}
		fmt.Fprintf(b, "- **%s** %s, %s\\\n", strings.ToUpper(string(f.Severity)), mdCode(f.Code, false), about)
		fmt.Fprintf(b, "  %s\\\n", mdLine(f.Message))
		fmt.Fprintf(b, "  **Fix:** %s\n", mdText(f.Fix))
	}
	b.WriteString("\n")
}

func mdAppliance(b *bytes.Buffer, p *bridge.Plan, a *bridge.PlanAppliance) {
	fmt.Fprintf(b, "## Appliance %s\n\n", mdText(a.Name))
	about := kind(a.Kind)
	if a.Version != "" {
		about += ", version " + a.Version
	}
	fmt.Fprintf(b, "A %s, with %s.\n\n", mdText(about), plural(len(a.Rules), "rule"))
	if len(a.Rules) == 0 {
		return
	}

	header := []string{"Rule", "Level", "Protocols", "Engines", "Mode", "Current path → proposed path", "Samples", "Alerts/day", "Bytes/day"}
	align := []string{"---", "---", "---", "---", "---", "---", "---:", "---:", "---:"}
	rows := make([][]string, len(a.Rules))
	for i := range a.Rules {
		r := &a.Rules[i]
		rows[i] = []string{
			mdText(r.Rule.Rule), mdText(level(r)), mdText(anyOf(r.Protocols)), mdText(anyOf(r.Engines)),
			mdText(mode(r)), mdText(r.Current) + " → " + mdText(r.Planned),
			samplesCell(p, r), alertsPerDay(r), bytesPerDay(r),
		}
	}
	mdTable(b, header, align, rows)
	if p.Samples.Count > 0 {
		b.WriteString("Samples: matched/selected by the rule's filters. Bytes/day: the modern path's request bodies, compressed.\n\n")
	}

	for i := range a.Rules {
		mdRule(b, p, &a.Rules[i])
	}
}

func mdRule(b *bytes.Buffer, p *bridge.Plan, r *bridge.PlanRule) {
	fmt.Fprintf(b, "### Rule %s / %s\n\n", mdText(r.Rule.Appliance), mdText(r.Rule.Rule))
	var items []string
	if c := ruleCounts(r); c != "" {
		items = append(items, "**Findings:** "+c)
	}
	if r.Routed && p.Samples.Count > 0 {
		s := mdText(sampleCounts(r))
		if len(r.SampleRefs) > 0 {
			s += ": " + mdCodes(r.SampleRefs, false)
			if r.Selected > len(r.SampleRefs) {
				s += ", …"
			}
		}
		items = append(items, "**Samples:** "+s)
	}
	if r.PerDay != nil {
		items = append(items, "**Per day:** "+mdText(perDay(r)))
	}
	for _, it := range items {
		b.WriteString("- " + it + "\n")
	}
	if len(items) > 0 {
		b.WriteString("\n")
	}
	if len(r.Actions) == 0 {
		b.WriteString("No actions.\n\n")
		return
	}

	header := []string{"#", "Action", "Encryption", "Current", "Proposed", "Retired"}
	align := []string{"---:", "---", "---", "---", "---", "---"}
	rows := make([][]string, len(r.Actions))
	for i := range r.Actions {
		a := &r.Actions[i]
		retired := a.Retired
		if retired == "" {
			retired = "—"
		}
		rows[i] = []string{
			fmt.Sprint(a.Index), mdText(actionTitle(a)), encryption(a),
			mdText(a.Current), mdText(a.Planned), mdText(retired),
		}
	}
	mdTable(b, header, align, rows)
}

func mdDestination(b *bytes.Buffer, p *bridge.Plan, d *bridge.PlanDestSummary) {
	fmt.Fprintf(b, "## Destination %s\n\n", mdText(d.Name))
	parts := []string{capitalize(mdText(string(d.Path))) + " path"}
	if d.Profile != "" {
		parts = append(parts, "profile "+mdCode(d.Profile, false))
	}
	if d.Stream != "" {
		parts = append(parts, "stream "+mdCode(d.Stream, false))
	}
	if d.Table != "" {
		parts = append(parts, "table "+mdCode(d.Table, false))
	}
	fmt.Fprintf(b, "%s.\n\n", strings.Join(parts, ", "))
	fmt.Fprintf(b, "Rules: %s.\n\n", mdText(rulesText(d.Rules)))
	if len(d.Coverage) == 0 {
		return
	}

	header := []string{"Field", "Columns"}
	align := []string{"---", "---"}
	withCounts := p.Samples.Count > 0
	if withCounts {
		header = append(header, "Present", "Missing")
		align = append(align, "---:", "---:")
	}
	rows := make([][]string, len(d.Coverage))
	for i, c := range d.Coverage {
		columns := mdCodes(c.Columns, true)
		if len(c.Columns) == 0 {
			columns = "— dropped"
		}
		rows[i] = []string{mdCode(c.Field, true), columns}
		if withCounts {
			rows[i] = append(rows[i], fmt.Sprint(c.Present), fmt.Sprint(c.Missing))
		}
	}
	mdTable(b, header, align, rows)
	if withCounts {
		b.WriteString("Present/missing: the sample alerts selected by a routed rule that have the field or lack it.\n\n")
	}
}

func mdPreviews(b *bytes.Buffer, p *bridge.Plan) {
	b.WriteString("## Row previews\n\n")
	shown := false
	for _, a := range p.Appliances {
		for _, r := range a.Rules {
			for _, pv := range r.Previews {
				shown = true
				fmt.Fprintf(b, "### %s / %s → %s, sample %s\n\n", mdText(r.Rule.Appliance), mdText(r.Rule.Rule), mdText(pv.Destination), mdCode(pv.Sample, false))
				row := strings.Join(prettyRow(pv.Row), "\n")
				fence := strings.Repeat("`", max(3, longestRun(row, '`')+1))
				fmt.Fprintf(b, "%sjson\n%s\n%s\n\n", fence, row, fence)
			}
		}
	}
	if !shown {
		b.WriteString("None: no sample alert was selected by a rule with a modern destination to map it.\n\n")
	}
}
