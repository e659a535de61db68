package cef

import (
	"strings"
	"time"

	"github.com/otbridge/otbridge/legacy/syslog"
)

// StartLayout is the layout the encoder writes the Defender for IoT "start"
// extension in: the CEF standard's "MMM dd yyyy HH:mm:ss", in the action's
// timezone. Sensors document start as the detection time in the rule's
// timezone, which only a local time can express; the CEF standard layouts
// are what ArcSight, the Azure Monitor Agent and this decoder read. Seconds
// are the precision: milliseconds are dropped.
const StartLayout = "Jan 02 2006 15:04:05"

// ParseTime reads a CEF time value in any of the forms senders use, since
// Defender for IoT does not document the form of "start": milliseconds since
// the epoch; the CEF standard dates "MMM dd yyyy HH:mm:ss[.SSS][ zzz]" and
// "MMM dd HH:mm:ss[.SSS][ zzz]"; RFC 3339; and ISO 8601 without a zone. A
// time without a zone is read in loc (nil means UTC) and one without a year
// gets the year nearest to now() (nil means time.Now). The zone of the CEF
// dates may be UTC, GMT, Z, an offset ("+01:00", "GMT+01:00") or the
// abbreviation loc uses at that time ("CET" for Europe/Paris in winter);
// other abbreviations are ambiguous and refused. The result is in loc.
// ParseTime does not allocate.
func ParseTime(s string, loc *time.Location, now func() time.Time) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}

	if isDigit(s[0]) {
		if ms, ok := epochMillis(s); ok {
			return time.UnixMilli(ms).In(loc), true
		}
		t, ok := syslog.ParseRFC3339(s, loc)
		return t.In(loc), ok
	}

	t, n, ok := syslog.ParseStamp(s, loc, now)
	if !ok {
		return time.Time{}, false
	}
	if n == len(s) {
		return t, true
	}
	if s[n] != ' ' {
		return time.Time{}, false
	}
	zone := s[n+1:]
	if name, _ := t.Zone(); zone == name {
		return t, true
	}
	off, ok := zoneOffset(zone)
	if !ok {
		return time.Time{}, false
	}
	// The clock was read in loc; move it to the stated offset.
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	utc := time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.UTC)
	return utc.Add(-time.Duration(off) * time.Second).In(loc), true
}

// epochMillis reads s as a count of milliseconds since the epoch: 1 to 15
// digits, which covers every date up to the year 33658.
func epochMillis(s string) (int64, bool) {
	if len(s) > 15 {
		return 0, false
	}
	var ms int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		ms = ms*10 + int64(s[i]-'0')
	}
	return ms, true
}

// zoneOffset reads a zone written after a CEF date, "UTC", "GMT", "UT", "Z",
// "+hh:mm", "+hhmm", "+hh" or one of those after "GMT" or "UTC", and returns
// its offset east of UTC in seconds.
func zoneOffset(z string) (int, bool) {
	switch z {
	case "UTC", "GMT", "UT", "Z":
		return 0, true
	}
	if strings.HasPrefix(z, "GMT") || strings.HasPrefix(z, "UTC") {
		z = z[3:]
	}
	if len(z) < 3 || (z[0] != '+' && z[0] != '-') || !isDigit(z[1]) || !isDigit(z[2]) {
		return 0, false
	}
	hh := int(z[1]-'0')*10 + int(z[2]-'0')
	mm := 0
	switch rest := z[3:]; {
	case rest == "":
	case len(rest) == 3 && rest[0] == ':' && isDigit(rest[1]) && isDigit(rest[2]):
		mm = int(rest[1]-'0')*10 + int(rest[2]-'0')
	case len(rest) == 2 && isDigit(rest[0]) && isDigit(rest[1]):
		mm = int(rest[0]-'0')*10 + int(rest[1]-'0')
	default:
		return 0, false
	}
	if hh > 23 || mm > 59 {
		return 0, false
	}
	off := hh*3600 + mm*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}
