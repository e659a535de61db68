package bridge

import (
	"fmt"
	"strings"
)

// Severity is a Defender for IoT alert level. The order of the constants is
// the sensor's order: a rule's minimal alert level forwards that level and
// every higher one.
type Severity int

// The alert levels, lowest first. SeverityUnknown is an alert whose level
// could not be read.
const (
	SeverityUnknown Severity = iota
	SeverityWarning
	SeverityMinor
	SeverityMajor
	SeverityCritical
)

// Severities lists the known levels, lowest first.
var Severities = []Severity{SeverityWarning, SeverityMinor, SeverityMajor, SeverityCritical}

var severityNames = [...]string{"", "Warning", "Minor", "Major", "Critical"}

// String returns the level as the sensor writes it ("Major"), or "" for
// SeverityUnknown.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return ""
	}
	return severityNames[s]
}

// CEF returns the integer the sensor puts in the CEF severity header slot:
// 1 Warning, 4 Minor, 8 Major, 10 Critical; 0 when unknown.
func (s Severity) CEF() int {
	switch s {
	case SeverityWarning:
		return 1
	case SeverityMinor:
		return 4
	case SeverityMajor:
		return 8
	case SeverityCritical:
		return 10
	}
	return 0
}

// SeverityFromCEF maps a CEF severity integer (0 to 10) onto the sensor's
// levels. The sensor only sends 1, 4, 8 and 10; values in between map to the
// level whose band they fall in (0-3 Warning, 4-7 Minor, 8-9 Major, 10
// Critical), and anything outside 0-10 is unknown.
func SeverityFromCEF(n int) Severity {
	switch {
	case n < 0 || n > 10:
		return SeverityUnknown
	case n <= 3:
		return SeverityWarning
	case n <= 7:
		return SeverityMinor
	case n <= 9:
		return SeverityMajor
	}
	return SeverityCritical
}

// ParseSeverity reads a level name, ignoring case and surrounding space:
// Warning, Minor, Major or Critical. The Azure portal's High, Medium and Low
// are refused: Low stands for both Warning and Minor, so it cannot be mapped
// back.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "warning":
		return SeverityWarning, nil
	case "minor":
		return SeverityMinor, nil
	case "major":
		return SeverityMajor, nil
	case "critical":
		return SeverityCritical, nil
	}
	return SeverityUnknown, fmt.Errorf("unknown severity %q (want Warning, Minor, Major or Critical)", s)
}

// MarshalText writes the level name; an unknown level writes nothing.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a level name with ParseSeverity; an empty text is
// SeverityUnknown.
func (s *Severity) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = SeverityUnknown
		return nil
	}
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
