package syslog

import "strings"

// bom is the UTF-8 byte order mark RFC 5424 allows at the start of MSG.
const bom = "\xef\xbb\xbf"

// parse5424 reads the RFC 5424 header that follows "<PRI>VERSION " in msg;
// i is the offset of the timestamp.
func (p *Parser) parse5424(msg string, i int, h *Header) error {
	h.Format = FormatRFC5424

	ts, i, err := field(msg, i, "timestamp")
	if err != nil {
		return err
	}
	if ts != "" {
		t, ok := ParseRFC3339(ts, p.location())
		if !ok {
			return &HeaderError{Offset: i - len(ts) - 1, Reason: "malformed timestamp"}
		}
		h.Timestamp = t
	}
	if h.Hostname, i, err = field(msg, i, "hostname"); err != nil {
		return err
	}
	if h.AppName, i, err = field(msg, i, "app name"); err != nil {
		return err
	}
	if h.ProcID, i, err = field(msg, i, "proc id"); err != nil {
		return err
	}
	if h.MsgID, i, err = field(msg, i, "msg id"); err != nil {
		return err
	}

	switch {
	case i < len(msg) && msg[i] == '-':
		i++
	case i < len(msg) && msg[i] == '[':
		end := structuredDataEnd(msg, i)
		if end < 0 {
			return &HeaderError{Offset: i, Reason: "unterminated structured data"}
		}
		h.StructuredData = msg[i:end]
		i = end
	default:
		return &HeaderError{Offset: i, Reason: "missing structured data"}
	}

	if i < len(msg) {
		if msg[i] != ' ' {
			return &HeaderError{Offset: i, Reason: "no space after structured data"}
		}
		i++
		if strings.HasPrefix(msg[i:], bom) {
			i += len(bom)
		}
	}
	h.Body, h.BodyOffset = msg[i:], i
	return nil
}

// field reads one space-terminated RFC 5424 header field at msg[i:] and
// returns it ("" for the NILVALUE "-") and the offset after its space.
func field(msg string, i int, name string) (string, int, error) {
	n := strings.IndexByte(msg[i:], ' ')
	switch {
	case n < 0:
		return "", i, &HeaderError{Offset: len(msg), Reason: "message ends before " + name}
	case n == 0:
		return "", i, &HeaderError{Offset: i, Reason: "empty " + name}
	}
	v := msg[i : i+n]
	if v == "-" {
		v = ""
	}
	return v, i + n + 1, nil
}

// structuredDataEnd returns the offset after the last of the SD elements
// that start at msg[i] ('['), or -1 when one is not closed. A backslash
// escapes the next byte (RFC 5424 needs that for '"', '\' and ']' inside
// parameter values); a ']' inside a quoted value does not close the element
// even unescaped, as some senders forget to escape it.
func structuredDataEnd(msg string, i int) int {
	for i < len(msg) && msg[i] == '[' {
		i++
		quoted := false
	element:
		for ; i < len(msg); i++ {
			switch msg[i] {
			case '\\':
				i++
			case '"':
				quoted = !quoted
			case ']':
				if !quoted {
					break element
				}
			}
		}
		if i >= len(msg) {
			return -1
		}
		i++
	}
	return i
}
