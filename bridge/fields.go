package bridge

import (
	"strconv"
	"time"
)

// AlertField is one field of Alert, named as in the alert's JSON form, with
// a way to read its values as text. The migration report uses the list to
// say which fields a row profile carries and which sample alerts lack them.
type AlertField struct {
	// Name is the field's JSON name; nested fields join with a dot
	// ("source.ip").
	Name string
	// Values returns the field's values as text, nil when the alert has
	// none. Lists (remediation steps) give one value per element.
	Values func(a *Alert) []string
}

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func timeValue(t time.Time) []string {
	if t.IsZero() {
		return nil
	}
	return []string{t.UTC().Format(time.RFC3339Nano)}
}

// alertFields lists every field of Alert but Raw, in declaration order.
var alertFields = []AlertField{
	{"origin", func(a *Alert) []string { return one(string(a.Origin)) }},
	{"vendor", func(a *Alert) []string { return one(a.Vendor) }},
	{"signature_id", func(a *Alert) []string { return one(a.SignatureID) }},
	{"sensor", func(a *Alert) []string { return one(a.Sensor) }},
	{"sensor_id", func(a *Alert) []string { return one(a.SensorID) }},
	{"sensor_version", func(a *Alert) []string { return one(a.SensorVersion) }},
	{"site", func(a *Alert) []string { return one(a.Site) }},
	{"site_id", func(a *Alert) []string { return one(a.SiteID) }},
	{"zone", func(a *Alert) []string { return one(a.Zone) }},
	{"zone_id", func(a *Alert) []string { return one(a.ZoneID) }},
	{"id", func(a *Alert) []string { return one(a.ID) }},
	{"uuid", func(a *Alert) []string { return one(a.UUID) }},
	{"detected_at", func(a *Alert) []string { return timeValue(a.DetectedAt) }},
	{"received_at", func(a *Alert) []string { return timeValue(a.ReceivedAt) }},
	{"title", func(a *Alert) []string { return one(a.Title) }},
	{"message", func(a *Alert) []string { return one(a.Message) }},
	{"severity", func(a *Alert) []string {
		if a.Severity == SeverityUnknown {
			return nil
		}
		return []string{a.Severity.String()}
	}},
	{"engine", func(a *Alert) []string { return one(string(a.Engine)) }},
	{"protocol", func(a *Alert) []string { return one(a.Protocol) }},
	{"category", func(a *Alert) []string { return one(a.Category) }},
	{"source.ip", func(a *Alert) []string { return one(a.Source.IP) }},
	{"source.mac", func(a *Alert) []string { return one(a.Source.MAC) }},
	{"source.name", func(a *Alert) []string { return one(a.Source.Name) }},
	{"source.device_id", func(a *Alert) []string { return one(a.Source.DeviceID) }},
	{"destination.ip", func(a *Alert) []string { return one(a.Destination.IP) }},
	{"destination.mac", func(a *Alert) []string { return one(a.Destination.MAC) }},
	{"destination.name", func(a *Alert) []string { return one(a.Destination.Name) }},
	{"destination.device_id", func(a *Alert) []string { return one(a.Destination.DeviceID) }},
	{"remediation_steps", func(a *Alert) []string { return a.RemediationSteps }},
	{"additional_info", func(a *Alert) []string {
		if a.AdditionalInfo == nil {
			return nil
		}
		out := one(a.AdditionalInfo.Description)
		return append(out, a.AdditionalInfo.Information...)
	}},
	{"handled", func(a *Alert) []string {
		if a.Handled == nil {
			return nil
		}
		return []string{strconv.FormatBool(*a.Handled)}
	}},
}

// AlertFields returns every field of Alert (but the raw message bytes), in
// declaration order.
func AlertFields() []AlertField {
	out := make([]AlertField, len(alertFields))
	copy(out, alertFields)
	return out
}

// FieldColumns says which columns of a row profile carry one alert field.
type FieldColumns struct {
	// Field is an AlertField name.
	Field string
	// Columns are the columns the field's value lands in; several when a
	// column holds it inside a composite value (AdditionalExtensions).
	Columns []string
}
