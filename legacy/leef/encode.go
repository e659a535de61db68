package leef

import (
	"fmt"
	"strings"
	"unicode"
)

// Append appends m to dst as one LEEF line, without a syslog header and
// without a line ending, and returns the extended buffer.
//
// Pipes and backslashes in header fields are escaped ("\|", "\\"). A LEEF
// 2.0 message always gets a delimiter field: the delimiter itself when it
// is a printable character other than a pipe, else its hex code ("x09").
// Attributes are written as key=value joined by the delimiter.
//
// LEEF has no way to escape the delimiter inside an attribute, so Append
// refuses what it could not write unambiguously: an unknown version, an
// unusable delimiter, an empty key, a key with "=", surrounding white space
// or the delimiter, a value holding the delimiter, and a line feed, carriage
// return or NUL byte anywhere. On error dst is returned unchanged. Whatever
// Append writes, Decode reads back to an equal Message (a LEEF 1.0 message
// with a delimiter other than tab needs a Decoder with that Delimiter).
func Append(dst []byte, m *Message) ([]byte, error) {
	if m.Version != Version1 && m.Version != Version2 {
		return dst, fmt.Errorf("encode leef: unsupported version %q (want 1.0 or 2.0)", m.Version)
	}
	delim := m.delimiter()
	if !usableDelimiter(delim) {
		return dst, fmt.Errorf("encode leef: delimiter %q cannot separate attributes", delim)
	}
	for _, f := range []struct{ name, value string }{
		{"vendor", m.Vendor}, {"product", m.Product},
		{"product version", m.ProductVersion}, {"event id", m.EventID},
	} {
		if strings.ContainsAny(f.value, "\r\n\x00") {
			return dst, fmt.Errorf("encode leef: %s holds a line break or NUL", f.name)
		}
	}
	for i, a := range m.Attributes {
		if err := checkAttribute(a, delim); err != nil {
			return dst, fmt.Errorf("encode leef: attribute %d (%q): %w", i, a.Key, err)
		}
	}

	out := append(dst, "LEEF:"...)
	out = append(out, m.Version...)
	for _, f := range []string{m.Vendor, m.Product, m.ProductVersion, m.EventID} {
		out = append(out, '|')
		out = appendEscaped(out, f)
	}
	out = append(out, '|')
	if m.Version == Version2 {
		if delim != '|' && delim != '\\' && unicode.IsPrint(delim) {
			out = append(out, string(delim)...)
		} else if delim <= 0xFFFF {
			out = fmt.Appendf(out, "x%02X", delim)
		} else {
			return dst, fmt.Errorf("encode leef: delimiter %q has no LEEF 2.0 spelling", delim)
		}
		out = append(out, '|')
	}
	for i, a := range m.Attributes {
		if i > 0 {
			out = append(out, string(delim)...)
		}
		out = append(out, a.Key...)
		out = append(out, '=')
		out = append(out, a.Value...)
	}
	return out, nil
}

// checkAttribute reports why a cannot be written with delimiter delim.
func checkAttribute(a Attribute, delim rune) error {
	d := string(delim)
	switch {
	case a.Key == "":
		return fmt.Errorf("empty key")
	case strings.Contains(a.Key, "="):
		return fmt.Errorf("key holds '='")
	case strings.TrimSpace(a.Key) != a.Key:
		return fmt.Errorf("key has surrounding white space")
	case strings.Contains(a.Key, d) || strings.Contains(a.Value, d):
		return fmt.Errorf("holds the delimiter %q", delim)
	case strings.ContainsAny(a.Key, "\r\n\x00") || strings.ContainsAny(a.Value, "\r\n\x00"):
		return fmt.Errorf("holds a line break or NUL")
	}
	return nil
}

// appendEscaped appends a header field with pipes and backslashes escaped.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '|' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return dst
}
