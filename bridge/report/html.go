package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/otbridge/otbridge/bridge"
)

// htmlSource is the page's template. It is html/template, so every value
// from the plan is escaped for where it lands (text, attribute, SVG).
//
//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"level":        func(r bridge.PlanRule) string { return level(&r) },
	"anyOf":        anyOf,
	"mode":         func(r bridge.PlanRule) string { return mode(&r) },
	"samplesCell":  func(p *bridge.Plan, r bridge.PlanRule) string { return samplesCell(p, &r) },
	"alertsPerDay": func(r bridge.PlanRule) string { return alertsPerDay(&r) },
	"bytesPerDay":  func(r bridge.PlanRule) string { return bytesPerDay(&r) },
	"perDay":       func(r bridge.PlanRule) string { return perDay(&r) },
	"sampleCounts": func(r bridge.PlanRule) string { return sampleCounts(&r) },
	"encryption":   func(a bridge.PlanAction) string { return encryption(&a) },
	"actionTitle":  func(a bridge.PlanAction) string { return actionTitle(&a) },
	"kind":         kind,
	"rulesText":    rulesText,
	"timeText":     timeText,
	"scope":        func(s bridge.PlanSummary) string { return scope(&s) },
	"samples":      func(s bridge.PlanSampleSummary) string { return samples(&s) },
	"undecided":    undecided,
	"horizon":      horizon,
	"modes":        func(s bridge.PlanSummary) string { return modes(&s) },
	"plural":       plural,
	"join":         strings.Join,
	"prettyRow":    func(pv bridge.RowPreview) string { return strings.Join(prettyRow(pv.Row), "\n") },
	"clean":        clean,
}).Parse(htmlSource))

// HTML writes the plan as one self-contained HTML page: inline CSS, an
// inline SVG chart of the expected volume per rule, and no script, font,
// image or link that fetches anything (a Content-Security-Policy forbids
// it too). It reads well on screen and on paper: the print styles drop
// the backgrounds and keep a rule's rows on one page.
func HTML(w io.Writer, p *bridge.Plan) error {
	if p == nil {
		return errNilPlan
	}
	page := htmlPage{Plan: p, Chart: newChart(p)}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, page); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return write(w, "html", b.Bytes())
}

// htmlPage is what the template renders.
type htmlPage struct {
	Plan  *bridge.Plan
	Chart chart
}

// The geometry of the volume chart, in SVG user units: a column of rule
// labels, then one panel of bars for alerts per day and one for
// compressed bytes per day.
const (
	chartWidth     = 960
	chartLabelEnd  = 272 // labels end here, right-aligned
	chartAlertsX   = 290
	chartBytesX    = 630
	chartBarMax    = 250
	chartTop       = 34
	chartRowHeight = 24
	chartBar       = 16
	chartMaxRules  = 40
	chartLabelRune = 40
)

// chart is the volume chart: one row per rule with an estimate, the
// busiest first, at most chartMaxRules.
type chart struct {
	Rows []chartRow
	// Omitted counts the rules with an estimate that did not fit.
	Omitted int
	// Empty says why there is no chart, when Rows is empty.
	Empty string
	// Width and Height size the SVG; the X fields place the panels.
	Width, Height, LabelEnd, AlertsX, BytesX, Bar int
	// HasBytes: some rule has a byte estimate.
	HasBytes bool
}

// chartRow is one rule's bars.
type chartRow struct {
	Label, Title        string
	Y, BarY, TextY      int
	AlertsW, BytesW     string
	Alerts, Bytes       string
	AlertsEnd, BytesEnd string
}

func newChart(p *bridge.Plan) chart {
	c := chart{Width: chartWidth, LabelEnd: chartLabelEnd, AlertsX: chartAlertsX, BytesX: chartBytesX, Bar: chartBar}
	var rules []bridge.PlanRule
	for _, a := range p.Appliances {
		for _, r := range a.Rules {
			if r.PerDay != nil {
				rules = append(rules, r)
			}
		}
	}
	if len(rules) == 0 {
		c.Empty = chartEmpty(p)
		return c
	}
	slices.SortStableFunc(rules, func(x, y bridge.PlanRule) int {
		switch {
		case x.PerDay.Alerts > y.PerDay.Alerts:
			return -1
		case x.PerDay.Alerts < y.PerDay.Alerts:
			return 1
		}
		return 0
	})
	if len(rules) > chartMaxRules {
		c.Omitted = len(rules) - chartMaxRules
		rules = rules[:chartMaxRules]
	}

	var maxAlerts, maxBytes float64
	for _, r := range rules {
		maxAlerts = max(maxAlerts, r.PerDay.Alerts)
		maxBytes = max(maxBytes, r.PerDay.Compressed)
	}
	c.HasBytes = maxBytes > 0
	scale := func(v, top float64) float64 {
		if top <= 0 {
			return 0
		}
		return v / top * chartBarMax
	}
	for i, r := range rules {
		full := clean(r.Rule.String())
		label, _ := cut(full, chartLabelRune)
		y := chartTop + i*chartRowHeight
		aw, bw := scale(r.PerDay.Alerts, maxAlerts), scale(r.PerDay.Compressed, maxBytes)
		c.Rows = append(c.Rows, chartRow{
			Label: label, Title: full,
			Y: y, BarY: y + (chartRowHeight-chartBar)/2, TextY: y + chartRowHeight/2 + 4,
			AlertsW: svgNumber(aw), BytesW: svgNumber(bw),
			AlertsEnd: svgNumber(chartAlertsX + aw + 6), BytesEnd: svgNumber(chartBytesX + bw + 6),
			Alerts: rate(r.PerDay.Alerts), Bytes: bytesPerDay(&r),
		})
	}
	c.Height = chartTop + len(c.Rows)*chartRowHeight + 8
	return c
}

// chartEmpty says why no rule has a volume estimate.
func chartEmpty(p *bridge.Plan) string {
	switch s := p.Samples; {
	case s.Count == 0:
		return "No volume estimate: there were no sample alerts to estimate from."
	case s.First.IsZero() || s.Days <= 0:
		return "No volume estimate: the sample alerts span too short a time (or have no detection time) to estimate a daily volume from."
	}
	return "No volume estimate: no routed rule selected any of the sample alerts."
}

// svgNumber writes a coordinate with one decimal.
func svgNumber(v float64) string {
	return strconv.FormatFloat(v, 'f', 1, 64)
}
