// Package sensorapi decodes the alert lists of the Defender for IoT REST
// APIs into bridge.Alert values: the sensor's GET /api/v1/alerts and
// /api/v2/alerts, and the on-premises management console's GET
// /external/v1/alerts and /external/v2/alerts.
//
// It only decodes; the HTTP client and the poller that keeps a checkpoint
// live elsewhere, so this package can be tested, and fuzzed, on documents
// alone. The documents are read with slack where the published examples and
// real appliances vary: field names in any case, null in any field, ids and
// times as numbers or strings, remediation steps as one string or a list. One malformed alert does not cost the others: each
// element of the array is decoded on its own, and the ones that cannot be
// read are reported with their position.
package sensorapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/otbridge/otbridge/bridge"
)

// API names the API a document came from.
type API int

// The APIs. APIAuto guesses from the fields present: a document in which
// any alert has a field only the management console sends (sensorId,
// zoneId, siteId, handled, UUID, sensorName, zoneName, siteName) is a
// console document, any other a sensor document.
const (
	APIAuto API = iota
	APISensor
	APIConsole
)

// String returns "auto", "sensor" or "console".
func (a API) String() string {
	switch a {
	case APISensor:
		return "sensor"
	case APIConsole:
		return "console"
	case APIAuto:
		return "auto"
	}
	return fmt.Sprintf("API(%d)", int(a))
}

// ParseAPI reads "auto", "sensor" or "console", ignoring case; an empty
// string is APIAuto. "management-console" is accepted for APIConsole.
func ParseAPI(s string) (API, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return APIAuto, nil
	case "sensor":
		return APISensor, nil
	case "console", "management-console":
		return APIConsole, nil
	}
	return APIAuto, fmt.Errorf("unknown api %q (want auto, sensor or console)", s)
}

// origin returns the origin of alerts from the API.
func (a API) origin() bridge.Origin {
	if a == APIConsole {
		return bridge.OriginConsoleAPI
	}
	return bridge.OriginSensorAPI
}

// DefaultMaxBytes is the largest document a zero Decoder reads: 64 MiB.
const DefaultMaxBytes = 64 << 20

// ErrTooLarge is wrapped by the error Decode returns for a document over
// the Decoder's MaxBytes.
var ErrTooLarge = errors.New("alert document too large")

// Decoder decodes alert documents. The zero value is ready to use.
type Decoder struct {
	// API says which API the documents come from, which sets the alerts'
	// Origin. If zero, APIAuto.
	API API
	// MaxBytes bounds the size of a document. If zero, DefaultMaxBytes.
	MaxBytes int64
	// Sensor, if set, fills Alert.Sensor for alerts that carry no sensor
	// name: the sensor API never does, since the caller knows which sensor
	// it asked.
	Sensor string
}

// Result is what Decode read from a document.
type Result struct {
	// Origin is the origin given to every alert: bridge.OriginSensorAPI or
	// bridge.OriginConsoleAPI.
	Origin bridge.Origin
	// Alerts are the alerts read, in document order.
	Alerts []bridge.Alert
	// Skipped lists the elements that gave no alert, one entry each, in
	// document order.
	Skipped []*ElementError
	// Warnings lists problems in alerts that were kept: a field left unset
	// or kept verbatim, such as an unknown severity.
	Warnings []*ElementError
}

// ElementError is a problem with one element of the alert array.
type ElementError struct {
	// Index is the element's position in the array, from 0.
	Index int
	// Offset is the byte offset in the document of the field's value, or of
	// the element when Field is empty.
	Offset int64
	// Field is the field at fault, spelt as in the document, or empty when
	// the element as a whole is.
	Field string
	Err   error
}

// Error describes the problem with its position.
func (e *ElementError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("alert %d at offset %d: %v", e.Index, e.Offset, e.Err)
	}
	return fmt.Sprintf("alert %d at offset %d: field %s: %v", e.Index, e.Offset, e.Field, e.Err)
}

// Unwrap returns the underlying error.
func (e *ElementError) Unwrap() error { return e.Err }
