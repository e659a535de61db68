package leef

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNotLEEF is returned by Decode when the input has no "LEEF:" marker, so
// a caller can try another format.
var ErrNotLEEF = errors.New("no LEEF: marker")

var marker = []byte("LEEF:")

// headerFields is the number of pipe-terminated fields every LEEF header
// has: version, vendor, product, product version and event ID.
const headerFields = 5

// Decoder decodes LEEF messages. The zero value is ready to use.
type Decoder struct {
	// Delimiter, if not zero, separates attributes of messages that do not
	// declare a delimiter of their own (every LEEF 1.0 message, and LEEF 2.0
	// messages without a delimiter field). If zero, DefaultDelimiter (tab).
	Delimiter rune
}

// Decode decodes one LEEF message with the zero Decoder.
func Decode(line []byte) (*Message, error) {
	var d Decoder
	return d.Decode(line)
}

// Decode decodes one LEEF message.
//
// The message starts at the first "LEEF:" in line; whatever precedes it (a
// syslog header, for example) is skipped. Trailing line feeds, carriage
// returns and NUL bytes are dropped. Versions "1.0" and "2.0" are read ("1"
// and "2" too, reported as "1.0" and "2.0"); others are refused.
//
// Header fields end at a pipe; "\|" inside a field is a literal pipe and
// "\\" a literal backslash, while any other backslash is kept as it is. A
// header whose event ID runs to the end of the line without its closing
// pipe is accepted when the rest holds no "=", that is, when the message has
// no attributes to lose.
//
// In LEEF 2.0 the field after the event ID is the delimiter when it is
// followed by a pipe and reads as one: empty (tab), a single character
// ("^"), or a code point in hex with an "x" or "0x" prefix ("x09", "0x5E").
// A field holding "=" there is taken as the first attribute instead, since
// the delimiter field is optional. Anything else is an error.
//
// Attributes are split at the delimiter and each at its first "=", so
// values may contain "=". Empty and blank segments (a trailing delimiter, a
// doubled one) are skipped. Keys lose surrounding white space; values are
// kept verbatim. A segment without "=" is taken to be part of the previous
// value that happened to contain the delimiter, and is joined back to it; a
// segment without "=" before any attribute becomes a key with an empty
// value.
func (d *Decoder) Decode(line []byte) (*Message, error) {
	i := bytes.Index(line, marker)
	if i < 0 {
		return nil, ErrNotLEEF
	}
	rest := string(bytes.TrimRight(line[i+len(marker):], "\r\n\x00"))

	var fields [headerFields]string
	n := 0
	for n < headerFields {
		field, next, ok := cutHeaderField(rest)
		if !ok {
			break
		}
		fields[n], rest = field, next
		n++
		if n == 1 {
			if _, err := parseVersion(fields[0]); err != nil {
				return nil, err
			}
		}
	}
	if n == headerFields-1 && rest != "" && !strings.Contains(rest, "=") {
		fields[n], rest = unescapeHeader(rest), ""
		n++
	}
	if n < headerFields {
		if n == 0 && rest != "" {
			if _, err := parseVersion(rest); err != nil {
				return nil, err
			}
		}
		return nil, fmt.Errorf("leef header has %d of %d fields", n, headerFields)
	}

	version, _ := parseVersion(fields[0])
	m := &Message{
		Version:        version,
		Vendor:         fields[1],
		Product:        fields[2],
		ProductVersion: fields[3],
		EventID:        fields[4],
		Delimiter:      d.Delimiter,
	}
	if m.Delimiter == 0 {
		m.Delimiter = DefaultDelimiter
	}

	if version == Version2 {
		if spec, after, ok := strings.Cut(rest, "|"); ok && !strings.Contains(spec, "=") {
			delim, err := parseDelimiter(spec)
			if err != nil {
				return nil, err
			}
			if delim != 0 {
				m.Delimiter = delim
			} else {
				m.Delimiter = DefaultDelimiter
			}
			rest = after
		}
	}

	m.Attributes = splitAttributes(rest, m.Delimiter)
	return m, nil
}

// parseVersion accepts the LEEF versions this package knows.
func parseVersion(s string) (string, error) {
	switch strings.TrimSpace(s) {
	case "1.0", "1":
		return Version1, nil
	case "2.0", "2":
		return Version2, nil
	}
	return "", fmt.Errorf("unsupported leef version %q (want 1.0 or 2.0)", s)
}

// cutHeaderField returns the header field at the start of s, unescaped, and
// what follows its terminating pipe; ok is false when no unescaped pipe
// ends the field.
func cutHeaderField(s string) (field, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // the next byte is escaped, whatever it is
		case '|':
			return unescapeHeader(s[:i]), s[i+1:], true
		}
	}
	return "", s, false
}

// unescapeHeader turns "\|" into "|" and "\\" into "\", leaving other
// backslashes alone.
func unescapeHeader(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseDelimiter reads a LEEF 2.0 delimiter field. It returns 0 for an
// empty field, meaning the default.
func parseDelimiter(spec string) (rune, error) {
	if spec == "" {
		return 0, nil
	}
	var r rune
	if utf8.RuneCountInString(spec) == 1 {
		r, _ = utf8.DecodeRuneInString(spec)
	} else {
		hex, ok := strings.CutPrefix(strings.ToLower(spec), "0x")
		if !ok {
			hex, ok = strings.CutPrefix(strings.ToLower(spec), "x")
		}
		if !ok || len(hex) == 0 || len(hex) > 4 {
			return 0, fmt.Errorf("leef delimiter %q is neither one character nor a hex code", spec)
		}
		n, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			return 0, fmt.Errorf("leef delimiter %q is neither one character nor a hex code", spec)
		}
		r = rune(n)
	}
	if !usableDelimiter(r) {
		return 0, fmt.Errorf("leef delimiter %q cannot separate attributes", spec)
	}
	return r, nil
}

// usableDelimiter reports whether r can separate attributes.
func usableDelimiter(r rune) bool {
	switch r {
	case 0, '=', '\r', '\n', utf8.RuneError:
		return false
	}
	return utf8.ValidRune(r)
}

// splitAttributes splits the attribute part of a message.
func splitAttributes(s string, delim rune) []Attribute {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var attrs []Attribute
	for seg := range strings.SplitSeq(s, string(delim)) {
		if strings.TrimSpace(seg) == "" {
			continue
		}
		key, value, ok := strings.Cut(seg, "=")
		switch {
		case ok:
			attrs = append(attrs, Attribute{Key: strings.TrimSpace(key), Value: value})
		case len(attrs) > 0:
			last := &attrs[len(attrs)-1]
			last.Value += string(delim) + seg
		default:
			attrs = append(attrs, Attribute{Key: strings.TrimSpace(seg)})
		}
	}
	return attrs
}
