package modern

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// coverageSetters give an alert a value in one field each.
var coverageSetters = map[string]func(a *bridge.Alert){
	"origin":                func(a *bridge.Alert) { a.Origin = bridge.OriginConsoleAPI },
	"vendor":                func(a *bridge.Alert) { a.Vendor = "CyberX" },
	"signature_id":          func(a *bridge.Alert) { a.SignatureID = "Azure Defender for IoT Alert" },
	"sensor":                func(a *bridge.Alert) { a.Sensor = "plant-7" },
	"sensor_id":             func(a *bridge.Alert) { a.SensorID = "12" },
	"sensor_version":        func(a *bridge.Alert) { a.SensorVersion = "24.1.3" },
	"site":                  func(a *bridge.Alert) { a.Site = "North" },
	"site_id":               func(a *bridge.Alert) { a.SiteID = "3" },
	"zone":                  func(a *bridge.Alert) { a.Zone = "Filtration" },
	"zone_id":               func(a *bridge.Alert) { a.ZoneID = "4" },
	"id":                    func(a *bridge.Alert) { a.ID = "881" },
	"uuid":                  func(a *bridge.Alert) { a.UUID = "1-1796018580000" },
	"detected_at":           func(a *bridge.Alert) { a.DetectedAt = time.Date(2026, 11, 30, 6, 3, 0, 0, time.UTC) },
	"received_at":           func(a *bridge.Alert) { a.ReceivedAt = time.Date(2026, 11, 30, 6, 3, 1, 0, time.UTC) },
	"title":                 func(a *bridge.Alert) { a.Title = "Unauthorized PLC Programming" },
	"message":               func(a *bridge.Alert) { a.Message = "a PLC was programmed" },
	"severity":              func(a *bridge.Alert) { a.Severity = bridge.SeverityMajor },
	"engine":                func(a *bridge.Alert) { a.Engine = bridge.EnginePolicyViolation },
	"protocol":              func(a *bridge.Alert) { a.Protocol = "S7" },
	"category":              func(a *bridge.Alert) { a.Category = "Unauthorized Communication Behavior" },
	"source.ip":             func(a *bridge.Alert) { a.Source.IP = "10.0.0.1" },
	"source.mac":            func(a *bridge.Alert) { a.Source.MAC = "00:11:22:33:44:55" },
	"source.name":           func(a *bridge.Alert) { a.Source.Name = "hmi-1" },
	"source.device_id":      func(a *bridge.Alert) { a.Source.DeviceID = "101" },
	"destination.ip":        func(a *bridge.Alert) { a.Destination.IP = "10.0.0.2" },
	"destination.mac":       func(a *bridge.Alert) { a.Destination.MAC = "00:11:22:33:44:66" },
	"destination.name":      func(a *bridge.Alert) { a.Destination.Name = "plc-1" },
	"destination.device_id": func(a *bridge.Alert) { a.Destination.DeviceID = "102" },
	"remediation_steps":     func(a *bridge.Alert) { a.RemediationSteps = []string{"check the PLC"} },
	"additional_info":       func(a *bridge.Alert) { a.AdditionalInfo = &bridge.AdditionalInfo{Description: "d"} },
	"handled":               func(a *bridge.Alert) { h := true; a.Handled = &h },
}

// TestProfileCoverage holds each profile's coverage table to its rows: an
// alert holding one field changes exactly the listed columns of the row of
// an empty alert, and a field not listed changes nothing. The constant
// label columns that come with a value (DeviceCustomString1Label) are not
// counted.
func TestProfileCoverage(t *testing.T) {
	if len(coverageSetters) != len(bridge.AlertFields()) {
		t.Fatalf("%d setters for %d alert fields: add the missing field", len(coverageSetters), len(bridge.AlertFields()))
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, profile := range Profiles {
		t.Run(profile, func(t *testing.T) {
			cov, err := ProfileCoverage(profile)
			if err != nil {
				t.Fatal(err)
			}
			listed := map[string][]string{}
			for _, fc := range cov {
				listed[fc.Field] = fc.Columns
			}
			m, err := NewRowMapper(Config{Profile: profile}, WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			row := func(a *bridge.Alert) map[string]any {
				b, _, err := m.AppendRow(nil, a, bridge.PathModern)
				if err != nil {
					t.Fatal(err)
				}
				var out map[string]any
				if err := json.Unmarshal(b, &out); err != nil {
					t.Fatalf("row %s: %v", b, err)
				}
				return out
			}
			base := row(&bridge.Alert{})
			for _, f := range bridge.AlertFields() {
				a := &bridge.Alert{}
				coverageSetters[f.Name](a)
				got := row(a)
				var changed []string
				for k, v := range got {
					if !reflect.DeepEqual(base[k], v) {
						changed = append(changed, k)
					}
				}
				for k := range base {
					if _, ok := got[k]; !ok {
						changed = append(changed, k)
					}
				}
				changed = slices.DeleteFunc(changed, func(k string) bool { return strings.HasSuffix(k, "Label") })
				slices.Sort(changed)
				want := slices.Sorted(slices.Values(listed[f.Name]))
				if !slices.Equal(changed, want) {
					t.Errorf("field %s changes columns %v, coverage lists %v", f.Name, changed, want)
				}
			}
		})
	}
}

func TestProfileCoverage_unknown(t *testing.T) {
	if _, err := ProfileCoverage("syslog"); err == nil {
		t.Fatal("unknown profile accepted")
	}
}

func TestMeasure(t *testing.T) {
	cfg := Config{}.WithDefaults().Batch
	row := []byte(`{"TimeGenerated":"2026-11-30T06:03:00Z","DeviceVendor":"Microsoft Defender for IoT","Message":"a PLC was programmed"}`)
	rows := make([][]byte, 20000)
	for i := range rows {
		rows[i] = row
	}
	v, err := Measure(cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	if v.Alerts != 20000 || v.Requests < 1 {
		t.Fatalf("measured %+v", v)
	}
	// Each array holds its rows, a comma between two, and two brackets.
	if want := float64(20000*(len(row)+1)) + v.Requests; v.Bytes != want {
		t.Errorf("arrays of %v bytes, want %v", v.Bytes, want)
	}
	if v.Compressed >= v.Bytes/5 {
		t.Errorf("repetitive rows compressed from %v to %v bytes only", v.Bytes, v.Compressed)
	}

	cfg.Compression = "none"
	cfg.MaxBytes, cfg.MaxUncompressedBytes = 100000, 100000
	v, err = Measure(cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	if v.Compressed != v.Bytes || v.Requests < float64(20000*len(row))/100000 {
		t.Errorf("uncompressed %+v: want bodies as large as the arrays, over %d requests", v, 20000*len(row)/100000)
	}
}
