package cef

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// The CEF header strings of current Defender for IoT sensors. Older builds
// send "CyberX" and "Azure Defender for IoT Alert".
const (
	DefenderVendor      = "Microsoft Defender for IoT"
	DefenderSignatureID = "Microsoft Defender for IoT Alert"
)

// DefaultVendors are the vendor strings a Decoder accepts when its Vendors
// is nil: both brands the sensors have shipped under.
var DefaultVendors = []string{"Defender for IoT", "CyberX"}

// DefaultSignatures are the signature IDs a Decoder accepts when its
// Signatures is nil: "Microsoft Defender for IoT Alert", the older "Azure
// Defender for IoT Alert", and anything from the CyberX days.
var DefaultSignatures = []string{"Defender for IoT Alert", "CyberX"}

// ErrNotDefender is returned for a well-formed CEF event that is not a
// Defender for IoT alert (its vendor or signature ID is not accepted), so
// that callers can count such events apart from malformed lines.
var ErrNotDefender = errors.New("cef event is not a defender for iot alert")

// The extension keys of a Defender for IoT alert, in the order the sensor
// writes them. All are optional.
const (
	KeyMessage   = "msg"
	KeyProtocol  = "protocol"
	KeySeverity  = "severity" // the level as a word, "Major"
	KeyEngine    = "type"
	KeyUUID      = "UUID"
	KeyStart     = "start" // detection time, in the rule's timezone
	KeySourceIP  = "src_ip"
	KeySourceMAC = "src_mac"
	KeyDestIP    = "dst_ip"
	KeyDestMAC   = "dst_mac"
	KeyCategory  = "cat" // the alert group
)

var defenderKeys = [...]string{
	KeyMessage, KeyProtocol, KeySeverity, KeyEngine, KeyUUID, KeyStart,
	KeySourceIP, KeySourceMAC, KeyDestIP, KeyDestMAC, KeyCategory,
}

// Decoder turns the CEF alerts Defender for IoT sensors forward into
// bridge.Alert values. The zero value is ready to use with the defaults
// below. A Decoder reuses memory between calls: it is not safe for
// concurrent use, and the Event it returns is valid until the next call.
type Decoder struct {
	// Vendors lists the accepted CEF vendors and Signatures the accepted
	// signature IDs, each matched as a case-insensitive substring; an event
	// must match both. If nil, DefaultVendors and DefaultSignatures. A list
	// holding "" accepts anything.
	Vendors    []string
	Signatures []string
	// Location is the rule's timezone: a start time or syslog timestamp
	// without a zone is read in it, and DetectedAt is returned in it. If
	// nil, UTC.
	Location *time.Location
	// Now returns the current time, to complete times written without a
	// year. If nil, time.Now.
	Now func() time.Time

	event Event
}

// DecodeAlert reads one syslog message (without framing) or bare CEF line
// from a sensor into a. It reads the syslog header if there is one, the CEF
// event after it, and maps the event with ToAlert. When the event carries no
// readable start time, DetectedAt is the syslog header's timestamp, which
// the sensor sets when it sends the alert. a.Raw gets a copy of line, so the
// caller may reuse line; the alert's strings share one other copy of it.
//
// A syslog header that breaks RFC 5424 does not stop the decoding: the CEF
// event is looked for in the whole line. DecodeAlert returns ErrNotCEF or a
// *SyntaxError (its Offset counted in line) when there is no readable CEF
// event, and ErrNotDefender when the event is someone else's; a is left
// alone then.
func (d *Decoder) DecodeAlert(line []byte, a *bridge.Alert) error {
	s := string(line)
	p := syslog.Parser{Location: d.Location, Now: d.Now}
	// On error the header has no format and all of s as body.
	h, _ := p.Parse(s)

	if err := Parse(h.Body, &d.event); err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			se.Offset += h.BodyOffset
		}
		return err
	}
	if err := d.ToAlert(&d.event, a); err != nil {
		return err
	}
	if a.DetectedAt.IsZero() && !h.Timestamp.IsZero() {
		a.DetectedAt = h.Timestamp.In(d.location())
	}
	a.Raw = append([]byte(nil), line...)
	return nil
}

// Event returns the CEF event DecodeAlert read last, also when it was not a
// Defender alert.
func (d *Decoder) Event() *Event { return &d.event }

// ToAlert maps a Defender for IoT CEF event onto a, overwriting it. It
// returns ErrNotDefender, leaving a alone, when the vendor or signature ID is
// not accepted.
//
// The header gives Vendor and SignatureID as received, Sensor (product),
// SensorVersion and Title (name); the extensions the rest, their keys
// matched exactly or else regardless of case. When the severity word
// ("Major") and the header's integer disagree, the word wins: it names the
// level, where the integer is a band (8 and 9 are both Major) that a relay
// may have rewritten. An engine or start time that cannot be read is kept as
// written or left zero; it never fails the alert. Origin is
// bridge.OriginSyslogCEF; Raw and ReceivedAt are left for the caller.
func (d *Decoder) ToAlert(ev *Event, a *bridge.Alert) error {
	if !matchAny(ev.Vendor, d.Vendors, DefaultVendors) || !matchAny(ev.SignatureID, d.Signatures, DefaultSignatures) {
		return ErrNotDefender
	}
	// Fill a local and copy it once: cheaper than many writes through a
	// pointer while the garbage collector runs.
	al := bridge.Alert{
		Origin:        bridge.OriginSyslogCEF,
		Vendor:        ev.Vendor,
		SignatureID:   ev.SignatureID,
		Sensor:        ev.Product,
		SensorVersion: ev.DeviceVersion,
		Title:         ev.Name,
		Severity:      headerSeverity(ev.Severity),
	}
	for _, x := range ev.Extensions {
		switch defenderKey(x.Key) {
		case KeyMessage:
			al.Message = x.Value
		case KeyProtocol:
			al.Protocol = x.Value
		case KeySeverity:
			if s := severityWord(x.Value); s != bridge.SeverityUnknown {
				al.Severity = s
			}
		case KeyEngine:
			al.Engine = engine(x.Value)
		case KeyUUID:
			al.UUID = x.Value
		case KeyStart:
			if t, ok := ParseTime(x.Value, d.Location, d.Now); ok {
				al.DetectedAt = t
			}
		case KeySourceIP:
			al.Source.IP = x.Value
		case KeySourceMAC:
			al.Source.MAC = x.Value
		case KeyDestIP:
			al.Destination.IP = x.Value
		case KeyDestMAC:
			al.Destination.MAC = x.Value
		case KeyCategory:
			al.Category = x.Value
		}
	}
	*a = al
	return nil
}

func (d *Decoder) location() *time.Location {
	if d.Location == nil {
		return time.UTC
	}
	return d.Location
}

// defenderKey returns the Defender key k stands for, or "".
func defenderKey(k string) string {
	switch k {
	case KeyMessage, KeyProtocol, KeySeverity, KeyEngine, KeyUUID, KeyStart,
		KeySourceIP, KeySourceMAC, KeyDestIP, KeyDestMAC, KeyCategory:
		return k
	}
	for _, d := range defenderKeys {
		if strings.EqualFold(k, d) {
			return d
		}
	}
	return ""
}

// matchAny reports whether s contains one of list (or of def when list is
// nil), ignoring ASCII case.
func matchAny(s string, list, def []string) bool {
	if list == nil {
		list = def
	}
	for _, sub := range list {
		if containsFold(s, sub) {
			return true
		}
	}
	return false
}

// containsFold reports whether sub occurs in s, ignoring case, without
// allocating.
func containsFold(s, sub string) bool {
	if strings.Contains(s, sub) {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// headerSeverity reads the header's severity: an integer through
// bridge.SeverityFromCEF, or a level name.
func headerSeverity(s string) bridge.Severity {
	s = strings.TrimSpace(s)
	if n, ok := smallInt(s); ok {
		return bridge.SeverityFromCEF(n)
	}
	return severityWord(s)
}

// smallInt reads s as a non-negative integer of up to three digits.
func smallInt(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// severityWord reads a level name in any case, or returns SeverityUnknown.
func severityWord(s string) bridge.Severity {
	s = strings.TrimSpace(s)
	for _, sev := range bridge.Severities {
		if strings.EqualFold(s, sev.String()) {
			return sev
		}
	}
	return bridge.SeverityUnknown
}

// engine reads the engine in any spelling bridge.ParseEngine knows, keeping
// an engine it does not know as written.
func engine(s string) bridge.Engine {
	for _, e := range bridge.Engines {
		if s == string(e) {
			return e
		}
	}
	if e, err := bridge.ParseEngine(s); err == nil {
		return e
	}
	return bridge.Engine(s)
}

// Encoder writes alerts as the syslog CEF messages a sensor sends. The zero
// value writes what a current sensor writes, with the defaults below.
type Encoder struct {
	// Format is the syslog header; if FormatNone (the zero value),
	// FormatRFC3164, as sensors send.
	Format syslog.Format
	// Priority is the syslog priority; if zero, syslog.PriorityUserAlert
	// (<9>). kern.emerg cannot be chosen, and no sensor uses it.
	Priority syslog.Priority
	// Location is the action's timezone, of the start extension and the
	// syslog timestamp. If nil, UTC.
	Location *time.Location
	// Hostname is the syslog HOSTNAME; if empty, the alert's sensor name.
	Hostname string
	// AppName is the syslog tag (RFC 3164) or APP-NAME (RFC 5424); if
	// empty, none, as sensors send.
	AppName string
	// Now returns the current time, for the syslog timestamp of an alert
	// with neither DetectedAt nor ReceivedAt. If nil, time.Now.
	Now func() time.Time
}

// AppendAlert appends the syslog message for a to dst, without framing, and
// returns the extended slice: a syslog header, then the CEF event Event
// returns. The header's timestamp is the alert's detection time, else its
// receipt time, else now.
func (e *Encoder) AppendAlert(dst []byte, a *bridge.Alert) []byte {
	loc := e.location()
	h := syslog.Header{
		Format:   e.Format,
		Priority: e.Priority,
		Hostname: e.Hostname,
		AppName:  e.AppName,
	}
	if h.Format == syslog.FormatNone {
		h.Format = syslog.FormatRFC3164
	}
	if h.Priority == 0 {
		h.Priority = syslog.PriorityUserAlert
	}
	if h.Hostname == "" {
		h.Hostname = a.Sensor
	}
	switch {
	case !a.DetectedAt.IsZero():
		h.Timestamp = a.DetectedAt.In(loc)
	case !a.ReceivedAt.IsZero():
		h.Timestamp = a.ReceivedAt.In(loc)
	case e.Now != nil:
		h.Timestamp = e.Now().In(loc)
	default:
		h.Timestamp = time.Now().In(loc)
	}
	dst = h.Append(dst)

	// Write the event directly rather than through Event, which would
	// allocate its extensions; TestEncoder_AppendAlert holds the two equal.
	vendor, signature, severity := e.header(a)
	dst = append(dst, "CEF:0"...)
	for _, f := range [...]string{vendor, a.Sensor, a.SensorVersion, signature, a.Title, severity} {
		dst = append(dst, '|')
		dst = appendHeaderField(dst, f)
	}
	dst = append(dst, '|')

	n := len(dst)
	dst = appendExtension(dst, n, KeyMessage, a.Message)
	dst = appendExtension(dst, n, KeyProtocol, a.Protocol)
	dst = appendExtension(dst, n, KeySeverity, a.Severity.String())
	dst = appendExtension(dst, n, KeyEngine, string(a.Engine))
	dst = appendExtension(dst, n, KeyUUID, a.UUID)
	if !a.DetectedAt.IsZero() {
		if len(dst) > n {
			dst = append(dst, ' ')
		}
		// StartLayout writes nothing that needs escaping.
		dst = append(dst, KeyStart+"="...)
		dst = a.DetectedAt.In(loc).AppendFormat(dst, StartLayout)
	}
	dst = appendExtension(dst, n, KeySourceIP, a.Source.IP)
	dst = appendExtension(dst, n, KeySourceMAC, a.Source.MAC)
	dst = appendExtension(dst, n, KeyDestIP, a.Destination.IP)
	dst = appendExtension(dst, n, KeyDestMAC, a.Destination.MAC)
	dst = appendExtension(dst, n, KeyCategory, a.Category)
	return dst
}

// appendExtension appends " key=value", without the space when dst has not
// grown past start, the end of the header. An empty value is left out.
func appendExtension(dst []byte, start int, key, value string) []byte {
	if value == "" {
		return dst
	}
	if len(dst) > start {
		dst = append(dst, ' ')
	}
	dst = append(dst, key...)
	dst = append(dst, '=')
	return appendValue(dst, value)
}

// Event returns the CEF event a sensor sends for a. The header carries the
// alert's vendor and signature ID (DefenderVendor and DefenderSignatureID
// when empty), sensor name, sensor version, title and the severity integer
// (1, 4, 8 or 10; "Unknown" for an alert without level). The extensions are
// msg, protocol, severity, type, UUID, start, src_ip, src_mac, dst_ip,
// dst_mac and cat, in that order, each left out when empty; start is written
// in StartLayout in the encoder's Location.
func (e *Encoder) Event(a *bridge.Alert) Event {
	vendor, signature, severity := e.header(a)
	return Event{
		Vendor:        vendor,
		Product:       a.Sensor,
		DeviceVersion: a.SensorVersion,
		SignatureID:   signature,
		Name:          a.Title,
		Severity:      severity,
		Extensions:    e.extensions(nil, a),
	}
}

func (e *Encoder) header(a *bridge.Alert) (vendor, signature, severity string) {
	vendor, signature = a.Vendor, a.SignatureID
	if vendor == "" {
		vendor = DefenderVendor
	}
	if signature == "" {
		signature = DefenderSignatureID
	}
	severity = "Unknown"
	if n := a.Severity.CEF(); n != 0 {
		severity = strconv.Itoa(n)
	}
	return vendor, signature, severity
}

// extensions appends a's Defender extensions to x in the sensor's order.
func (e *Encoder) extensions(x Extensions, a *bridge.Alert) Extensions {
	add := func(k, v string) {
		if v != "" {
			x = append(x, Extension{Key: k, Value: v})
		}
	}
	add(KeyMessage, a.Message)
	add(KeyProtocol, a.Protocol)
	add(KeySeverity, a.Severity.String())
	add(KeyEngine, string(a.Engine))
	add(KeyUUID, a.UUID)
	if !a.DetectedAt.IsZero() {
		var buf [len(StartLayout) + 8]byte
		add(KeyStart, string(a.DetectedAt.In(e.location()).AppendFormat(buf[:0], StartLayout)))
	}
	add(KeySourceIP, a.Source.IP)
	add(KeySourceMAC, a.Source.MAC)
	add(KeyDestIP, a.Destination.IP)
	add(KeyDestMAC, a.Destination.MAC)
	add(KeyCategory, a.Category)
	return x
}

func (e *Encoder) location() *time.Location {
	if e.Location == nil {
		return time.UTC
	}
	return e.Location
}
