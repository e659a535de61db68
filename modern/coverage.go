package modern

import (
	"fmt"

	"github.com/otbridge/otbridge/bridge"
)

// The CommonSecurityLog columns several alert fields share.
const (
	colExtensions = "AdditionalExtensions"
	colKeyCSL     = "DeviceCustomString5"
)

// compatibleCoverage says where the compatible profile puts each alert
// field; fields it does not list are dropped, as the legacy CEF path
// dropped them (the sensor's CEF does not carry them). The alert key
// column holds detection time, title, severity and addresses only in the
// digest of an alert without UUID or id.
var compatibleCoverage = []bridge.FieldColumns{
	{Field: "vendor", Columns: []string{"DeviceVendor"}},
	{Field: "signature_id", Columns: []string{"DeviceEventClassID"}},
	{Field: "sensor", Columns: []string{"DeviceProduct", "Computer", colKeyCSL}},
	{Field: "sensor_version", Columns: []string{"DeviceVersion"}},
	{Field: "id", Columns: []string{colKeyCSL}},
	{Field: "uuid", Columns: []string{colExtensions, colKeyCSL}},
	{Field: "detected_at", Columns: []string{colExtensions, "TimeGenerated", colKeyCSL}},
	{Field: "received_at", Columns: []string{"TimeGenerated"}},
	{Field: "title", Columns: []string{"Activity", colKeyCSL}},
	{Field: "message", Columns: []string{"Message"}},
	{Field: "severity", Columns: []string{"LogSeverity", colExtensions, colKeyCSL}},
	{Field: "engine", Columns: []string{colExtensions}},
	{Field: "protocol", Columns: []string{colExtensions}},
	{Field: "category", Columns: []string{"DeviceEventCategory"}},
	{Field: "source.ip", Columns: []string{colExtensions, colKeyCSL}},
	{Field: "source.mac", Columns: []string{colExtensions}},
	{Field: "destination.ip", Columns: []string{colExtensions, colKeyCSL}},
	{Field: "destination.mac", Columns: []string{colExtensions}},
}

// enrichedCoverage adds the enriched profile's columns to the compatible
// ones.
var enrichedCoverage = map[string][]string{
	"sensor_id":         {"DeviceExternalID"},
	"site":              {"DeviceCustomString1"},
	"zone":              {"DeviceCustomString2"},
	"id":                {"ExtID"},
	"detected_at":       {"StartTime"},
	"severity":          {"OriginalLogSeverity"},
	"engine":            {"DeviceCustomString3"},
	"protocol":          {"Protocol"},
	"source.ip":         {"SourceIP"},
	"source.mac":        {"SourceMACAddress"},
	"source.name":       {"SourceHostName"},
	"destination.ip":    {"DestinationIP"},
	"destination.mac":   {"DestinationMACAddress"},
	"destination.name":  {"DestinationHostName"},
	"remediation_steps": {"DeviceCustomString4"},
}

// customCoverage is the custom table's: a column per field.
var customCoverage = []bridge.FieldColumns{
	{Field: "origin", Columns: []string{"Origin"}},
	{Field: "vendor", Columns: []string{"Vendor"}},
	{Field: "signature_id", Columns: []string{"SignatureID"}},
	{Field: "sensor", Columns: []string{"Sensor", "AlertKey"}},
	{Field: "sensor_id", Columns: []string{"SensorID"}},
	{Field: "sensor_version", Columns: []string{"SensorVersion"}},
	{Field: "site", Columns: []string{"Site"}},
	{Field: "site_id", Columns: []string{"SiteID"}},
	{Field: "zone", Columns: []string{"Zone"}},
	{Field: "zone_id", Columns: []string{"ZoneID"}},
	{Field: "id", Columns: []string{"AlertID", "AlertKey"}},
	{Field: "uuid", Columns: []string{"AlertUUID", "AlertKey"}},
	{Field: "detected_at", Columns: []string{"DetectedAt", "TimeGenerated", "AlertKey"}},
	{Field: "received_at", Columns: []string{"ReceivedAt", "TimeGenerated"}},
	{Field: "title", Columns: []string{"Title", "AlertKey"}},
	{Field: "message", Columns: []string{"Message"}},
	{Field: "severity", Columns: []string{"Severity", "SeverityLevel", "AlertKey"}},
	{Field: "engine", Columns: []string{"Engine"}},
	{Field: "protocol", Columns: []string{"Protocol"}},
	{Field: "category", Columns: []string{"Category"}},
	{Field: "source.ip", Columns: []string{"SourceIP", "AlertKey"}},
	{Field: "source.mac", Columns: []string{"SourceMAC"}},
	{Field: "source.name", Columns: []string{"SourceName"}},
	{Field: "source.device_id", Columns: []string{"SourceDeviceID"}},
	{Field: "destination.ip", Columns: []string{"DestinationIP", "AlertKey"}},
	{Field: "destination.mac", Columns: []string{"DestinationMAC"}},
	{Field: "destination.name", Columns: []string{"DestinationName"}},
	{Field: "destination.device_id", Columns: []string{"DestinationDeviceID"}},
	{Field: "remediation_steps", Columns: []string{"RemediationSteps"}},
	{Field: "additional_info", Columns: []string{"AdditionalInfo"}},
	{Field: "handled", Columns: []string{"Handled"}},
}

// ProfileCoverage says which columns of the profile's rows carry each alert
// field (bridge.AlertFields names them). A field it does not list is
// dropped by the profile. A test maps alerts that hold one field each and
// holds this table to what the rows contain.
func ProfileCoverage(profile string) ([]bridge.FieldColumns, error) {
	switch profile {
	case ProfileCompatible:
		return cloneCoverage(compatibleCoverage, nil), nil
	case ProfileEnriched:
		return cloneCoverage(compatibleCoverage, enrichedCoverage), nil
	case ProfileCustom:
		return cloneCoverage(customCoverage, nil), nil
	}
	return nil, fmt.Errorf("unknown profile %q (want %s, %s or %s)", profile, ProfileCompatible, ProfileEnriched, ProfileCustom)
}

// cloneCoverage copies base in bridge.AlertFields order, adding the extra
// columns of each field.
func cloneCoverage(base []bridge.FieldColumns, extra map[string][]string) []bridge.FieldColumns {
	cols := map[string][]string{}
	for _, fc := range base {
		cols[fc.Field] = append([]string(nil), fc.Columns...)
	}
	for f, cs := range extra {
		cols[f] = append(cols[f], cs...)
	}
	var out []bridge.FieldColumns
	for _, f := range bridge.AlertFields() {
		if cs := cols[f.Name]; len(cs) > 0 {
			out = append(out, bridge.FieldColumns{Field: f.Name, Columns: cs})
		}
	}
	return out
}

// Measure packs rows into request bodies as the sender would when they
// all wait at once (the byte and record bounds of cfg, flush delays
// ignored) and returns what goes on the wire: the rows' bytes in JSON
// arrays, the bodies' bytes after compression, and the requests. The
// migration report extrapolates daily volumes from it. cfg is a batch
// config that WithDefaults completed.
func Measure(cfg BatchConfig, rows [][]byte) (bridge.Volume, error) {
	b, err := NewBatcher(cfg, nil)
	if err != nil {
		return bridge.Volume{}, err
	}
	var v bridge.Volume
	count := func(batches []*Batch) {
		for _, bt := range batches {
			v.Bytes += float64(bt.RawBytes)
			v.Compressed += float64(len(bt.Body))
			v.Requests++
		}
	}
	for i, row := range rows {
		ready, err := b.Add(i, row)
		if err != nil {
			return bridge.Volume{}, fmt.Errorf("measure row %d: %w", i, err)
		}
		count(ready)
	}
	count(b.Flush())
	v.Alerts = float64(len(rows))
	return v, nil
}
