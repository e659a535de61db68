// Package leef reads and writes LEEF, the Log Event Extended Format that
// IBM QRadar defined and that a Defender for IoT forwarding rule of type
// "Syslog server, LEEF" emits, and maps a Defender for IoT LEEF message onto
// a bridge.Alert.
//
// The codec is separate from the Defender mapping: Decode turns one line
// into a Message (header fields and ordered attributes) without knowing who
// produced it, Append renders a Message back into a line, and Mapper.Alert
// reads the attributes a sensor writes. Neither touches the network; the
// syslog listener strips framing and hands the message text to Decode.
//
// LEEF producers disagree in small ways, so the decoder is tolerant where
// the meaning stays clear and strict where it would have to guess. Each
// tolerance is described on Decode.
package leef

import "strings"

// The LEEF versions this package reads and writes.
const (
	Version1 = "1.0"
	Version2 = "2.0"
)

// DefaultDelimiter separates attributes when a message does not declare a
// delimiter: always in LEEF 1.0, and in LEEF 2.0 when the delimiter field is
// absent or empty.
const DefaultDelimiter = '\t'

// Attribute is one key=value pair of a LEEF message, as received: the key
// without surrounding white space, the value verbatim.
type Attribute struct {
	Key   string
	Value string
}

// Message is one decoded LEEF message: the header fields and the attributes
// in the order they appeared.
type Message struct {
	// Version is Version1 or Version2.
	Version string
	// Vendor, Product, ProductVersion and EventID are the header fields,
	// with escaped pipes ("\|") and backslashes ("\\") unescaped.
	Vendor         string
	Product        string
	ProductVersion string
	EventID        string
	// Delimiter separates the attributes. Zero means DefaultDelimiter.
	Delimiter rune
	// Attributes are the key=value pairs in message order. A key may repeat.
	Attributes []Attribute
}

// Get returns the value of the first attribute named key, or "" when there
// is none. Keys compare exactly, as LEEF defines them.
func (m *Message) Get(key string) string {
	v, _ := m.Lookup(key)
	return v
}

// Lookup returns the value of the first attribute named key and whether
// there is one.
func (m *Message) Lookup(key string) (string, bool) {
	for _, a := range m.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Map returns the attributes as a map. When a key repeats, the first value
// wins, as with Get.
func (m *Message) Map() map[string]string {
	out := make(map[string]string, len(m.Attributes))
	for _, a := range m.Attributes {
		if _, dup := out[a.Key]; !dup {
			out[a.Key] = a.Value
		}
	}
	return out
}

// delimiter returns the message's attribute delimiter, DefaultDelimiter
// when none is set.
func (m *Message) delimiter() rune {
	if m.Delimiter == 0 {
		return DefaultDelimiter
	}
	return m.Delimiter
}

// lookupFold returns the first non-empty value among keys, comparing keys
// without regard to case, trying each key in turn.
func (m *Message) lookupFold(keys ...string) (key, value string) {
	for _, k := range keys {
		for _, a := range m.Attributes {
			if strings.EqualFold(a.Key, k) && strings.TrimSpace(a.Value) != "" {
				return a.Key, a.Value
			}
		}
	}
	return "", ""
}
