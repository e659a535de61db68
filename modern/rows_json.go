package modern

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// This file holds the JSON writing under the row mappers: strings escaped
// for JSON (not for Go), cut at the field limit on a rune boundary, and
// times in the forms Azure Monitor reads. Nothing here allocates beyond
// growing the caller's slice.

// jsonPlain marks the bytes that stand for themselves inside a JSON string:
// printable ASCII other than the quote and the backslash.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// lineMode says what a value writer does with line breaks. The legacy CEF
// encoder rewrites them (a header field cannot hold one, an extension value
// holds "\n"), and the agent reads back what the encoder wrote; the modes
// let a modern row hold the same text.
type lineMode uint8

const (
	linesKept    lineMode = iota // written as they are (escaped)
	linesToSpace                 // CR, LF and CRLF become one space
	linesToLF                    // CR and CRLF become LF
)

// valueWriter appends one JSON string value, possibly from several pieces,
// to buf: the caller writes the quotes. It cuts the value once it would
// pass limit bytes and then ignores further pieces. The limit counts the
// value's UTF-8 bytes as the service stores them (after an invalid byte is
// replaced by U+FFFD), or, with escaped set, the bytes written (for a
// dynamic column, whose value is the JSON text itself).
type valueWriter struct {
	buf     []byte
	n       int
	limit   int
	escaped bool
	cut     bool
}

// add appends s. It never splits a rune or an escape sequence.
func (w *valueWriter) add(s string, mode lineMode) {
	if w.cut {
		return
	}
	for i := 0; i < len(s); {
		// The common case: a run of bytes written as they are.
		j := i
		for j < len(s) && jsonPlain[s[j]] {
			j++
		}
		if j > i {
			if room := w.limit - w.n; j-i > room {
				w.buf = append(w.buf, s[i:i+room]...)
				w.n = w.limit
				w.cut = true
				return
			}
			w.buf = append(w.buf, s[i:j]...)
			w.n += j - i
			i = j
			if i == len(s) {
				return
			}
		}

		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			bad := r == utf8.RuneError && size == 1
			n := size
			if bad {
				n = len("\uFFFD")
			}
			if w.n+n > w.limit {
				w.cut = true
				return
			}
			if bad {
				w.buf = append(w.buf, "\uFFFD"...)
			} else {
				w.buf = append(w.buf, s[i:i+size]...)
			}
			w.n += n
			i += size
			continue
		}

		// A quote, a backslash or a control character.
		step := 1
		switch {
		case c == '\r' && mode != linesKept:
			if i+1 < len(s) && s[i+1] == '\n' {
				step = 2
			}
			c = '\n'
			if mode == linesToSpace {
				c = ' '
			}
		case c == '\n' && mode == linesToSpace:
			c = ' '
		}
		if !w.addEscape(c) {
			return
		}
		i += step
	}
}

// addASCII appends b, printable ASCII that needs no escaping.
func (w *valueWriter) addASCII(b []byte) {
	if w.cut {
		return
	}
	if room := w.limit - w.n; len(b) > room {
		b = b[:room]
		w.cut = true
	}
	w.buf = append(w.buf, b...)
	w.n += len(b)
}

// addASCIIEscaped appends ASCII b, escaping what JSON needs escaped.
func (w *valueWriter) addASCIIEscaped(b []byte) {
	for i := 0; i < len(b) && !w.cut; {
		j := i
		for j < len(b) && jsonPlain[b[j]] {
			j++
		}
		w.addASCII(b[i:j])
		if j == len(b) || w.cut {
			return
		}
		if !w.addEscape(b[j]) {
			return
		}
		i = j + 1
	}
}

// addEscape appends ASCII byte c escaped for JSON, counting it as one byte
// of the value, or as its escaped length when the limit is on escaped
// text. It reports false, and marks the value cut, when c does not fit.
func (w *valueWriter) addEscape(c byte) bool {
	var esc [6]byte
	e := appendEscape(esc[:0], c)
	n := 1
	if w.escaped {
		n = len(e)
	}
	if w.n+n > w.limit {
		w.cut = true
		return false
	}
	w.buf = append(w.buf, e...)
	w.n += n
	return true
}

// appendEscape appends ASCII byte c as it stands inside a JSON string.
func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if c < 0x20 {
		return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, c)
}

// appendDateTime appends t in UTC as RFC 3339 with milliseconds, the form
// Azure Monitor reads into a datetime column ("2024-03-10T14:03:07.123Z").
func appendDateTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	h, mi, s := t.Clock()
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, int(mo))
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

const monthAbbrevs = "JanFebMarAprMayJunJulAugSepOctNovDec"

// appendStart appends t in loc in the layout the legacy CEF encoder writes
// the Defender "start" extension in, "Jan 02 2006 15:04:05" (startLayout).
func appendStart(dst []byte, t time.Time, loc *time.Location) []byte {
	t = t.In(loc)
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, startLayout)
	}
	h, mi, s := t.Clock()
	dst = append(dst, monthAbbrevs[3*(mo-1):3*mo]...)
	dst = append(dst, ' ')
	dst = append2(dst, d)
	dst = append(dst, ' ')
	dst = append4(dst, y)
	dst = append(dst, ' ')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	return append2(dst, s)
}

func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

func append4(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// rowWriter appends the members of one JSON object and counts the values
// it cut.
type rowWriter struct {
	buf       []byte
	limit     int
	first     bool
	truncated int
}

// key appends the member name, given already quoted with its colon
// (`"Name":`).
func (w *rowWriter) key(k string) {
	if !w.first {
		w.buf = append(w.buf, ',')
	}
	w.first = false
	w.buf = append(w.buf, k...)
}

// str writes a string member; an empty value is left out, so the column
// stays empty as it does on the legacy path.
func (w *rowWriter) str(k, v string, mode lineMode) {
	if v == "" {
		return
	}
	w.key(k)
	w.buf = append(w.buf, '"')
	vw := valueWriter{buf: w.buf, limit: w.limit}
	vw.add(v, mode)
	w.end(&vw)
}

// end closes a string value written with a valueWriter taken from w.
func (w *rowWriter) end(vw *valueWriter) {
	w.buf = append(vw.buf, '"')
	if vw.cut {
		w.truncated++
	}
}

// open starts a string member written in pieces; the caller adds them and
// calls end.
func (w *rowWriter) open(k string) valueWriter {
	w.key(k)
	w.buf = append(w.buf, '"')
	return valueWriter{buf: w.buf, limit: w.limit}
}

// datetime writes a datetime member; a zero time is left out.
func (w *rowWriter) datetime(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	w.key(k)
	w.buf = append(w.buf, '"')
	w.buf = appendDateTime(w.buf, t)
	w.buf = append(w.buf, '"')
}

// number writes an integer member.
func (w *rowWriter) number(k string, n int) {
	w.key(k)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
}

// boolean writes a boolean member.
func (w *rowWriter) boolean(k string, b bool) {
	w.key(k)
	w.buf = strconv.AppendBool(w.buf, b)
}

// stringArray writes an array of strings into a dynamic member; an empty list
// is left out. The limit counts the array's JSON text: elements past it are
// dropped, the one that crosses it is cut.
func (w *rowWriter) stringArray(k string, list []string) {
	if len(list) == 0 {
		return
	}
	w.key(k)
	var cut bool
	w.buf, cut = appendStringArray(w.buf, list, w.limit)
	if cut {
		w.truncated++
	}
}

// appendStringArray appends list as a JSON array of at most limit bytes
// and reports whether it had to drop or cut anything.
func appendStringArray(dst []byte, list []string, limit int) ([]byte, bool) {
	dst = append(dst, '[')
	room := limit - len("[]")
	for i, s := range list {
		need := len(`""`)
		if i > 0 {
			need++
		}
		if room < need {
			return append(dst, ']'), true
		}
		mark := len(dst)
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		vw := valueWriter{buf: dst, limit: room - need, escaped: true}
		vw.add(s, linesKept)
		dst = append(vw.buf, '"')
		room -= len(dst) - mark
		if vw.cut {
			return append(dst, ']'), true
		}
	}
	return append(dst, ']'), false
}
