package cef

import (
	"strconv"
	"strings"
)

// Append appends the event as a CEF line to dst and returns the extended
// slice. Header fields have "\" and "|" escaped and CR, LF or CRLF replaced
// by a space; the severity also loses surrounding white space. Values have
// "\" and "=" escaped and CR, LF or CRLF written as "\n". Keys keep only the
// bytes the decoder reads as key bytes (letters, digits and "_.,-[]"); an
// extension whose key keeps none is left out. A negative Version is written
// as 0. Nothing is appended after the last value.
func (e *Event) Append(dst []byte) []byte {
	dst = append(dst, "CEF:"...)
	dst = strconv.AppendInt(dst, int64(max(e.Version, 0)), 10)
	for _, f := range [...]string{e.Vendor, e.Product, e.DeviceVersion, e.SignatureID, e.Name} {
		dst = append(dst, '|')
		dst = appendHeaderField(dst, f)
	}
	dst = append(dst, '|')
	dst = appendHeaderField(dst, strings.TrimSpace(e.Severity))
	dst = append(dst, '|')

	first := true
	for _, x := range e.Extensions {
		mark := len(dst)
		if !first {
			dst = append(dst, ' ')
		}
		keyStart := len(dst)
		dst = appendKey(dst, x.Key)
		if len(dst) == keyStart {
			dst = dst[:mark]
			continue
		}
		dst = append(dst, '=')
		dst = appendValue(dst, x.Value)
		first = false
	}
	return dst
}

// String returns the event as a CEF line.
func (e *Event) String() string { return string(e.Append(nil)) }

// appendHeaderField appends s escaped for a CEF header field.
func appendHeaderField(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '|':
			dst = append(dst, '\\', c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			dst = append(dst, ' ')
		case '\n':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendValue appends s escaped for an extension value.
func appendValue(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '=':
			dst = append(dst, '\\', c)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			dst = append(dst, '\\', 'n')
		case '\n':
			dst = append(dst, '\\', 'n')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendKey appends the key bytes of s.
func appendKey(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if keyByte[s[i]] {
			dst = append(dst, s[i])
		}
	}
	return dst
}
