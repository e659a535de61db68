package leef

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GoLayout converts a Java SimpleDateFormat pattern, the notation of the
// LEEF devTimeFormat attribute ("MMM dd yyyy HH:mm:ss"), into a Go time
// layout ("Jan 02 2006 15:04:05").
//
// Supported letters: y (yy is a two-digit year, any other count four
// digits), M and L (1, 01, Jan, January), d, D (DDD only), E (Mon, Monday),
// a, H, h, m, s, S (only directly after seconds and a "." or ","), z (zone
// abbreviation), Z (-0700) and X (Z07, Z0700, Z07:00). Text in single quotes
// is literal and "”" is a quote. Other pattern letters (era, week, k, K,
// ...) are refused, and so is literal text that Go would read as part of a
// layout, such as a digit: Go layouts have no quoting.
func GoLayout(pattern string) (string, error) {
	var segs []layoutSeg
	literal := func(s string) {
		if n := len(segs); n > 0 && !segs[n-1].token {
			segs[n-1].text += s
			return
		}
		segs = append(segs, layoutSeg{text: s})
	}

	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			end := i + 1
			var b strings.Builder
			for {
				j := strings.IndexByte(pattern[end:], '\'')
				if j < 0 {
					return "", fmt.Errorf("time pattern %q has an unterminated quote", pattern)
				}
				b.WriteString(pattern[end : end+j])
				end += j + 1
				if end < len(pattern) && pattern[end] == '\'' {
					b.WriteByte('\'') // a doubled quote inside quotes
					end++
					continue
				}
				break
			}
			if end == i+2 {
				literal("'") // '' outside quotes
			} else {
				literal(b.String())
			}
			i = end

		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			if c == 'S' {
				// Go writes a fraction as part of the seconds: ".000".
				k := len(segs)
				if k < 2 || segs[k-1].token || !segs[k-2].token ||
					(segs[k-2].text != "05" && segs[k-2].text != "5") {
					return "", fmt.Errorf("time pattern %q: S must follow seconds and '.' or ','", pattern)
				}
				lit := segs[k-1].text
				sep := lit[len(lit)-1]
				if sep != '.' && sep != ',' {
					return "", fmt.Errorf("time pattern %q: S must follow seconds and '.' or ','", pattern)
				}
				if segs[k-1].text = lit[:len(lit)-1]; segs[k-1].text == "" {
					segs = segs[:k-1]
				}
				segs = append(segs, layoutSeg{text: string(sep) + strings.Repeat("0", n), token: true})
				i += n
				continue
			}
			tok, ok := javaLetter(c, n)
			if !ok {
				return "", fmt.Errorf("time pattern %q: unsupported letter %q", pattern, strings.Repeat(string(c), n))
			}
			segs = append(segs, layoutSeg{text: tok, token: true})
			i += n

		default:
			literal(pattern[i : i+1])
			i++
		}
	}

	// Go has no quoting: check that no literal text turns into, or merges
	// with, a layout element by formatting a reference time both ways.
	var layout strings.Builder
	for _, s := range segs {
		layout.WriteString(s.text)
	}
	for _, t := range layoutCheckTimes {
		var want strings.Builder
		for _, s := range segs {
			if s.token {
				want.WriteString(t.Format(s.text))
			} else {
				want.WriteString(s.text)
			}
		}
		if t.Format(layout.String()) != want.String() {
			return "", fmt.Errorf("time pattern %q has literal text a Go layout cannot express", pattern)
		}
	}
	return layout.String(), nil
}

// layoutSeg is a piece of a layout under construction: a layout element
// (token) or literal text.
type layoutSeg struct {
	text  string
	token bool
}

// layoutCheckTimes have every field distinct from the digits of Go's
// reference time, one before and one after noon, so that a stray layout
// element changes the rendering of at least one of them.
var layoutCheckTimes = []time.Time{
	time.Date(2019, 11, 27, 22, 48, 39, 987654321, time.FixedZone("QQT", 5*3600+30*60)),
	time.Date(2031, 10, 18, 9, 37, 58, 123456789, time.FixedZone("RRT", -(3*3600+30*60))),
}

// javaLetter maps a run of n pattern letters c onto a Go layout element.
func javaLetter(c byte, n int) (string, bool) {
	switch c {
	case 'y':
		if n == 2 {
			return "06", true
		}
		return "2006", true
	case 'M', 'L':
		return pick(n, "1", "01", "Jan", "January"), true
	case 'd':
		if n <= 2 {
			return pick(n, "2", "02"), true
		}
	case 'D':
		if n == 3 {
			return "002", true
		}
	case 'E':
		if n <= 3 {
			return "Mon", true
		}
		return "Monday", true
	case 'a':
		return "PM", true
	case 'H':
		if n <= 2 {
			return "15", true
		}
	case 'h':
		if n <= 2 {
			return pick(n, "3", "03"), true
		}
	case 'm':
		if n <= 2 {
			return pick(n, "4", "04"), true
		}
	case 's':
		if n <= 2 {
			return pick(n, "5", "05"), true
		}
	case 'z':
		return "MST", true
	case 'Z':
		return "-0700", true
	case 'X':
		if n <= 3 {
			return pick(n, "Z07", "Z0700", "Z07:00"), true
		}
	}
	return "", false
}

// pick returns the n-th of choices, counting from 1, or the last when n is
// larger.
func pick(n int, choices ...string) string {
	return choices[min(n, len(choices))-1]
}

// timeLayouts are the layouts tried, in order, for a time without a known
// format. They cover the forms sensors and LEEF producers are seen to use;
// a fraction after the seconds is accepted by every one of them.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006/01/02 15:04:05",
	"Jan _2 2006 15:04:05 -0700",
	"Jan _2 2006 15:04:05 MST",
	"Jan _2 2006 15:04:05",
	"Jan _2, 2006 15:04:05",
	"Jan _2, 2006 3:04:05 PM",
	"_2 Jan 2006 15:04:05",
	time.UnixDate,
	time.ANSIC,
	time.RFC1123Z,
	time.RFC1123,
}

// parseTime reads a time written in the given Go layout, or, when layout is
// empty or does not fit, as epoch milliseconds (epoch seconds when it has at
// most ten digits) or in one of timeLayouts. Times without a zone are in loc.
func parseTime(s, layout string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if layout != "" {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if s != "" && strings.Trim(s, "0123456789") == "" && len(s) <= 16 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			if len(s) <= 10 {
				return time.Unix(n, 0).UTC(), nil
			}
			return time.UnixMilli(n).UTC(), nil
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}
