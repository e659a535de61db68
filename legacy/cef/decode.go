package cef

import (
	"strconv"
	"strings"
)

// headerFields is the number of pipe-terminated fields in a CEF header,
// counting "CEF:Version".
const headerFields = 7

// Decode reads the CEF event in line, which may carry a syslog header or any
// other text before "CEF:". The event's strings are copies: line may be
// reused once Decode returns.
func Decode(line []byte) (*Event, error) {
	ev := new(Event)
	if err := Parse(string(line), ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// Parse reads the CEF event in line into ev, overwriting it but reusing the
// storage of ev.Extensions. Text before the first "CEF:" that is followed by
// a digit is skipped, so line may be a whole syslog message. ev's strings are
// substrings of line, except values that held escapes.
//
// Parse returns ErrNotCEF when line has no "CEF:" marker, and a *SyntaxError
// when the header has fewer than seven fields, the version is not a number,
// the extensions do not start with a key, or the event holds a raw line
// break; ev then holds what was read before the problem. The package comment
// lists how Parse reads what the standard leaves open.
func Parse(line string, ev *Event) error {
	*ev = Event{Extensions: ev.Extensions[:0]}
	start := markerIndex(line)
	if start < 0 {
		return ErrNotCEF
	}

	// Trailers that framing left behind are not part of the event; a line
	// break anywhere else is.
	end := len(line)
	for end > start && (line[end-1] == '\n' || line[end-1] == '\r' || line[end-1] == 0) {
		end--
	}
	s := line[:end]
	if i := lineBreak(s[start:]); i >= 0 {
		return &SyntaxError{Offset: start + i, Msg: "cef event has an unescaped line break"}
	}

	pos := start + len("CEF:")
	v, n := 0, 0
	for pos+n < len(s) && n < 4 && isDigit(s[pos+n]) {
		v = v*10 + int(s[pos+n]-'0')
		n++
	}
	switch {
	case pos+n == len(s):
		return headerError(s, 0)
	case s[pos+n] != '|':
		return &SyntaxError{Offset: pos, Msg: "cef version is not a number"}
	}
	ev.Version = v
	pos += n + 1

	bs := backslashes{s: s, next: -1}
	var fields [headerFields - 1]string
	for f := range fields {
		end := headerFieldEnd(s, pos)
		if end < 0 {
			return headerError(s, f+1)
		}
		fields[f] = s[pos:end]
		if bs.within(pos, end) {
			fields[f] = unescapeHeader(fields[f])
		}
		pos = end + 1
	}
	ev.Vendor, ev.Product, ev.DeviceVersion = fields[0], fields[1], fields[2]
	ev.SignatureID, ev.Name, ev.Severity = fields[3], fields[4], fields[5]

	exts, err := parseExtensions(s, pos, ev.Extensions, &bs)
	ev.Extensions = exts
	return err
}

func headerError(s string, found int) error {
	return &SyntaxError{
		Offset: len(s),
		Msg:    "cef header has " + strconv.Itoa(found) + " of " + strconv.Itoa(headerFields) + " fields",
	}
}

// markerIndex returns the index of the first "CEF:" followed by a digit, or
// -1.
func markerIndex(s string) int {
	off := 0
	for {
		i := strings.Index(s[off:], "CEF:")
		if i < 0 {
			return -1
		}
		i += off
		if i+4 < len(s) && isDigit(s[i+4]) {
			return i
		}
		off = i + 4
	}
}

// lineBreak returns the index of the first CR or LF in s, or -1.
func lineBreak(s string) int {
	i := strings.IndexByte(s, '\n')
	if j := strings.IndexByte(s, '\r'); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	return i
}

// headerFieldEnd returns the index of the pipe that ends the header field
// starting at s[pos], or -1. "\\" and "\|" are escapes; a backslash before
// anything else stands for itself. So a pipe ends the field when an even
// number of backslashes precede it.
func headerFieldEnd(s string, pos int) int {
	for i := pos; ; {
		k := strings.IndexByte(s[i:], '|')
		if k < 0 {
			return -1
		}
		end := i + k
		n := 0
		for end-n > pos && s[end-n-1] == '\\' {
			n++
		}
		if n%2 == 0 {
			return end
		}
		i = end + 1
	}
}

// backslashes answers whether stretches of s hold a backslash, for stretches
// asked about in order, with one scan of s when it holds none.
type backslashes struct {
	s string
	// next is the index of the first backslash at or after the last
	// stretch asked about, len(s) if none, -1 before the first question.
	next int
}

// within reports whether s[from:to] holds a backslash; from must not be
// less than in the previous call.
func (b *backslashes) within(from, to int) bool {
	if b.next < from {
		b.next = len(b.s)
		if i := strings.IndexByte(b.s[from:], '\\'); i >= 0 {
			b.next = from + i
		}
	}
	return b.next < to
}

func unescapeHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '|') {
			i++
			c = s[i]
		}
		b.WriteByte(c)
	}
	return b.String()
}

// parseExtensions reads the key=value pairs from s[pos:] and appends them to
// exts.
func parseExtensions(s string, pos int, exts Extensions, bs *backslashes) (Extensions, error) {
	p := skipSpaces(s, pos)
	for p < len(s) {
		k := keyEnd(s, p)
		if k == p || k == len(s) || s[k] != '=' {
			return exts, &SyntaxError{Offset: p, Msg: "cef extension has text without a key"}
		}
		vstart := k + 1
		vend, next := valueEnd(s, vstart)
		v := s[vstart:vend]
		if bs.within(vstart, vend) {
			v = unescapeValue(v)
		}
		exts = append(exts, Extension{Key: s[p:k], Value: v})
		p = next
	}
	return exts, nil
}

// valueEnd finds the end of the value that starts at s[i]: the first of the
// spaces before the next key, or the end of s less trailing spaces. next is
// where the next key starts, len(s) if none. A key starts after a space and
// runs up to an "=" over key bytes only, so it is found from the "=" back;
// an escaped "=" has a backslash before it, which no key holds.
func valueEnd(s string, i int) (end, next int) {
	for j := i; ; {
		k := strings.IndexByte(s[j:], '=')
		if k < 0 {
			break
		}
		eq := j + k
		ks := eq
		for ks > i && keyByte[s[ks-1]] {
			ks--
		}
		if ks < eq && ks > i && s[ks-1] == ' ' {
			end = ks - 1
			for end > i && s[end-1] == ' ' {
				end--
			}
			return end, ks
		}
		j = eq + 1
	}
	end = len(s)
	for end > i && s[end-1] == ' ' {
		end--
	}
	return end, len(s)
}

func unescapeValue(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '\\', '=', '|':
				c = s[i+1]
				i++
			case 'n':
				c = '\n'
				i++
			case 'r':
				c = '\r'
				i++
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// keyEnd returns the index after the run of key bytes at s[i:].
func keyEnd(s string, i int) int {
	for i < len(s) && keyByte[s[i]] {
		i++
	}
	return i
}

// keyByte marks the bytes an extension key may hold: ASCII letters and
// digits, and the punctuation real producers put in keys.
var keyByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "_.,-[]" {
		t[c] = true
	}
	return t
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}
