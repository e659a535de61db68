package syslog

import (
	"strconv"
	"strings"
	"time"
)

// Format is the syslog header format of a message.
type Format uint8

// The header formats. FormatNone is a message without a syslog header, such
// as a bare CEF line.
const (
	FormatNone Format = iota
	FormatRFC3164
	FormatRFC5424
)

// String returns "none", "rfc3164" or "rfc5424".
func (f Format) String() string {
	switch f {
	case FormatRFC3164:
		return "rfc3164"
	case FormatRFC5424:
		return "rfc5424"
	}
	return "none"
}

// Facility is the syslog facility, the upper bits of the priority.
type Facility int

// The facilities of RFC 5424, section 6.2.1.
const (
	FacilityKern Facility = iota
	FacilityUser
	FacilityMail
	FacilityDaemon
	FacilityAuth
	FacilitySyslog
	FacilityLPR
	FacilityNews
	FacilityUUCP
	FacilityCron
	FacilityAuthPriv
	FacilityFTP
	FacilityNTP
	FacilityAudit
	FacilityAlert
	FacilityClock
	FacilityLocal0
	FacilityLocal1
	FacilityLocal2
	FacilityLocal3
	FacilityLocal4
	FacilityLocal5
	FacilityLocal6
	FacilityLocal7
)

// Severity is the syslog severity, the lower three bits of the priority. It
// is not the Defender for IoT alert level.
type Severity int

// The severities of RFC 5424, section 6.2.1.
const (
	SeverityEmergency Severity = iota
	SeverityAlert
	SeverityCritical
	SeverityError
	SeverityWarning
	SeverityNotice
	SeverityInfo
	SeverityDebug
)

// Priority is the PRI value of a syslog header: facility times eight plus
// severity, 0 to 191.
type Priority int

// NoPriority is the Priority of a message that has no PRI.
const NoPriority Priority = -1

// PriorityUserAlert is facility user, severity alert: the <9> that Defender
// for IoT sensors put on every forwarded alert.
const PriorityUserAlert = Priority(int(FacilityUser)<<3 | int(SeverityAlert))

// MakePriority combines a facility and a severity.
func MakePriority(f Facility, s Severity) Priority {
	return Priority(int(f)<<3 | int(s)&7)
}

// Facility returns the facility part of p.
func (p Priority) Facility() Facility { return Facility(p >> 3) }

// Severity returns the severity part of p.
func (p Priority) Severity() Severity { return Severity(p & 7) }

// Valid reports whether p is a PRI value a header can carry, 0 to 191.
func (p Priority) Valid() bool { return p >= 0 && p <= 191 }

// Header is a parsed syslog header. Its strings are substrings of the parsed
// message. Fields the message does not carry are empty: a missing hostname,
// an RFC 5424 NILVALUE ("-"), a missing timestamp (zero Time).
type Header struct {
	Format Format
	// Priority is the PRI value, NoPriority when the message has none.
	Priority Priority
	// Timestamp is the header's time. A time without a zone is read in the
	// parser's Location; a BSD time without a year gets the year that puts
	// it nearest to the parser's clock.
	Timestamp time.Time
	Hostname  string
	// AppName is the RFC 5424 APP-NAME or the RFC 3164 tag; ProcID the
	// PROCID or the tag's "[pid]".
	AppName string
	ProcID  string
	// MsgID and StructuredData exist in RFC 5424 only. StructuredData is the
	// raw text of all SD elements, brackets and escapes included.
	MsgID          string
	StructuredData string
	// Body is the message after the header (after the BOM, if RFC 5424 has
	// one), and BodyOffset where it starts in the parsed message.
	Body       string
	BodyOffset int
}

// HeaderError reports a syslog header that breaks its format's grammar.
type HeaderError struct {
	// Offset is the byte in the message where the header stops making sense.
	Offset int
	Reason string
}

// Error implements error.
func (e *HeaderError) Error() string {
	return "syslog header: " + e.Reason + " at byte " + strconv.Itoa(e.Offset)
}

// Parser reads syslog headers. The zero value is ready to use; a Parser is
// safe for concurrent use as long as its fields do not change.
type Parser struct {
	// Location is the time zone of timestamps that carry none (RFC 3164,
	// ISO times without offset). If nil, UTC.
	Location *time.Location
	// Now returns the current time, to infer the year of RFC 3164
	// timestamps. If nil, time.Now.
	Now func() time.Time
}

// Parse reads msg's header with a zero Parser: see Parser.Parse.
func Parse(msg string) (Header, error) {
	var p Parser
	return p.Parse(msg)
}

// Parse reads the syslog header at the start of msg, which is one message
// without its framing. A message whose PRI is followed by a version number
// and a space is RFC 5424; any other PRI, or a BSD or ISO timestamp at the
// very start, makes it RFC 3164; anything else has FormatNone and is all
// body.
//
// Parse returns a *HeaderError only for a malformed PRI or RFC 5424 header;
// the Header it returns then has FormatNone and the whole of msg as Body, so
// a caller looking for a CEF or LEEF payload can still find it.
func (p *Parser) Parse(msg string) (Header, error) {
	h := Header{Priority: NoPriority}
	if msg == "" || msg[0] != '<' {
		if !p.parse3164(msg, 0, &h) {
			h.Body = msg
		}
		return h, nil
	}

	pri, i, ok := parsePRI(msg)
	if !ok {
		return Header{Priority: NoPriority, Body: msg}, &HeaderError{Offset: i, Reason: "malformed priority"}
	}
	h.Priority = pri

	if n := versionLen(msg[i:]); n > 0 {
		if err := p.parse5424(msg, i+n, &h); err != nil {
			return Header{Priority: NoPriority, Body: msg}, err
		}
		return h, nil
	}

	// Some senders put a space between PRI and timestamp.
	if i < len(msg) && msg[i] == ' ' {
		i++
	}
	if !p.parse3164(msg, i, &h) {
		// RFC 3164 section 4.3.3: without a valid timestamp, everything
		// after the PRI is the message.
		h.Format = FormatRFC3164
		h.Body, h.BodyOffset = msg[i:], i
	}
	return h, nil
}

// parsePRI reads "<N>" at the start of msg; it returns the priority and the
// offset after '>', or ok false with the offset of the first bad byte.
func parsePRI(msg string) (pri Priority, next int, ok bool) {
	v := 0
	i := 1
	for ; i < len(msg) && i <= 4; i++ {
		c := msg[i]
		if c == '>' {
			break
		}
		if c < '0' || c > '9' {
			return 0, i, false
		}
		v = v*10 + int(c-'0')
	}
	if i == 1 || i >= len(msg) || msg[i] != '>' || v > 191 {
		return 0, i, false
	}
	return Priority(v), i + 1, true
}

// versionLen returns the length of an RFC 5424 "VERSION SP" at the start of
// s (a non-zero digit and up to two more digits, then a space), or 0.
func versionLen(s string) int {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0
	}
	for i := 1; i < len(s) && i <= 3; i++ {
		switch c := s[i]; {
		case c == ' ':
			return i + 1
		case c < '0' || c > '9':
			return 0
		}
	}
	return 0
}

func (p *Parser) location() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

func (p *Parser) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// parse3164 reads an RFC 3164 header whose timestamp starts at msg[i]. It
// reports false, leaving h alone, when there is no timestamp there.
func (p *Parser) parse3164(msg string, i int, h *Header) bool {
	t, n, ok := p.bsdTimestamp(msg[i:])
	if !ok {
		return false
	}
	h.Format = FormatRFC3164
	h.Timestamp = t
	i = skipSpaces(msg, i+n)

	// The hostname is the next word unless that word is a tag ("sshd:",
	// "app[42]:") or the payload itself ("CEF:0|...").
	if j := strings.IndexByte(msg[i:], ' '); j > 0 && isHostname(msg[i:i+j]) {
		h.Hostname = msg[i : i+j]
		i = skipSpaces(msg, i+j)
	}
	if name, pid, n, ok := parseTag(msg[i:]); ok {
		h.AppName, h.ProcID = name, pid
		i += n
	}
	h.Body, h.BodyOffset = msg[i:], i
	return true
}

// bsdTimestamp reads the timestamp at the start of s, either BSD style
// ("Mmm dd hh:mm:ss", day space-padded or not, optionally a year before the
// clock and a fraction after it) or an RFC 3339/ISO time as rsyslog writes
// it. The timestamp must be followed by a space or the end of s. n is the
// length read.
func (p *Parser) bsdTimestamp(s string) (t time.Time, n int, ok bool) {
	if s == "" {
		return time.Time{}, 0, false
	}
	if s[0] >= '0' && s[0] <= '9' {
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		t, ok := ParseRFC3339(s[:end], p.location())
		return t, end, ok
	}

	t, n, ok = ParseStamp(s, p.location(), p.now)
	if !ok || (n < len(s) && s[n] != ' ') {
		return time.Time{}, 0, false
	}
	return t, n, true
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// isHostname reports whether w can be an RFC 3164 HOSTNAME: a name, IPv4 or
// IPv6 address, and not a tag (which ends in ':' or has a '[').
func isHostname(w string) bool {
	if len(w) > 255 || w[len(w)-1] == ':' {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isHostnameChar(w[i]) {
			return false
		}
	}
	return true
}

func isHostnameChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '.', c == '-', c == '_', c == ':', c == '%':
		return true
	}
	return false
}

// maxTagLen is the longest tag parseTag accepts: RFC 3164 allows 32
// characters, RFC 5424's APP-NAME 48; real senders stay within the latter.
const maxTagLen = 48

// parseTag reads an RFC 3164 tag at the start of s: "name:", "name[pid]:"
// or "name[pid]", followed by a space or the end of s. n covers the tag and
// the one space after it.
func parseTag(s string) (name, pid string, n int, ok bool) {
	k := 0
	for k < len(s) && k <= maxTagLen && isTagChar(s[k]) {
		k++
	}
	if k == 0 || k > maxTagLen {
		return "", "", 0, false
	}
	name = s[:k]
	hasPID := false
	if k < len(s) && s[k] == '[' {
		e := strings.IndexByte(s[k:], ']')
		if e < 0 || e > 129 {
			return "", "", 0, false
		}
		pid, hasPID = s[k+1:k+e], true
		k += e + 1
	}
	if k < len(s) && s[k] == ':' {
		k++
	} else if !hasPID {
		return "", "", 0, false
	}
	switch {
	case k == len(s):
		return name, pid, k, true
	case s[k] == ' ':
		return name, pid, k + 1, true
	}
	return "", "", 0, false
}

func isTagChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '_', c == '-', c == '.', c == '/':
		return true
	}
	return false
}
