package syslog

import (
	"strings"
	"sync/atomic"
	"time"
)

// ParseRFC3339 reads an RFC 3339 time as RFC 5424 uses it
// ("2025-03-04T10:22:31.123+01:00"), and the ISO variants senders write
// instead: a lower-case 't' or a space between date and time, any number of
// fraction digits, an offset without colon ("+0100") or hours only ("+01").
// A time without offset is read in loc (nil means UTC). Unlike time.Parse it
// does not allocate for the offsets in use around the world.
func ParseRFC3339(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05") || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	switch s[10] {
	case 'T', 't', ' ':
	default:
		return time.Time{}, false
	}
	year, w := digits(s, 4)
	if w != 4 {
		return time.Time{}, false
	}
	month, okMo := twoDigits(s[5:], 12)
	day, okD := twoDigits(s[8:], 31)
	hour, okH := twoDigits(s[11:], 23)
	min, okM := twoDigits(s[14:], 59)
	sec, okS := twoDigits(s[17:], 60)
	if !okMo || !okD || !okH || !okM || !okS || month < 1 || day < 1 {
		return time.Time{}, false
	}

	i := 19
	nsec := 0
	if i < len(s) && s[i] == '.' {
		var n int
		if nsec, n = fraction(s[i+1:]); n == 0 {
			return time.Time{}, false
		}
		i += 1 + n
	}

	if loc == nil {
		loc = time.UTC
	}
	if i < len(s) {
		off, ok := parseOffset(s[i:])
		if !ok {
			return time.Time{}, false
		}
		loc = fixedZone(off)
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc), true
}

// parseOffset reads "Z", "+hh:mm", "+hhmm" or "+hh" (or with '-') making up
// all of s, and returns the offset east of UTC in seconds.
func parseOffset(s string) (int, bool) {
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	hh, ok := twoDigits(s[1:], 23)
	if !ok {
		return 0, false
	}
	mm := 0
	switch rest := s[3:]; {
	case rest == "":
	case len(rest) == 3 && rest[0] == ':':
		mm, ok = twoDigits(rest[1:], 59)
	case len(rest) == 2:
		mm, ok = twoDigits(rest, 59)
	default:
		ok = false
	}
	if !ok {
		return 0, false
	}
	off := hh*3600 + mm*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// zones caches the fixed zones of offsets on a quarter-hour grid between
// -14:00 and +14:00, which covers every zone in use, so that reading a
// timestamp with an offset allocates once per offset, not once per message.
var zones [14*4*2 + 1]atomic.Pointer[time.Location]

func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	const quarter = 15 * 60
	if off%quarter != 0 || off < -14*3600 || off > 14*3600 {
		return time.FixedZone("", off)
	}
	slot := &zones[off/quarter+14*4]
	if loc := slot.Load(); loc != nil {
		return loc
	}
	loc := time.FixedZone("", off)
	slot.Store(loc)
	return loc
}

// ParseStamp reads a BSD-style time at the start of s, "Mmm d hh:mm:ss" as
// RFC 3164 headers and CEF dates write it: the month in any case, the day
// padded with a space or a zero or not at all, an optional four-digit year
// before the clock and an optional fraction after it. The time is in loc
// (nil means UTC); a time without a year gets the year that puts it nearest
// to now() (nil means time.Now), which is called only then. n is the number
// of bytes read: what follows, such as a zone, is the caller's to check.
func ParseStamp(s string, loc *time.Location, now func() time.Time) (t time.Time, n int, ok bool) {
	st, n, ok := parseStamp(s)
	if !ok {
		return time.Time{}, 0, false
	}
	if loc == nil {
		loc = time.UTC
	}
	if st.year >= 0 {
		return st.time(st.year, loc), n, true
	}
	if now == nil {
		now = time.Now
	}
	return st.nearest(now(), loc), n, true
}

// NearestYear returns t moved to the year that puts it nearest to now,
// keeping its month, day, clock and location. It completes timestamps that
// carry no year, as RFC 3164 ones: a "Dec 31 23:59:59" read just after New
// Year belongs to the year before, a "Jan  1 00:00:01" read just before it
// to the year after. A 29 February moved to a year without one becomes
// 1 March.
func NearestYear(t, now time.Time) time.Time {
	hour, min, sec := t.Clock()
	st := stamp{month: t.Month(), day: t.Day(), hour: hour, min: min, sec: sec, nsec: t.Nanosecond()}
	return st.nearest(now, t.Location())
}

// nearest returns st in loc in the year that puts it nearest to now.
func (st stamp) nearest(now time.Time, loc *time.Location) time.Time {
	const halfYear = 183 * 24 * time.Hour
	y := now.In(loc).Year()
	t := st.time(y, loc)
	switch d := t.Sub(now); {
	case d > halfYear:
		return st.time(y-1, loc)
	case d < -halfYear:
		return st.time(y+1, loc)
	}
	return t
}

// stamp is a BSD or CEF style time as written, before a year and zone are
// chosen. year is -1 when the text has none.
type stamp struct {
	month                time.Month
	day, year            int
	hour, min, sec, nsec int
}

func (st stamp) time(year int, loc *time.Location) time.Time {
	return time.Date(year, st.month, st.day, st.hour, st.min, st.sec, st.nsec, loc)
}

// parseStamp reads "Mmm d[d] [yyyy ]hh:mm:ss[.fff]" at the start of s, with
// the day space-padded ("Mar  4"), zero-padded or bare. It is shared with
// the CEF time formats, which have the same shape.
func parseStamp(s string) (st stamp, n int, ok bool) {
	st.year = -1
	if len(s) < len("Jan 2 15:04:05") || s[3] != ' ' {
		return st, 0, false
	}
	if st.month = monthIndex(s[:3]); st.month == 0 {
		return st, 0, false
	}
	i := 4
	if s[i] == ' ' {
		i++
	}
	d, w := digits(s[i:], 2)
	if w == 0 || d < 1 || d > 31 || i+w >= len(s) || s[i+w] != ' ' {
		return st, 0, false
	}
	st.day = d
	i += w + 1
	if y, w := digits(s[i:], 4); w == 4 && i+4 < len(s) && s[i+4] == ' ' {
		st.year = y
		i += 5
	}
	if len(s)-i < len("15:04:05") || s[i+2] != ':' || s[i+5] != ':' {
		return st, 0, false
	}
	var okH, okM, okS bool
	st.hour, okH = twoDigits(s[i:], 23)
	st.min, okM = twoDigits(s[i+3:], 59)
	st.sec, okS = twoDigits(s[i+6:], 60)
	if !okH || !okM || !okS {
		return st, 0, false
	}
	i += 8
	if i < len(s) && s[i] == '.' {
		ns, w := fraction(s[i+1:])
		if w == 0 {
			return st, 0, false
		}
		st.nsec = ns
		i += 1 + w
	}
	return st, i, true
}

// monthIndex returns the month of a three-letter English abbreviation in any
// case, or 0.
func monthIndex(s string) time.Month {
	if len(s) != 3 {
		return 0
	}
	// Fold the three ASCII letters to lower case and compare them as one
	// number, which allocates nothing.
	k := uint32(s[0]|0x20)<<16 | uint32(s[1]|0x20)<<8 | uint32(s[2]|0x20)
	for i, m := range monthKeys {
		if m == k {
			return time.Month(i + 1)
		}
	}
	return 0
}

var monthKeys = func() (keys [12]uint32) {
	for i := range keys {
		name := strings.ToLower(time.Month(i + 1).String()[:3])
		keys[i] = uint32(name[0])<<16 | uint32(name[1])<<8 | uint32(name[2])
	}
	return keys
}()

// digits reads up to max decimal digits at the start of s and returns their
// value and count.
func digits(s string, max int) (v, n int) {
	for n < len(s) && n < max && s[n] >= '0' && s[n] <= '9' {
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}

// twoDigits reads exactly two digits at the start of s, at most max.
func twoDigits(s string, max int) (int, bool) {
	v, n := digits(s, 2)
	return v, n == 2 && v <= max
}

// fraction reads the digits of a decimal fraction as nanoseconds; digits
// past the ninth are read and dropped.
func fraction(s string) (nsec, n int) {
	scale := 100000000
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		nsec += int(s[n]-'0') * scale
		scale /= 10
		n++
	}
	return nsec, n
}
