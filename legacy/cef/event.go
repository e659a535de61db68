package cef

import (
	"errors"
	"strconv"
)

// Event is one CEF event: the header fields, unescaped, and the extensions in
// the order they appear.
type Event struct {
	// Version is the number after "CEF:"; 0 for CEF 0.1, 1 for CEF 1.x.
	Version       int
	Vendor        string
	Product       string
	DeviceVersion string
	SignatureID   string
	Name          string
	// Severity is the header's severity as written: usually an integer 0 to
	// 10; revision 25 also allows Unknown, Low, Medium, High and Very-High.
	Severity   string
	Extensions Extensions
}

// Extension is one key=value pair of a CEF event, the value unescaped.
type Extension struct {
	Key   string
	Value string
}

// Extensions is the ordered list of an event's extensions. A key may appear
// more than once; the last occurrence wins, as in Get and Map.
type Extensions []Extension

// Get returns the value of the last extension named key; ok is false when
// there is none. Keys are case-sensitive.
func (x Extensions) Get(key string) (value string, ok bool) {
	for i := len(x) - 1; i >= 0; i-- {
		if x[i].Key == key {
			return x[i].Value, true
		}
	}
	return "", false
}

// Map returns the extensions as a map, later duplicates overwriting earlier
// ones.
func (x Extensions) Map() map[string]string {
	m := make(map[string]string, len(x))
	for _, e := range x {
		m[e.Key] = e.Value
	}
	return m
}

// ErrNotCEF is returned for a line that holds no "CEF:" followed by a
// version number.
var ErrNotCEF = errors.New("no cef event in line")

// SyntaxError reports a CEF line that breaks the format.
type SyntaxError struct {
	// Offset is the byte in the line where the problem is.
	Offset int
	// Msg says what is wrong, such as "cef header has 5 of 7 fields".
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return e.Msg + " at byte " + strconv.Itoa(e.Offset)
}
