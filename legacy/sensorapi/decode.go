package sensorapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Decode reads a whole document from r, at most MaxBytes of it, and
// decodes it with DecodeBytes.
func (d *Decoder) Decode(r io.Reader) (*Result, error) {
	limit := d.maxBytes()
	doc, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	if int64(len(doc)) > limit {
		return nil, fmt.Errorf("decode alerts: document exceeds %d bytes (raise the size limit if this is expected): %w", limit, ErrTooLarge)
	}
	return d.DecodeBytes(doc)
}

// DecodeBytes decodes a document: a JSON array of alerts, or null for none.
// A leading byte order mark is skipped, and offsets in errors count from
// the byte after it.
//
// Member names match in any case, at every level, and null counts as
// absent. The members map onto bridge.Alert as follows:
//
//   - id, sensorId: ID, SensorID; a whole number or a string.
//   - time: DetectedAt; epoch milliseconds (UTC) as a number, with or
//     without a fraction, or as a string of one; an RFC 3339 string is read
//     too. Zero means unknown. Times after year 9999 are refused.
//   - title, message: Title, Message, verbatim.
//   - severity: Severity, read with bridge.ParseSeverity in any case.
//   - engine: Engine, read with bridge.ParseEngine; an engine it does not
//     know is kept verbatim, so that a rule's engine filter excludes it as
//     the sensor's would.
//   - sourceDeviceAddress, destinationDeviceAddress: Source.IP and
//     Destination.IP, or MAC when the value is a MAC address.
//   - sourceDevice, destinationDevice: a number, or a string of digits, is
//     the sensor's device id, Endpoint.DeviceID. Another string is an IP or MAC address (used when the address
//     member gave none) or else the device name, Endpoint.Name.
//   - remediationSteps: RemediationSteps; a list or a single string.
//   - additionalInformation: AdditionalInfo, with description and
//     information (a list or a single string); a bare string is taken as
//     the description.
//   - sensorName, siteName, zoneName, UUID: Sensor, Site, Zone, UUID;
//     siteId, zoneId: SiteID, ZoneID.
//   - handled: Handled; true or false, also as a string or 0 and 1.
//
// Members otbridge does not use are not read, whatever their type. Text
// used as an identifier or name loses surrounding white space, as do list
// items; blank items are dropped.
//
// An element that is not an object, holds none of id, UUID, time, title and
// message, or has a member of a type no version of the API sends (an
// object for a title, a word for a time), gives no alert and is listed in
// Result.Skipped with the first member at fault; the other elements are
// still read. An unknown severity or engine, or a device address that is
// neither an IP nor a MAC address (kept in IP as it is), keeps the alert
// and is listed in Result.Warnings.
//
// A document that is not an array, or over MaxBytes, is an error and gives
// no Result. A document that breaks off or turns into invalid JSON part way
// cannot be read further: DecodeBytes then returns the alerts before that
// point together with an error giving the offset. ReceivedAt and Raw are
// left for the caller.
func (d *Decoder) DecodeBytes(doc []byte) (*Result, error) {
	if limit := d.maxBytes(); int64(len(doc)) > limit {
		return nil, fmt.Errorf("decode alerts: document of %d bytes exceeds %d (raise the size limit if this is expected): %w", len(doc), limit, ErrTooLarge)
	}
	doc = bytes.TrimPrefix(doc, []byte("\uFEFF"))

	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("decode alerts: empty document, want a JSON array of alerts")
	case err != nil:
		return nil, fmt.Errorf("decode alerts: %w", describeSyntax(err, len(doc)))
	}
	var elems []element
	var brokenErr error
	switch tok {
	case nil: // null: no alerts
	case json.Delim('['):
		elems, brokenErr = readElements(dec, doc)
	default:
		return nil, fmt.Errorf("decode alerts: document is %s, want a JSON array of alerts", kindOf(tok))
	}

	res := d.mapElements(elems)
	if brokenErr != nil {
		return res, fmt.Errorf("decode alerts: %w", brokenErr)
	}
	if end := skipSpace(doc, dec.InputOffset(), ""); end < int64(len(doc)) {
		return res, fmt.Errorf("decode alerts: unexpected data after the array at offset %d", end)
	}
	return res, nil
}

func (d *Decoder) maxBytes() int64 {
	if d.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return d.MaxBytes
}

// element is one raw element of the alert array.
type element struct {
	index  int
	offset int64
	raw    json.RawMessage
}

// readElements reads the elements of the array whose opening bracket dec
// has just consumed, and its closing bracket. It returns the elements read
// and, if the array breaks off, an error saying where.
func readElements(dec *json.Decoder, doc []byte) ([]element, error) {
	var elems []element
	for dec.More() {
		start := skipSpace(doc, dec.InputOffset(), ",")
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return elems, fmt.Errorf("alert %d at offset %d: %w", len(elems), start, describeSyntax(err, len(doc)))
		}
		elems = append(elems, element{index: len(elems), offset: start, raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return elems, fmt.Errorf("array not closed: %w", describeSyntax(err, len(doc)))
	}
	return elems, nil
}

// describeSyntax turns a decoding error into one that names its offset in
// a document of size bytes.
func describeSyntax(err error, size int) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at offset %d: %w", syn.Offset, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("document ends early, after %d bytes", size)
	}
	return err
}

// skipSpace returns the offset of the first byte at or after off that is
// neither JSON white space nor one of the separators in seps.
func skipSpace(doc []byte, off int64, seps string) int64 {
	for off < int64(len(doc)) {
		switch c := doc[off]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case strings.IndexByte(seps, c) >= 0:
		default:
			return off
		}
		off++
	}
	return off
}

// kindOf names the JSON type of a token for an error message.
func kindOf(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// mapElements turns raw elements into alerts, deciding the origin first.
func (d *Decoder) mapElements(elems []element) *Result {
	objs := make([]object, len(elems))
	errs := make([]error, len(elems))
	api := d.API
	for i, e := range elems {
		objs[i], errs[i] = parseObject(e.raw, e.offset)
		if errs[i] == nil && api == APIAuto && objs[i].hasAny(consoleOnlyFields...) {
			api = APIConsole
		}
	}

	res := &Result{Origin: api.origin()}
	for i, e := range elems {
		if errs[i] != nil {
			res.Skipped = append(res.Skipped, &ElementError{Index: e.index, Offset: e.offset, Err: errs[i]})
			continue
		}
		a, warns, fail := mapAlert(objs[i], e)
		if fail != nil {
			res.Skipped = append(res.Skipped, fail)
			continue
		}
		res.Warnings = append(res.Warnings, warns...)
		a.Origin = res.Origin
		if a.Sensor == "" {
			a.Sensor = d.Sensor
		}
		res.Alerts = append(res.Alerts, a)
	}
	return res
}

// consoleOnlyFields are the fields, lower case, that only the management
// console sends.
var consoleOnlyFields = []string{"sensorid", "zoneid", "siteid", "handled", "uuid", "sensorname", "zonename", "sitename"}
