package modern

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
	"unicode/utf8"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/cef"
)

// The golden files of this package are rewritten by "go test -update". The
// flag is registered here only if no other test file of the package has
// done so already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with the golden file at path, or rewrites the
// file under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update after checking the change):\n got: %.2000s\nwant: %.2000s", path, got, want)
	}
}

var rowsTestNow = time.Date(2024, 3, 10, 14, 5, 0, 0, time.UTC)

func rowsTestClock() time.Time { return rowsTestNow }

// rowsTestAlert is one alert the row tests map, with the number of values
// every profile must cut.
type rowsTestAlert struct {
	name      string
	alert     *bridge.Alert
	truncated int
}

// rowsTestAlerts returns realistic alerts: one as decoded from a sensor's
// CEF line, one from the sensor API (no protocol, UUID or MAC), one from
// the management console API with every field, and one whose message is
// longer than the field limit.
func rowsTestAlerts(t testing.TB) []rowsTestAlert {
	detected := time.Date(2024, 3, 10, 14, 3, 7, 123_000_000, time.UTC)
	fromSensor := &bridge.Alert{
		Vendor:        "Microsoft Defender for IoT",
		SignatureID:   "Microsoft Defender for IoT Alert",
		Sensor:        "Plant-A-Sensor-01",
		SensorVersion: "24.1.3",
		UUID:          "1-1710079387123",
		DetectedAt:    detected,
		Title:         "Unauthorized PLC Program Upload",
		Message:       `A program was uploaded to "PLC-7" (10.1.0.20) from 10.1.0.5; mode=remote, site Zürich`,
		Severity:      bridge.SeverityMajor,
		Engine:        bridge.EnginePolicyViolation,
		Protocol:      "S7",
		Category:      "Program Changes",
		Source:        bridge.Endpoint{IP: "10.1.0.5", MAC: "00:1b:1b:0a:01:05"},
		Destination:   bridge.Endpoint{IP: "10.1.0.20", MAC: "00:0e:8c:0a:01:14"},
	}
	cefAlert := decodeSensorLine(t, fromSensor, detected.Add(1500*time.Millisecond))

	handled := false
	consoleAlert := &bridge.Alert{
		Origin:        bridge.OriginConsoleAPI,
		Vendor:        "Microsoft Defender for IoT",
		SignatureID:   "Microsoft Defender for IoT Alert",
		Sensor:        "Plant-C-Sensor-03",
		SensorID:      "12",
		SensorVersion: "24.1.3",
		Site:          "Plant C",
		SiteID:        "3",
		Zone:          "Packaging line",
		ZoneID:        "7",
		ID:            "5521",
		UUID:          "1-1710079512000",
		DetectedAt:    time.Date(2024, 3, 10, 14, 5, 12, 0, time.UTC),
		ReceivedAt:    time.Date(2024, 3, 10, 14, 6, 0, 250_000_000, time.UTC),
		Title:         "Excessive Number of Sessions",
		Message:       "Sessions from 10.3.0.9 to 10.3.0.40 exceeded the learned rate.\nRate: 320/min",
		Severity:      bridge.SeverityCritical,
		Engine:        bridge.EngineAnomaly,
		Protocol:      "Modbus",
		Category:      "Abnormal Communication Behavior",
		Source:        bridge.Endpoint{IP: "10.3.0.9", MAC: "00:1d:9c:03:00:09", Name: "eng-ws-09", DeviceID: "88"},
		Destination:   bridge.Endpoint{IP: "10.3.0.40", MAC: "00:80:f4:03:00:28", Name: "plc-40", DeviceID: "91"},
		RemediationSteps: []string{
			"Check whether 10.3.0.9 runs an authorized script.",
			`Block the host if the sessions are not expected ("quarantine").`,
		},
		AdditionalInfo: &bridge.AdditionalInfo{
			Description: "Session statistics",
			Information: []string{"Learned rate: 12/min", "Observed rate: 320/min"},
		},
		Handled: &handled,
	}

	sensorAPIAlert := &bridge.Alert{
		Origin:           bridge.OriginSensorAPI,
		Sensor:           "Plant-B-Sensor-02",
		ID:               "4187",
		DetectedAt:       time.Date(2024, 3, 10, 13, 58, 41, 500_000_000, time.UTC),
		ReceivedAt:       time.Date(2024, 3, 10, 14, 0, 0, 0, time.UTC),
		Title:            "New Asset Detected",
		Message:          "A new asset was detected.\r\nIP address: 10.2.0.77",
		Severity:         bridge.SeverityMinor,
		Engine:           bridge.EngineOperational,
		Source:           bridge.Endpoint{IP: "10.2.0.77", Name: "hmi-04", DeviceID: "311"},
		RemediationSteps: []string{"Add the asset to the inventory if it is expected."},
	}

	// The message crosses the limit inside a three-byte rune.
	long := *cefAlert
	long.UUID = "1-1710079399000"
	long.Message = "Write burst, coil: " + strings.Repeat("Modbus write to coil 17 → ", 3000)
	if len(long.Message) <= APIFieldLimitBytes {
		t.Fatal("long message is not long")
	}

	return []rowsTestAlert{
		{"cef-full", cefAlert, 0},
		{"sensor-api", sensorAPIAlert, 0},
		{"console-api-full", consoleAlert, 0},
		{"long-message", &long, 1},
	}
}

// decodeSensorLine returns a as the CEF listener sees it: the sensor's
// syslog CEF line for a, decoded, received at received.
func decodeSensorLine(t testing.TB, a *bridge.Alert, received time.Time) *bridge.Alert {
	enc := cef.Encoder{}
	line := enc.AppendAlert(nil, a)
	var dec cef.Decoder
	var out bridge.Alert
	if err := dec.DecodeAlert(line, &out); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	out.ReceivedAt = received
	return &out
}

func TestRowMapper_AppendRow_golden(t *testing.T) {
	for _, profile := range Profiles {
		m, err := NewRowMapper(Config{Profile: profile}, WithClock(rowsTestClock))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range rowsTestAlerts(t) {
			t.Run(profile+"/"+tc.name, func(t *testing.T) {
				row, truncated, err := m.AppendRow(nil, tc.alert, bridge.PathModern)
				if err != nil {
					t.Fatal(err)
				}
				if truncated != tc.truncated {
					t.Errorf("truncated %d values, want %d", truncated, tc.truncated)
				}
				checkRowValues(t, row, APIFieldLimitBytes)
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, row, "", "  "); err != nil {
					t.Fatalf("row is not JSON: %v\n%s", err, row)
				}
				pretty.WriteByte('\n')
				checkGolden(t, filepath.Join("testdata", "rows", profile, tc.name+".json"), pretty.Bytes())
			})
		}
	}
}

// checkRowValues checks that row is one JSON object whose string values
// are valid UTF-8 of at most limit bytes.
func checkRowValues(t *testing.T, row []byte, limit int) map[string]any {
	t.Helper()
	if !json.Valid(row) {
		t.Fatalf("row is not JSON:\n%s", row)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(row))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode row: %v", err)
	}
	// Dynamic values are measured in TestRowMapper_truncates.
	for k, v := range m {
		if s, ok := v.(string); ok && (len(s) > limit || !utf8.ValidString(s)) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v; want at most %d valid bytes", k, len(s), utf8.ValidString(s), limit)
		}
	}
	return m
}

func TestRowMapper_AppendRow_appends(t *testing.T) {
	m, err := NewRowMapper(Config{}, WithClock(rowsTestClock))
	if err != nil {
		t.Fatal(err)
	}
	a := rowsTestAlerts(t)[0].alert
	first, _, err := m.AppendRow([]byte("["), a, bridge.PathModern)
	if err != nil {
		t.Fatal(err)
	}
	both, _, err := m.AppendRow(append(first, ','), a, bridge.PathLegacy)
	if err != nil {
		t.Fatal(err)
	}
	both = append(both, ']')
	var rows []map[string]any
	if err := json.Unmarshal(both, &rows); err != nil {
		t.Fatalf("two rows do not make a JSON array: %v", err)
	}
	if got := []any{rows[0]["DeviceCustomString6"], rows[1]["DeviceCustomString6"]}; got[0] != "modern" || got[1] != "legacy" {
		t.Errorf("paths = %v, want modern then legacy", got)
	}
}

func TestRowMapper_AppendRow_refuses(t *testing.T) {
	m, err := NewRowMapper(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.AppendRow(nil, nil, bridge.PathModern); err == nil {
		t.Error("nil alert: no error")
	}
	if _, _, err := m.AppendRow(nil, &bridge.Alert{}, "sideways"); err == nil {
		t.Error("unknown path: no error")
	}
}

func TestNewRowMapper_refuses(t *testing.T) {
	for _, cfg := range []Config{
		{Profile: "syslog"},
		{Batch: BatchConfig{MaxFieldBytes: APIFieldLimitBytes + 1}},
		{Batch: BatchConfig{MaxFieldBytes: -1}},
	} {
		if _, err := NewRowMapper(cfg); err == nil {
			t.Errorf("NewRowMapper(profile %q, max field bytes %d): no error", cfg.Profile, cfg.Batch.MaxFieldBytes)
		}
	}
}

// TestRowMapper_compatibleMatchesLegacy sends alerts through the legacy
// path as far as this repository can (the CEF encoder, then the decoder),
// applies the agent's documented CEF mapping to the event, and checks that
// the compatible profile's row holds the same columns and values.
func TestRowMapper_compatibleMatchesLegacy(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range rowsTestAlerts(t) {
		for _, loc := range []*time.Location{time.UTC, paris} {
			t.Run(tc.name+"/"+loc.String(), func(t *testing.T) {
				a := *tc.alert
				if len(a.Message) > 1000 {
					a.Message = a.Message[:1000]
				}
				enc := cef.Encoder{Location: loc}
				line := enc.AppendAlert(nil, &a)
				want := agentColumns(t, line)

				m, err := NewRowMapper(Config{}, WithStartLocation(loc), WithClock(rowsTestClock))
				if err != nil {
					t.Fatal(err)
				}
				// An alert from the API is rendered by the legacy path; one
				// from syslog is forwarded as received, which is the line
				// above.
				row, _, err := m.AppendRow(nil, &a, bridge.PathModern)
				if err != nil {
					t.Fatal(err)
				}
				got := checkRowValues(t, row, APIFieldLimitBytes)
				for _, k := range []string{"TimeGenerated", "CollectorHostName", "DeviceCustomString5", "DeviceCustomString5Label", "DeviceCustomString6", "DeviceCustomString6Label"} {
					delete(got, k)
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s = %q, legacy path %q", k, got[k], v)
					}
					delete(got, k)
				}
				for k, v := range got {
					t.Errorf("%s = %q, legacy path leaves it empty", k, v)
				}
			})
		}
	}
}

// agentColumns applies the agent's documented CEF mapping to a syslog CEF
// line: header fields and dictionary keys to their columns, every other
// key into AdditionalExtensions as "key=value" joined by ";", Computer
// from the syslog HOSTNAME.
func agentColumns(t *testing.T, line []byte) map[string]string {
	t.Helper()
	ev, err := cef.Decode(line)
	if err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	cols := map[string]string{
		"DeviceVendor":       ev.Vendor,
		"DeviceProduct":      ev.Product,
		"DeviceVersion":      ev.DeviceVersion,
		"DeviceEventClassID": ev.SignatureID,
		"Activity":           ev.Name,
		"LogSeverity":        ev.Severity,
	}
	var extra []string
	for _, x := range ev.Extensions {
		switch x.Key {
		case "msg":
			cols["Message"] = x.Value
		case "cat":
			cols["DeviceEventCategory"] = x.Value
		default:
			extra = append(extra, x.Key+"="+x.Value)
		}
	}
	if len(extra) > 0 {
		cols["AdditionalExtensions"] = strings.Join(extra, ";")
	}
	// RFC 3164: <PRI>Mmm dd hh:mm:ss HOSTNAME ...
	fields := strings.Fields(string(line[bytes.IndexByte(line, '>')+1:]))
	cols["Computer"] = fields[3]
	for k, v := range cols {
		if v == "" {
			delete(cols, k)
		}
	}
	return cols
}

func TestRowMapper_startLocation(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	a := &bridge.Alert{Sensor: "s", DetectedAt: time.Date(2024, 7, 1, 22, 30, 5, 0, time.UTC)}
	for _, tc := range []struct {
		loc  *time.Location
		want string
	}{
		{nil, "start=Jul 01 2024 22:30:05"},
		{time.UTC, "start=Jul 01 2024 22:30:05"},
		{paris, "start=Jul 02 2024 00:30:05"},
	} {
		m, err := NewRowMapper(Config{}, WithStartLocation(tc.loc))
		if err != nil {
			t.Fatal(err)
		}
		row, _, err := m.AppendRow(nil, a, bridge.PathModern)
		if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		if err := json.Unmarshal(row, &r); err != nil {
			t.Fatal(err)
		}
		if got := r["AdditionalExtensions"]; got != tc.want {
			t.Errorf("location %v: AdditionalExtensions = %q, want %q", tc.loc, got, tc.want)
		}
	}
}

func TestRowMapper_options(t *testing.T) {
	m, err := NewRowMapper(Config{}, WithComputer("sensor-host"), WithCollectorHostName("proxy-01"), WithClock(rowsTestClock))
	if err != nil {
		t.Fatal(err)
	}
	row, _, err := m.AppendRow(nil, &bridge.Alert{Sensor: "s"}, bridge.PathLegacy)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(row, &r); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"Computer":          "sensor-host",
		"CollectorHostName": "proxy-01",
		"TimeGenerated":     "2024-03-10T14:05:00.000Z",
		"LogSeverity":       "Unknown",
		"DeviceVendor":      defenderVendor,
	} {
		if r[k] != want {
			t.Errorf("%s = %v, want %q", k, r[k], want)
		}
	}
	if _, ok := r["AdditionalExtensions"]; ok {
		t.Error("AdditionalExtensions written for an alert without extensions")
	}
}

func TestRowMapper_timeGenerated(t *testing.T) {
	received := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.FixedZone("x", 3600))
	detected := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a    bridge.Alert
		want string
	}{
		{"receipt", bridge.Alert{ReceivedAt: received, DetectedAt: detected}, "2024-01-02T02:04:05.006Z"},
		{"detection", bridge.Alert{DetectedAt: detected}, "2024-01-01T00:00:00.000Z"},
		{"clock", bridge.Alert{}, "2024-03-10T14:05:00.000Z"},
	} {
		for _, profile := range Profiles {
			m, err := NewRowMapper(Config{Profile: profile}, WithClock(rowsTestClock))
			if err != nil {
				t.Fatal(err)
			}
			row, _, err := m.AppendRow(nil, &tc.a, bridge.PathModern)
			if err != nil {
				t.Fatal(err)
			}
			var r map[string]any
			if err := json.Unmarshal(row, &r); err != nil {
				t.Fatal(err)
			}
			if r["TimeGenerated"] != tc.want {
				t.Errorf("%s/%s: TimeGenerated = %v, want %s", profile, tc.name, r["TimeGenerated"], tc.want)
			}
		}
	}
}

func TestRowMapper_truncates(t *testing.T) {
	const limit = 1024
	long := strings.Repeat("é", limit) // 2048 bytes
	a := &bridge.Alert{
		Sensor:           "s",
		UUID:             "u",
		Message:          long,
		Title:            strings.Repeat(`"`, limit+1),
		Protocol:         long,
		RemediationSteps: []string{long, "second"},
		AdditionalInfo:   &bridge.AdditionalInfo{Description: "d", Information: []string{long}},
	}
	for _, tc := range []struct {
		profile string
		want    int
	}{
		// Activity, Message, AdditionalExtensions.
		{ProfileCompatible, 3},
		// And Protocol and DeviceCustomString4.
		{ProfileEnriched, 5},
		// Title, Message, Protocol, RemediationSteps, AdditionalInfo.
		{ProfileCustom, 5},
	} {
		m, err := NewRowMapper(Config{Profile: tc.profile, Batch: BatchConfig{MaxFieldBytes: limit}})
		if err != nil {
			t.Fatal(err)
		}
		row, truncated, err := m.AppendRow(nil, a, bridge.PathModern)
		if err != nil {
			t.Fatal(err)
		}
		if truncated != tc.want {
			t.Errorf("%s: truncated %d values, want %d", tc.profile, truncated, tc.want)
		}
		r := checkRowValues(t, row, limit)
		if msg := r["Message"].(string); len(msg) != limit || !strings.HasPrefix(long, msg) {
			t.Errorf("%s: Message cut to %d bytes, want the first %d", tc.profile, len(msg), limit)
		}
		for _, k := range []string{"RemediationSteps", "AdditionalInfo"} {
			if v, ok := r[k]; ok {
				b, _ := json.Marshal(v)
				if len(b) > limit {
					t.Errorf("%s: %s is %d bytes of JSON, want at most %d", tc.profile, k, len(b), limit)
				}
			}
		}
	}
}

func TestValueWriter_add(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		mode    lineMode
		limit   int
		escaped bool
		want    string
		cut     bool
	}{
		{"plain", "abc", linesKept, 10, false, `abc`, false},
		{"escapes", "a\"b\\c\td\x01\x1f\u007f", linesKept, 100, false, `a\"b\\c\td\u0001\u001f` + "\u007f", false},
		{"no html escaping", "<a&b>", linesKept, 100, false, `<a&b>`, false},
		{"lines kept", "a\r\nb\rc\nd", linesKept, 100, false, `a\r\nb\rc\nd`, false},
		{"lines to LF", "a\r\nb\rc\nd", linesToLF, 100, false, `a\nb\nc\nd`, false},
		{"lines to space", "a\r\nb\rc\nd", linesToSpace, 100, false, `a b c d`, false},
		{"invalid UTF-8 replaced", "a\xffb\xc3", linesKept, 100, false, "a\uFFFDb\uFFFD", false},
		{"utf-8 kept", "Zürich ✓ \U0001F600 \u2028", linesKept, 100, false, "Zürich ✓ \U0001F600 \u2028", false},
		{"cut in ascii", "abcdef", linesKept, 4, false, `abcd`, true},
		{"exact fit", "abcd", linesKept, 4, false, `abcd`, false},
		{"cut before rune", "ab✓", linesKept, 4, false, `ab`, true},
		{"rune fits", "a✓", linesKept, 4, false, `a✓`, false},
		{"cut before replacement", "ab\xff", linesKept, 4, false, `ab`, true},
		{"escape counts one byte", `a"b`, linesKept, 3, false, `a\"b`, false},
		{"escape counts two bytes", `a"b`, linesKept, 3, true, `a\"`, true},
		{"control counts six bytes", "a\x01", linesKept, 6, true, `a`, true},
		{"CRLF counts one", "a\r\nb", linesToLF, 3, false, `a\nb`, false},
		{"empty", "", linesKept, 0, false, ``, false},
		{"zero limit", "a", linesKept, 0, false, ``, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := valueWriter{limit: tc.limit, escaped: tc.escaped}
			w.add(tc.in, tc.mode)
			if string(w.buf) != tc.want || w.cut != tc.cut {
				t.Errorf("add(%q) = %q, cut %v; want %q, cut %v", tc.in, w.buf, w.cut, tc.want, tc.cut)
			}
			var s string
			if err := json.Unmarshal([]byte(`"`+string(w.buf)+`"`), &s); err != nil {
				t.Fatalf("%q is not a JSON string body: %v", w.buf, err)
			}
			if !tc.escaped && len(s) != w.n {
				t.Errorf("counted %d bytes, the value has %d", w.n, len(s))
			}
		})
	}
}

func TestValueWriter_pieces(t *testing.T) {
	w := valueWriter{limit: 8}
	w.add("abc", linesKept)
	w.add(";", linesKept)
	w.add("defgh", linesKept)
	w.add("ij", linesKept)
	if string(w.buf) != "abc;defg" || !w.cut {
		t.Errorf("pieces = %q, cut %v; want %q, cut", w.buf, w.cut, "abc;defg")
	}
}

func TestAppendStringArray(t *testing.T) {
	for _, tc := range []struct {
		list  []string
		limit int
		want  string
		cut   bool
	}{
		{[]string{"a", "b"}, 100, `["a","b"]`, false},
		{[]string{"a", "b"}, 9, `["a","b"]`, false},
		{[]string{"a", "b"}, 8, `["a",""]`, true},
		{[]string{"a", "bc"}, 9, `["a","b"]`, true},
		{[]string{"abc"}, 4, `[""]`, true},
		{[]string{"abc"}, 3, `[]`, true},
		{[]string{`"`}, 5, `[""]`, true},
	} {
		got, cut := appendStringArray(nil, tc.list, tc.limit)
		if string(got) != tc.want || cut != tc.cut {
			t.Errorf("appendStringArray(%q, %d) = %s, %v; want %s, %v", tc.list, tc.limit, got, cut, tc.want, tc.cut)
		}
		if len(got) > tc.limit && tc.limit >= 2 {
			t.Errorf("appendStringArray(%q, %d) wrote %d bytes", tc.list, tc.limit, len(got))
		}
	}
}

func TestAppendDateTime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2024, 3, 10, 14, 3, 7, 123_456_789, time.UTC), "2024-03-10T14:03:07.123Z"},
		{time.Date(2024, 1, 1, 0, 30, 0, 0, time.FixedZone("x", 3600)), "2023-12-31T23:30:00.000Z"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "10000-01-01T00:00:00.000Z"},
	} {
		if got := string(appendDateTime(nil, tc.t)); got != tc.want {
			t.Errorf("appendDateTime(%v) = %s, want %s", tc.t, got, tc.want)
		}
		if got := string(appendStart(nil, tc.t, time.UTC)); got != tc.t.UTC().Format(startLayout) {
			t.Errorf("appendStart(%v) = %s, want %s", tc.t, got, tc.t.UTC().Format(startLayout))
		}
	}
}

func TestAlertKey(t *testing.T) {
	for _, a := range []bridge.Alert{
		{Sensor: "Plant-A", UUID: "1-17"},
		{Sensor: "Plant-A", ID: "42"},
		{Sensor: "PLANT \"q\"\x01", UUID: "x"},
		{Sensor: "Zürich-Sensor", UUID: "1-2"},
		{Sensor: strings.Repeat("S", 100), UUID: "1-2"},
		{Sensor: "s", DetectedAt: time.Unix(1, 0), Title: "t"},
		{},
	} {
		w := valueWriter{limit: APIFieldLimitBytes}
		addAlertKey(&w, &a)
		var got string
		if err := json.Unmarshal([]byte(`"`+string(w.buf)+`"`), &got); err != nil {
			t.Fatal(err)
		}
		if want := a.Key(); got != want {
			t.Errorf("key of %+v = %q, want %q", a, got, want)
		}
	}
}

// TestLegacyConstants holds the header strings and start layout equal to
// the legacy CEF encoder's.
func TestLegacyConstants(t *testing.T) {
	if defenderVendor != cef.DefenderVendor || defenderSignatureID != cef.DefenderSignatureID || startLayout != cef.StartLayout {
		t.Errorf("modern writes %q, %q, %q; the legacy encoder %q, %q, %q",
			defenderVendor, defenderSignatureID, startLayout, cef.DefenderVendor, cef.DefenderSignatureID, cef.StartLayout)
	}
}

func FuzzRowMapper_AppendRow(f *testing.F) {
	f.Add("Plant-A", "1-17", "title", "message", "S7", 1, 64)
	f.Add("Zürich", "", "\"\\\r\n", "\xff\xfe", "", 3, 2000)
	f.Add("0", "\xc3", "0", "0", "", 3, 2000) // an invalid byte in the key
	f.Fuzz(func(t *testing.T, sensor, uuid, title, msg, proto string, sev, limit int) {
		// Times and labels are never cut: below 32 bytes they could pass.
		if limit < 32 || limit > APIFieldLimitBytes {
			return
		}
		a := &bridge.Alert{
			Sensor: sensor, UUID: uuid, Title: title, Message: msg, Protocol: proto,
			Severity: bridge.Severity(sev), Engine: bridge.Engine(proto),
			Source:           bridge.Endpoint{IP: title, MAC: msg},
			RemediationSteps: []string{msg, title},
			AdditionalInfo:   &bridge.AdditionalInfo{Description: msg, Information: []string{title}},
		}
		for _, profile := range Profiles {
			m, err := NewRowMapper(Config{Profile: profile, Batch: BatchConfig{MaxFieldBytes: limit}}, WithClock(rowsTestClock))
			if err != nil {
				t.Fatal(err)
			}
			row, _, err := m.AppendRow(nil, a, bridge.PathModern)
			if err != nil {
				t.Fatal(err)
			}
			var r map[string]any
			if err := json.Unmarshal(row, &r); err != nil {
				t.Fatalf("%s: row is not JSON: %v\n%q", profile, err, row)
			}
			for k, v := range r {
				if s, ok := v.(string); ok && len(s) > limit {
					t.Errorf("%s: %s has %d bytes, limit %d", profile, k, len(s), limit)
				}
			}
			// Each invalid byte reads as U+FFFD, as in a conversion to runes.
			if key := string([]rune(a.Key())); profile == ProfileCustom && len(key) <= limit && r["AlertKey"] != key {
				t.Errorf("AlertKey = %q, want %q", r["AlertKey"], key)
			}
		}
	})
}

func BenchmarkRowMapper(b *testing.B) {
	alerts := rowsTestAlerts(b)[:3]
	for _, profile := range Profiles {
		b.Run(profile, func(b *testing.B) {
			m, err := NewRowMapper(Config{Profile: profile})
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, 8<<10)
			b.ReportAllocs()
			var n int
			for i := 0; b.Loop(); i++ {
				row, _, err := m.AppendRow(buf[:0], alerts[i%len(alerts)].alert, bridge.PathModern)
				if err != nil {
					b.Fatal(err)
				}
				n += len(row)
			}
			b.ReportMetric(float64(n)/float64(b.N), "bytes/row")
		})
	}
}
