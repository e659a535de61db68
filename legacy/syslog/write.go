package syslog

import (
	"strconv"
	"time"
)

// Append appends the header to dst in h.Format, up to and including the
// space before the message body, and returns the extended slice. Body and
// BodyOffset are not used. The timestamp is written in its own location:
// call Timestamp.In(loc) first to write it in a rule's timezone.
//
// RFC 3164 is written as "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: " with the day
// padded by a space, leaving out the hostname, the tag and the timestamp when
// they are empty or zero (without a timestamp, a reader takes all that
// follows the PRI as the message). RFC 5424 is written as "<PRI>1 TIMESTAMP HOST APP
// PROCID MSGID SD " with millisecond timestamps and "-" for every empty field.
// FormatNone appends nothing.
//
// Priority must be valid: a Header built by hand needs it set, as the zero
// value 0 is kern.emerg (sensors use PriorityUserAlert). An invalid priority
// writes PriorityUserAlert. Header fields are made safe rather than
// rejected: bytes outside printable ASCII, spaces, and the characters that
// the parser would not read back in an RFC 3164 hostname or tag become '_',
// and fields are cut to RFC 5424's lengths.
func (h *Header) Append(dst []byte) []byte {
	switch h.Format {
	case FormatRFC3164:
		return h.append3164(dst)
	case FormatRFC5424:
		return h.append5424(dst)
	}
	return dst
}

func (h *Header) appendPRI(dst []byte) []byte {
	pri := h.Priority
	if !pri.Valid() {
		pri = PriorityUserAlert
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	return append(dst, '>')
}

func (h *Header) append3164(dst []byte) []byte {
	dst = h.appendPRI(dst)
	if !h.Timestamp.IsZero() {
		dst = h.Timestamp.AppendFormat(dst, time.Stamp)
		dst = append(dst, ' ')
	}
	if h.Hostname != "" {
		dst = appendToken(dst, h.Hostname, 255, isHostnameChar)
		if dst[len(dst)-1] == ':' {
			// A word ending in ':' would read as a tag.
			dst[len(dst)-1] = '_'
		}
		dst = append(dst, ' ')
	}
	if h.AppName != "" {
		dst = appendToken(dst, h.AppName, maxTagLen, isTagChar)
		if h.ProcID != "" {
			dst = append(dst, '[')
			dst = appendToken(dst, h.ProcID, 128, isPIDChar)
			dst = append(dst, ']')
		}
		dst = append(dst, ':', ' ')
	}
	return dst
}

// rfc5424Time is RFC 3339 with milliseconds, which RFC 5424 allows (up to
// six fraction digits) and every receiver reads.
const rfc5424Time = "2006-01-02T15:04:05.000Z07:00"

func (h *Header) append5424(dst []byte) []byte {
	dst = h.appendPRI(dst)
	dst = append(dst, '1', ' ')
	if h.Timestamp.IsZero() {
		dst = append(dst, '-')
	} else {
		dst = h.Timestamp.AppendFormat(dst, rfc5424Time)
	}
	dst = append(dst, ' ')
	dst = appendNil(dst, h.Hostname, 255)
	dst = appendNil(dst, h.AppName, 48)
	dst = appendNil(dst, h.ProcID, 128)
	dst = appendNil(dst, h.MsgID, 32)
	if h.StructuredData == "" {
		dst = append(dst, '-')
	} else {
		dst = append(dst, h.StructuredData...)
	}
	return append(dst, ' ')
}

// appendNil appends an RFC 5424 header field and its space, "-" when empty.
func appendNil(dst []byte, s string, max int) []byte {
	if s == "" {
		dst = append(dst, '-')
	} else {
		dst = appendToken(dst, s, max, isPrintASCII)
	}
	return append(dst, ' ')
}

// appendToken appends at most max bytes of s, replacing the bytes that ok
// refuses with '_'.
func appendToken(dst []byte, s string, max int, ok func(byte) bool) []byte {
	if len(s) > max {
		s = s[:max]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !ok(c) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

func isPrintASCII(c byte) bool { return c > ' ' && c < 0x7f }

func isPIDChar(c byte) bool { return isPrintASCII(c) && c != '[' && c != ']' }
