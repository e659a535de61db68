// Package report shows a migration plan (bridge.Plan) to people and to
// programs: Text for a terminal, Markdown for a change ticket, JSON in the
// plan's versioned schema, and HTML as one self-contained page with a chart
// of the expected volume per rule.
//
// The renderers are pure formatting: they read the plan, write to the
// writer they are given and nothing else. Each renders the whole report in
// memory first and writes it in one call, so a failed render writes
// nothing. The plan is shown as BuildPlan made it, in its order; the
// renderers never drop a finding, a rule or an action.
package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/otbridge/otbridge/bridge"
)

// errNilPlan is returned by every renderer given no plan.
var errNilPlan = errors.New("render plan: no plan")

// write writes a rendered report in one call.
func write(w io.Writer, format string, report []byte) error {
	if _, err := w.Write(report); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

// subject says what a finding concerns: its rule and action, destination
// and config or inventory setting, without where it is written.
func subject(f *bridge.Finding) string {
	var parts []string
	if f.Rule != nil {
		s := "rule " + f.Rule.String()
		if f.Action > 0 {
			s += fmt.Sprintf(", action %d", f.Action)
		}
		parts = append(parts, s)
	}
	if f.Destination != "" {
		parts = append(parts, "destination "+f.Destination)
	}
	if f.Field != "" {
		parts = append(parts, "setting "+f.Field)
	}
	if len(parts) == 0 {
		return "the configuration"
	}
	return strings.Join(parts, ", ")
}

// ruleCounts is "1 blocker, 2 warnings", leaving out what is zero.
func ruleCounts(r *bridge.PlanRule) string {
	var parts []string
	if r.Blockers > 0 {
		parts = append(parts, plural(r.Blockers, "blocker"))
	}
	if r.Warnings > 0 {
		parts = append(parts, plural(r.Warnings, "warning"))
	}
	return strings.Join(parts, ", ")
}

// capitalize puts the first letter of s in upper case.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// level is a rule's minimal alert level as the sensor UI shows it.
func level(r *bridge.PlanRule) string {
	if r.MinLevel == "" {
		return "any"
	}
	return r.MinLevel
}

// anyOf lists a filter's values, "any" for an empty filter.
func anyOf(values []string) string {
	if len(values) == 0 {
		return "any"
	}
	return strings.Join(values, ", ")
}

// mode is a rule's mode, or says that otbridge does not route it.
func mode(r *bridge.PlanRule) string {
	if !r.Routed {
		return "not routed"
	}
	return string(r.Mode)
}

// samplesCell is "matched/selected", or a dash without sample alerts.
func samplesCell(p *bridge.Plan, r *bridge.PlanRule) string {
	if p.Samples.Count == 0 || !r.Routed {
		return "—"
	}
	return fmt.Sprintf("%d/%d", r.Matched, r.Selected)
}

// alertsPerDay is the rule's estimated alerts per day, or a dash.
func alertsPerDay(r *bridge.PlanRule) string {
	if r.PerDay == nil {
		return "—"
	}
	return rate(r.PerDay.Alerts)
}

// bytesPerDay is the rule's estimated compressed bytes per day, or a dash
// when there is no estimate in bytes.
func bytesPerDay(r *bridge.PlanRule) string {
	if r.PerDay == nil || (r.PerDay.Compressed == 0 && r.PerDay.Bytes == 0) {
		return "—"
	}
	return byteSize(r.PerDay.Compressed)
}

// rate writes a per-day figure with the precision it deserves.
func rate(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return thousands(strconv.FormatFloat(v, 'f', 0, 64))
}

// thousands separates the thousands of an integer written in digits.
func thousands(digits string) string {
	if len(digits) <= 4 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// byteSize writes a number of bytes in decimal units, as Azure bills them.
func byteSize(n float64) string {
	units := []string{"kB", "MB", "GB", "TB"}
	if n < 1000 {
		return strconv.FormatFloat(n, 'f', 0, 64) + " B"
	}
	unit := ""
	for _, u := range units {
		n /= 1000
		unit = u
		if n < 1000 {
			break
		}
	}
	return strconv.FormatFloat(n, 'f', 1, 64) + " " + unit
}

// plural writes a count with its noun.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// modes lists the routed rules per mode, in migration order.
func modes(s *bridge.PlanSummary) string {
	var parts []string
	for _, m := range bridge.Modes {
		if n := s.Modes[m]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, m))
		}
	}
	return strings.Join(parts, ", ")
}

// scope summarises the appliances and rules the report covers.
func scope(s *bridge.PlanSummary) string {
	out := fmt.Sprintf("%s, %s, %d routed by otbridge", plural(s.Appliances, "appliance"), plural(s.Rules, "rule"), s.Routed)
	if m := modes(s); m != "" {
		out += " (" + m + ")"
	}
	return out
}

// findingCounts is "1 blocker, 2 warnings, 0 info".
func findingCounts(s *bridge.PlanSummary) string {
	return fmt.Sprintf("%s, %s, %d info", plural(s.Blockers, "blocker"), plural(s.Warnings, "warning"), s.Infos)
}

// timeText writes a time of the report, in UTC.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// samples describes the sample alerts and the span they cover.
func samples(s *bridge.PlanSampleSummary) string {
	if s.Count == 0 {
		return "no sample alerts: no matches, previews or volume estimates"
	}
	out := fmt.Sprintf("%s, %d selected by a routed rule", plural(s.Count, "alert"), s.Routed)
	if s.First.IsZero() {
		return out + "; none has a detection time, so no volume estimates"
	}
	out += fmt.Sprintf(", detected %s to %s", s.First.UTC().Format("2006-01-02 15:04"), s.Last.UTC().Format("2006-01-02 15:04 UTC"))
	if s.Days <= 0 {
		return out + "; too short a span for volume estimates"
	}
	return out + fmt.Sprintf(" (%s days)", strconv.FormatFloat(s.Days, 'f', 1, 64))
}

// undecided says what the policy does with alerts a filter cannot judge.
func undecided(p bridge.UndecidedPolicy) string {
	switch p {
	case bridge.UndecidedExclude:
		return "exclude: alerts a filter cannot judge are not forwarded"
	case bridge.UndecidedInclude:
		return "include: alerts a filter cannot judge are forwarded"
	}
	return string(p)
}

// horizon says how soon a certificate expiry is reported.
func horizon(d bridge.JSONDuration) string {
	td := time.Duration(d)
	day := 24 * time.Hour
	if td > 0 && td%day == 0 {
		return "certificates expiring within " + plural(int(td/day), "day") + " are reported"
	}
	return "certificates expiring within " + td.String() + " are reported"
}

// perDay describes a rule's daily volume in full.
func perDay(r *bridge.PlanRule) string {
	v := r.PerDay
	if v == nil {
		return ""
	}
	out := rate(v.Alerts) + " alerts"
	if v.Bytes > 0 || v.Compressed > 0 {
		out += fmt.Sprintf(", %s of rows, %s compressed in %s requests", byteSize(v.Bytes), byteSize(v.Compressed), rate(v.Requests))
		if r.EstimatedWith != "" {
			out += " (rows of " + r.EstimatedWith + ")"
		}
	}
	return out
}

// sampleCounts describes what a rule's filters made of the samples.
func sampleCounts(r *bridge.PlanRule) string {
	return fmt.Sprintf("%d matched, %d undecided, %d selected", r.Matched, r.Undecided, r.Selected)
}

// encryption says whether an action encrypts.
func encryption(a *bridge.PlanAction) string {
	if a.Encrypted {
		return "encrypted"
	}
	return "not encrypted"
}

// actionTitle is an action's label and target.
func actionTitle(a *bridge.PlanAction) string {
	s := a.Label
	if s == "" {
		s = string(a.Type)
	}
	if a.Target != "" {
		s += " " + a.Target
	}
	return s
}

// clean makes a value safe to print as text: control characters, which
// could move a terminal's cursor or break a Markdown table, and the
// characters that reorder text on screen are shown as escapes; line
// breaks and tabs become spaces, and bytes that are not UTF-8 the
// replacement character.
func clean(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r == utf8.RuneError:
			b.WriteRune(r) // an invalid byte, such as a raw 8-bit CSI, replaced
		case unsafeRune(r):
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports whether clean escapes r.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == utf8.RuneError:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
		return true
	}
	return false
}
