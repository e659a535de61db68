package leef

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// ErrNotDefender is returned by Mapper.Alert for a well-formed LEEF message
// that another product sent, or that carries an event ID the Mapper does
// not accept. Callers count it as "not an alert" rather than as a failure.
var ErrNotDefender = errors.New("not a defender for iot alert")

// DefaultVendors are the LEEF header vendors of Defender for IoT sensors:
// the current brand and the older CyberX one.
var DefaultVendors = []string{"Microsoft Defender for IoT", "CyberX"}

// Warning is a problem Mapper.Alert worked around: the alert is still
// usable, with the field the attribute feeds left empty or kept verbatim.
type Warning struct {
	Key   string // the attribute, as spelt in the message
	Value string
	Err   error
}

// String describes the warning for a log line.
func (w Warning) String() string {
	return fmt.Sprintf("leef attribute %s=%q: %v", w.Key, w.Value, w.Err)
}

// Mapper turns Defender for IoT LEEF messages into alerts. The zero value
// accepts both vendor brands, any event ID, and reads zoneless times as UTC.
type Mapper struct {
	// Vendors lists the header vendors that mark a Defender for IoT message,
	// compared without regard to case or runs of white space. If empty,
	// DefaultVendors.
	Vendors []string
	// EventIDs, if not empty, lists the header event IDs accepted (the
	// current sensors send "Microsoft Defender for IoT Alert"), compared
	// like Vendors. If empty, any event ID is accepted: the documentation
	// does not list the older ones.
	EventIDs []string
	// Location is the time zone of times that carry none, which is the
	// forwarding rule's timezone setting. If nil, UTC.
	Location *time.Location
}

// Alert maps a decoded LEEF message onto an alert, or returns an error
// wrapping ErrNotDefender when the vendor or event ID does not match.
//
// The header gives Vendor, SignatureID (the event ID) and SensorVersion.
// The attributes of the current format (title msg protocol severity type
// start src_ip dst_ip cat) and of the older CyberX one (devTime
// devTimeFormat sev title reporter alertId engine senderName UUID site zone
// dst dstName msg) map as follows; keys compare without regard to case, an
// empty value counts as absent, and where several keys feed one field the
// first present wins:
//
//   - Title: title. Message: msg. Protocol: protocol, proto. Category: cat.
//   - Severity: severity (a word), else sev (a word, or the number 1 to 10
//     read with bridge.SeverityFromCEF).
//   - Engine: type, engine, read with bridge.ParseEngine; an unknown engine
//     is kept verbatim, so engine filters exclude it as the sensor would.
//   - DetectedAt: start, else devTime read with devTimeFormat (a Java
//     pattern, see GoLayout); a value the format does not fit, or no format,
//     is tried as epoch milliseconds and common layouts. Times without a
//     zone are in Location.
//   - ID: alertId. UUID: UUID. Site: site. Zone: zone.
//   - Sensor: reporter, else senderName. The LEEF product field is the
//     constant "Sensor", so a message without either leaves Sensor empty;
//     the caller may fill it from the syslog header's host name.
//   - Source and Destination: src_ip or src, src_mac or srcMAC, srcName;
//     dst_ip or dst, dst_mac or dstMAC, dstName; all verbatim.
//
// The CyberX attributes score, rta and actions have no counterpart in
// bridge.Alert and are dropped. An unknown severity or engine and an
// unreadable time do not fail the mapping: the field stays unset (the
// engine verbatim) and a Warning says why. Origin is
// bridge.OriginSyslogLEEF; ReceivedAt and Raw are left for the caller.
func (mp *Mapper) Alert(msg *Message) (bridge.Alert, []Warning, error) {
	vendors := mp.Vendors
	if len(vendors) == 0 {
		vendors = DefaultVendors
	}
	if !containsLoose(vendors, msg.Vendor) {
		return bridge.Alert{}, nil, fmt.Errorf("leef vendor %q: %w", msg.Vendor, ErrNotDefender)
	}
	if len(mp.EventIDs) > 0 && !containsLoose(mp.EventIDs, msg.EventID) {
		return bridge.Alert{}, nil, fmt.Errorf("leef event id %q: %w", msg.EventID, ErrNotDefender)
	}
	loc := mp.Location
	if loc == nil {
		loc = time.UTC
	}

	var warns []Warning
	warn := func(key, value string, err error) {
		warns = append(warns, Warning{Key: key, Value: value, Err: err})
	}
	get := func(keys ...string) string {
		_, v := msg.lookupFold(keys...)
		return strings.TrimSpace(v)
	}
	verbatim := func(keys ...string) string {
		_, v := msg.lookupFold(keys...)
		return v
	}

	a := bridge.Alert{
		Origin:        bridge.OriginSyslogLEEF,
		Vendor:        msg.Vendor,
		SignatureID:   msg.EventID,
		SensorVersion: strings.TrimSpace(msg.ProductVersion),
		Sensor:        get("reporter", "senderName"),
		Site:          get("site"),
		Zone:          get("zone"),
		ID:            get("alertId"),
		UUID:          get("UUID"),
		Title:         verbatim("title"),
		Message:       verbatim("msg"),
		Protocol:      get("protocol", "proto"),
		Category:      get("cat"),
		Source: bridge.Endpoint{
			IP:   get("src_ip", "src"),
			MAC:  get("src_mac", "srcMAC"),
			Name: get("srcName"),
		},
		Destination: bridge.Endpoint{
			IP:   get("dst_ip", "dst"),
			MAC:  get("dst_mac", "dstMAC"),
			Name: get("dstName"),
		},
	}

	if key, v := msg.lookupFold("severity", "sev"); key != "" {
		sev, err := parseSeverity(v)
		if err != nil {
			warn(key, v, err)
		}
		a.Severity = sev
	}

	if key, v := msg.lookupFold("type", "engine"); key != "" {
		eng, err := bridge.ParseEngine(v)
		if err != nil {
			eng = bridge.Engine(strings.TrimSpace(v))
			warn(key, v, err)
		}
		a.Engine = eng
	}

	for _, key := range []string{"start", "devTime"} {
		k, v := msg.lookupFold(key)
		if k == "" {
			continue
		}
		var layout string
		if strings.EqualFold(k, "devTime") {
			if fk, f := msg.lookupFold("devTimeFormat"); fk != "" {
				l, err := GoLayout(strings.TrimSpace(f))
				if err != nil {
					warn(fk, f, err)
				}
				layout = l
			}
		}
		t, err := parseTime(v, layout, loc)
		if err != nil {
			warn(k, v, err)
			continue
		}
		a.DetectedAt = t
		break
	}

	return a, warns, nil
}

// parseSeverity reads a severity word, or a LEEF sev number from 1 to 10.
func parseSeverity(v string) (bridge.Severity, error) {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if n < 1 || n > 10 {
			return bridge.SeverityUnknown, fmt.Errorf("severity %d is outside 1 to 10", n)
		}
		return bridge.SeverityFromCEF(n), nil
	}
	return bridge.ParseSeverity(v)
}

// containsLoose reports whether list holds s, ignoring case and runs of
// white space.
func containsLoose(list []string, s string) bool {
	s = looseKey(s)
	return slices.ContainsFunc(list, func(v string) bool { return looseKey(v) == s })
}

func looseKey(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
