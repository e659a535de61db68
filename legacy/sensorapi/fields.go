package sensorapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// field is one member of a JSON object.
type field struct {
	name   string // as spelt in the document
	raw    json.RawMessage
	offset int64 // of the value, in the document
}

// object is a JSON object's members by lower-case name, so that lookups
// ignore case as encoding/json does. When a name repeats, the last wins.
type object map[string]field

// parseObject reads the members of the object in raw, which starts at
// offset base of the document.
func parseObject(raw json.RawMessage, base int64) (object, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("element is %s, want an object", kindOfRaw(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	obj := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		off := skipSpace(raw, dec.InputOffset(), ":")
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		obj[strings.ToLower(name)] = field{name: name, raw: bytes.TrimSpace(v), offset: base + off}
	}
	return obj, nil
}

// get returns the named member (lower case) unless it is absent or null.
func (o object) get(name string) (field, bool) {
	f, ok := o[name]
	if !ok || isNull(f.raw) {
		return field{}, false
	}
	return f, true
}

// hasAny reports whether any of the named members (lower case) is present,
// null or not.
func (o object) hasAny(names ...string) bool {
	for _, n := range names {
		if _, ok := o[n]; ok {
			return true
		}
	}
	return false
}

// errNoIdentity marks an element with nothing to tell its alert by.
var errNoIdentity = errors.New("alert has no id, UUID, time, title or message")

// mapAlert maps one alert object. It returns the alert and its warnings,
// or, when a field cannot be read, the error for the first such field.
func mapAlert(o object, e element) (bridge.Alert, []*ElementError, *ElementError) {
	index := e.index
	var a bridge.Alert
	var warns []*ElementError
	var fail *ElementError
	bad := func(f field, err error) {
		if fail == nil {
			fail = &ElementError{Index: index, Offset: f.offset, Field: f.name, Err: err}
		}
	}
	warn := func(f field, err error) {
		warns = append(warns, &ElementError{Index: index, Offset: f.offset, Field: f.name, Err: err})
	}
	// read applies fn to the named member when it is present and not null.
	read := func(name string, fn func(f field) error) {
		if f, ok := o.get(name); ok {
			if err := fn(f); err != nil {
				bad(f, err)
			}
		}
	}
	text := func(name string, dst *string, trim bool) {
		read(name, func(f field) (err error) {
			*dst, err = readText(f.raw)
			if trim {
				*dst = strings.TrimSpace(*dst)
			}
			return err
		})
	}

	read("id", func(f field) (err error) { a.ID, err = readID(f.raw); return err })
	read("time", func(f field) (err error) { a.DetectedAt, err = readTime(f.raw); return err })
	text("title", &a.Title, false)
	text("message", &a.Message, false)

	read("severity", func(f field) error {
		s, err := readText(f.raw)
		if err != nil || strings.TrimSpace(s) == "" {
			return err
		}
		if a.Severity, err = bridge.ParseSeverity(s); err != nil {
			warn(f, err)
		}
		return nil
	})
	read("engine", func(f field) error {
		s, err := readText(f.raw)
		if err != nil || strings.TrimSpace(s) == "" {
			return err
		}
		if a.Engine, err = bridge.ParseEngine(s); err != nil {
			a.Engine = bridge.Engine(strings.TrimSpace(s))
			warn(f, err)
		}
		return nil
	})

	a.Source = readEndpoint(o, "sourcedevice", "sourcedeviceaddress", bad, warn)
	a.Destination = readEndpoint(o, "destinationdevice", "destinationdeviceaddress", bad, warn)

	read("remediationsteps", func(f field) (err error) { a.RemediationSteps, err = readList(f.raw); return err })
	if f, ok := o.get("additionalinformation"); ok {
		info, at, err := readAdditional(f)
		if err != nil {
			bad(at, err)
		}
		a.AdditionalInfo = info
	}

	// The management console's fields.
	read("sensorid", func(f field) (err error) { a.SensorID, err = readID(f.raw); return err })
	read("siteid", func(f field) (err error) { a.SiteID, err = readID(f.raw); return err })
	read("zoneid", func(f field) (err error) { a.ZoneID, err = readID(f.raw); return err })
	text("sensorname", &a.Sensor, true)
	text("sitename", &a.Site, true)
	text("zonename", &a.Zone, true)
	text("uuid", &a.UUID, true)
	read("handled", func(f field) (err error) { a.Handled, err = readBool(f.raw); return err })

	if fail == nil && a.ID == "" && a.UUID == "" && a.DetectedAt.IsZero() && a.Title == "" && a.Message == "" {
		fail = &ElementError{Index: index, Offset: e.offset, Err: errNoIdentity}
	}
	if fail != nil {
		return bridge.Alert{}, nil, fail
	}
	return a, warns, nil
}

// readEndpoint reads one side of the traffic from a device member (a device
// id or a name) and an address member (an IP address).
//
// The address goes to IP, or to MAC when it reads as one; anything else is
// kept in IP verbatim with a warning. The device member is a device id when
// it is a number or a string of digits, kept in DeviceID. A device string that is an IP or MAC address fills
// IP or MAC when the address member did not; any other string is the
// device's name.
func readEndpoint(o object, device, address string, bad, warn func(field, error)) bridge.Endpoint {
	var ep bridge.Endpoint
	if f, ok := o.get(address); ok {
		s, err := readText(f.raw)
		switch s = strings.TrimSpace(s); {
		case err != nil:
			bad(f, err)
		case s == "":
		case isIP(s):
			ep.IP = s
		case isMAC(s):
			ep.MAC = s
		default:
			ep.IP = s
			warn(f, fmt.Errorf("%q is not an IP address", s))
		}
	}
	if f, ok := o.get(device); ok {
		s, err := readText(f.raw)
		switch s = strings.TrimSpace(s); {
		case err != nil:
			bad(f, err)
		case s == "":
		case isDigits(s) || f.raw[0] != '"':
			ep.DeviceID = s
		case isIP(s):
			if ep.IP == "" {
				ep.IP = s
			}
		case isMAC(s):
			if ep.MAC == "" {
				ep.MAC = s
			}
		default:
			ep.Name = s
		}
	}
	return ep
}

// readAdditional reads additionalInformation: an object with description
// and information, where information is a list of text or a single text. A
// bare string is taken as the description. It returns nil when both are
// empty, and on error the field at fault.
func readAdditional(f field) (*bridge.AdditionalInfo, field, error) {
	var info bridge.AdditionalInfo
	switch f.raw[0] {
	case '"':
		s, err := readText(f.raw)
		if err != nil {
			return nil, f, err
		}
		info.Description = s
	case '{':
		obj, err := parseObject(f.raw, f.offset)
		if err != nil {
			return nil, f, err
		}
		if d, ok := obj.get("description"); ok {
			if info.Description, err = readText(d.raw); err != nil {
				return nil, nested(f, d), err
			}
		}
		if i, ok := obj.get("information"); ok {
			if info.Information, err = readList(i.raw); err != nil {
				return nil, nested(f, i), err
			}
		}
	default:
		return nil, f, fmt.Errorf("is %s, want an object", kindOfRaw(f.raw))
	}
	if strings.TrimSpace(info.Description) == "" && len(info.Information) == 0 {
		return nil, f, nil
	}
	return &info, f, nil
}

// nested names a member of an object member for an error.
func nested(parent, child field) field {
	child.name = parent.name + "." + child.name
	return child
}

// readText reads a string, a number or a boolean as text; null is "".
func readText(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case 'n':
		return "", nil
	case '{', '[':
		return "", fmt.Errorf("is %s, want text", kindOfRaw(raw))
	}
	return string(raw), nil
}

// readID reads an id given as a whole number or as a string.
func readID(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		s, err := readText(raw)
		return strings.TrimSpace(s), err
	case 'n':
		return "", nil
	case '{', '[', 't', 'f':
		return "", fmt.Errorf("is %s, want a number or a string", kindOfRaw(raw))
	}
	s := string(raw)
	if isDigits(strings.TrimPrefix(s, "-")) {
		return s, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return "", fmt.Errorf("%s is not a whole number", s)
	}
	return strconv.FormatInt(int64(f), 10), nil
}

// maxMillis is the last millisecond of year 9999, the last time that
// encoding/json can write; later times are refused.
var maxMillis = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli()

// readTime reads epoch milliseconds given as a number or a numeric string,
// or an RFC 3339 string. Zero, null and "" mean unknown and give the zero
// time.
func readTime(raw json.RawMessage) (time.Time, error) {
	var s string
	switch raw[0] {
	case '"':
		var err error
		if s, err = readText(raw); err != nil {
			return time.Time{}, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				return time.Time{}, fmt.Errorf("%q is out of range", s)
			}
			return t.UTC(), nil
		}
		if strings.Trim(s, "0123456789.eE+-") != "" {
			return time.Time{}, fmt.Errorf("%q is neither epoch milliseconds nor an RFC 3339 time", s)
		}
	case 'n':
		return time.Time{}, nil
	case '{', '[', 't', 'f':
		return time.Time{}, fmt.Errorf("is %s, want epoch milliseconds", kindOfRaw(raw))
	default:
		s = string(raw)
	}

	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > maxMillis {
			return time.Time{}, fmt.Errorf("%s is out of range for epoch milliseconds", s)
		}
		if n == 0 {
			return time.Time{}, nil
		}
		return time.UnixMilli(n).UTC(), nil
	}
	ms, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "nN") { // refuse NaN and Inf
		return time.Time{}, fmt.Errorf("%q is not epoch milliseconds", s)
	}
	if ms < 0 || ms > float64(maxMillis) {
		return time.Time{}, fmt.Errorf("%s is out of range for epoch milliseconds", s)
	}
	if ms == 0 {
		return time.Time{}, nil
	}
	return time.UnixMicro(int64(math.Round(ms * 1000))).UTC(), nil
}

// readBool reads true or false, also written as a string or as 0 and 1.
func readBool(raw json.RawMessage) (*bool, error) {
	s, err := readText(raw)
	if err != nil {
		return nil, err
	}
	var v bool
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, nil
	case "true", "1":
		v = true
	case "false", "0":
		v = false
	default:
		return nil, fmt.Errorf("%s is not a boolean", raw)
	}
	return &v, nil
}

// readList reads a list of text, or a single text as a list of one. Items
// lose surrounding white space; null and blank items are dropped.
func readList(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
	case '{':
		return nil, fmt.Errorf("is an object, want a list of text")
	default:
		items = []json.RawMessage{raw}
	}
	var out []string
	for i, item := range items {
		s, err := readText(item)
		if err != nil {
			if len(items) > 1 || raw[0] == '[' {
				return nil, fmt.Errorf("item %d %w", i, err)
			}
			return nil, err
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func isMAC(s string) bool {
	_, err := net.ParseMAC(s)
	return err == nil
}

// kindOfRaw names the JSON type of a raw value for an error message.
func kindOfRaw(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
