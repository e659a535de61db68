package modern

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// The header strings current Defender for IoT sensors write in CEF, and
// the layout of their "start" extension. The legacy CEF encoder uses the
// same values (a test holds them equal); modern does not import it, so that
// the two paths stay independent adapters.
const (
	defenderVendor      = "Microsoft Defender for IoT"
	defenderSignatureID = "Microsoft Defender for IoT Alert"
	startLayout         = "Jan 02 2006 15:04:05"
)

// The labels of the two CommonSecurityLog columns that pair a modern row
// with its alert and record the path that wrote it: DeviceCustomString5
// holds the alert's key (bridge.Alert.Key) under AlertKeyLabel,
// DeviceCustomString6 the path under PathLabel. Defender for IoT sensors
// send neither cs5 nor cs6, so rows that came through the legacy proxy
// leave both empty.
const (
	AlertKeyLabel = "OTBridgeAlertKey"
	PathLabel     = "OTBridgePath"
)

// DefaultCollectorHostName is the CollectorHostName of CommonSecurityLog
// rows unless WithCollectorHostName says otherwise.
const DefaultCollectorHostName = "otbridge"

// Column is one column of a profile's rows: its name, its type as a DCR
// stream declaration spells it (string, int, long, real, boolean, datetime
// or dynamic), and for the custom table what it holds.
type Column struct {
	Name        string
	Type        string
	Description string
}

// compatibleColumns are the CommonSecurityLog columns the legacy path
// filled for a Defender for IoT CEF alert, then the two pairing columns.
var compatibleColumns = []Column{
	{"TimeGenerated", "datetime", ""},
	{"DeviceVendor", "string", ""},
	{"DeviceProduct", "string", ""},
	{"DeviceVersion", "string", ""},
	{"DeviceEventClassID", "string", ""},
	{"Activity", "string", ""},
	{"LogSeverity", "string", ""},
	{"Message", "string", ""},
	{"DeviceEventCategory", "string", ""},
	{"AdditionalExtensions", "string", ""},
	{"Computer", "string", ""},
	{"CollectorHostName", "string", ""},
	{"DeviceCustomString5", "string", ""},
	{"DeviceCustomString5Label", "string", ""},
	{"DeviceCustomString6", "string", ""},
	{"DeviceCustomString6Label", "string", ""},
}

// enrichedColumns are the columns the enriched profile adds.
var enrichedColumns = []Column{
	{"SourceIP", "string", ""},
	{"SourceMACAddress", "string", ""},
	{"SourceHostName", "string", ""},
	{"DestinationIP", "string", ""},
	{"DestinationMACAddress", "string", ""},
	{"DestinationHostName", "string", ""},
	{"Protocol", "string", ""},
	{"StartTime", "datetime", ""},
	{"OriginalLogSeverity", "string", ""},
	{"ExtID", "string", ""},
	{"DeviceExternalID", "string", ""},
	{"DeviceCustomString1", "string", ""},
	{"DeviceCustomString1Label", "string", ""},
	{"DeviceCustomString2", "string", ""},
	{"DeviceCustomString2Label", "string", ""},
	{"DeviceCustomString3", "string", ""},
	{"DeviceCustomString3Label", "string", ""},
	{"DeviceCustomString4", "string", ""},
	{"DeviceCustomString4Label", "string", ""},
}

// customColumns are the columns of the custom table: one per alert field.
var customColumns = []Column{
	{"TimeGenerated", "datetime", "When otbridge received the alert (else when it was detected)."},
	{"AlertKey", "string", "The alert's stable identity: lower-case sensor name, then the UUID, the alert id or a digest."},
	{"Path", "string", "The path that wrote the row: legacy or modern."},
	{"Origin", "string", "How the alert reached otbridge: syslog-cef, syslog-leef, sensor-api or console-api."},
	{"Vendor", "string", "The CEF or LEEF vendor as received."},
	{"SignatureID", "string", "The CEF or LEEF signature ID as received."},
	{"Sensor", "string", "The sensor's name."},
	{"SensorID", "string", "The sensor's id in the management console."},
	{"SensorVersion", "string", "The sensor's version."},
	{"Site", "string", "The site's name."},
	{"SiteID", "string", "The site's id."},
	{"Zone", "string", "The zone's name."},
	{"ZoneID", "string", "The zone's id."},
	{"AlertID", "string", "The appliance's alert id."},
	{"AlertUUID", "string", "The management console's alert UUID."},
	{"DetectedAt", "datetime", "When the sensor detected the alert."},
	{"ReceivedAt", "datetime", "When otbridge received the alert."},
	{"Title", "string", "The alert's title."},
	{"Message", "string", "The alert's message."},
	{"Severity", "string", "The alert level: Warning, Minor, Major or Critical."},
	{"SeverityLevel", "int", "The CEF severity of the level: 1, 4, 8 or 10."},
	{"Engine", "string", "The detection engine."},
	{"Protocol", "string", "The protocol the alert concerns."},
	{"Category", "string", "The alert group."},
	{"SourceIP", "string", "The source address."},
	{"SourceMAC", "string", "The source MAC address."},
	{"SourceName", "string", "The source device's name."},
	{"SourceDeviceID", "string", "The source device's inventory id."},
	{"DestinationIP", "string", "The destination address."},
	{"DestinationMAC", "string", "The destination MAC address."},
	{"DestinationName", "string", "The destination device's name."},
	{"DestinationDeviceID", "string", "The destination device's inventory id."},
	{"RemediationSteps", "dynamic", "The remediation steps, an array of strings."},
	{"AdditionalInfo", "dynamic", "The additional information: {description, information[]}."},
	{"Handled", "boolean", "Whether the alert is handled in the management console."},
}

// ProfileColumns returns the columns rows of the profile may carry, in the
// order rows write them. A row leaves out each column its alert has no
// value for, as the legacy path leaves it empty.
func ProfileColumns(profile string) ([]Column, error) {
	switch profile {
	case ProfileCompatible:
		return slices.Clone(compatibleColumns), nil
	case ProfileEnriched:
		return slices.Concat(compatibleColumns, enrichedColumns), nil
	case ProfileCustom:
		return slices.Clone(customColumns), nil
	}
	return nil, fmt.Errorf("unknown profile %q (want %s, %s or %s)", profile, ProfileCompatible, ProfileEnriched, ProfileCustom)
}

// RowOption adjusts the RowMapper NewRowMapper returns.
type RowOption func(*rowMapper)

// WithStartLocation sets the timezone of the "start" value inside
// AdditionalExtensions: the timezone of the legacy Sentinel action, so that
// modern rows carry the text legacy rows carry. If nil or not given, UTC.
func WithStartLocation(loc *time.Location) RowOption {
	return func(m *rowMapper) {
		if loc != nil {
			m.loc = loc
		}
	}
}

// WithComputer sets the Computer column of CommonSecurityLog rows. The
// agent fills Computer with the HOSTNAME of the syslog header, and the
// legacy CEF encoder writes the sensor name there, so by default Computer
// is the alert's sensor name. Set it when the sensors' syslog headers carry
// another name.
func WithComputer(name string) RowOption {
	return func(m *rowMapper) { m.computer = name }
}

// WithCollectorHostName sets the CollectorHostName column of
// CommonSecurityLog rows, which the agent fills with the name of the
// forwarder it runs on. If empty or not given, DefaultCollectorHostName.
func WithCollectorHostName(name string) RowOption {
	return func(m *rowMapper) {
		if name != "" {
			m.collector = name
		}
	}
}

// WithClock sets the clock read for the TimeGenerated of an alert that has
// neither a receipt nor a detection time. If nil or not given, time.Now.
func WithClock(now func() time.Time) RowOption {
	return func(m *rowMapper) {
		if now != nil {
			m.now = now
		}
	}
}

// NewRowMapper returns the RowMapper of cfg.Profile (default
// commonsecuritylog-compatible), cutting field values at
// cfg.Batch.MaxFieldBytes (default and maximum APIFieldLimitBytes).
//
// The profiles:
//
//   - commonsecuritylog-compatible writes the CommonSecurityLog columns the
//     legacy CEF path filled for the same alert, with the same values, so
//     analytics rules, parsers and workbooks keep working: DeviceVendor,
//     DeviceProduct (the sensor), DeviceVersion, DeviceEventClassID,
//     Activity (the title), LogSeverity (the CEF header severity as text:
//     "1", "4", "8", "10" or "Unknown"), Message, DeviceEventCategory, and
//     AdditionalExtensions holding the sensor's other extensions as
//     "key=value" pairs joined by ";" in the sensor's order (protocol,
//     severity, type, UUID, start, src_ip, src_mac, dst_ip, dst_mac), with
//     Computer and CollectorHostName as the agent sets them.
//   - commonsecuritylog-enriched writes the same and also the columns the
//     alert has data for: addresses, MACs and host names, Protocol,
//     StartTime, OriginalLogSeverity (the level word), ExtID (the
//     appliance's alert id), DeviceExternalID (the sensor id) and, labelled,
//     DeviceCustomString1 to 4 for site, zone, engine and remediation steps.
//   - custom-table writes one typed column per alert field, for a table
//     ending in _CL.
//
// TimeGenerated is when otbridge received the alert, as the agent stamps
// the time its forwarder received a message; an alert without a receipt
// time gets its detection time, and one without either the clock's time.
// Every row records the alert's key and the path it is written for
// (CommonSecurityLog: DeviceCustomString5 and 6 labelled AlertKeyLabel and
// PathLabel; custom table: AlertKey and Path).
func NewRowMapper(cfg Config, opts ...RowOption) (RowMapper, error) {
	cfg = cfg.WithDefaults()
	if _, err := ProfileColumns(cfg.Profile); err != nil {
		return nil, err
	}
	if n := cfg.Batch.MaxFieldBytes; n < 1 || n > APIFieldLimitBytes {
		return nil, fmt.Errorf("max field bytes %d is out of range: 1 to %d", n, APIFieldLimitBytes)
	}
	m := &rowMapper{
		profile:   cfg.Profile,
		limit:     cfg.Batch.MaxFieldBytes,
		loc:       time.UTC,
		collector: DefaultCollectorHostName,
		now:       time.Now,
	}
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

type rowMapper struct {
	profile   string
	limit     int
	loc       *time.Location
	computer  string
	collector string
	now       func() time.Time
}

// AppendRow implements RowMapper.
func (m *rowMapper) AppendRow(dst []byte, a *bridge.Alert, path bridge.Path) ([]byte, int, error) {
	if a == nil {
		return dst, 0, errors.New("map row: no alert")
	}
	if path != bridge.PathLegacy && path != bridge.PathModern {
		return dst, 0, fmt.Errorf("map row: unknown path %q (want legacy or modern)", path)
	}
	w := rowWriter{buf: append(dst, '{'), limit: m.limit, first: true}
	switch m.profile {
	case ProfileCustom:
		m.custom(&w, a, path)
	case ProfileEnriched:
		m.commonSecurityLog(&w, a, path)
		m.enriched(&w, a)
	default:
		m.commonSecurityLog(&w, a, path)
	}
	return append(w.buf, '}'), w.truncated, nil
}

// timeGenerated returns the receipt time, else the detection time, else
// now.
func (m *rowMapper) timeGenerated(a *bridge.Alert) time.Time {
	switch {
	case !a.ReceivedAt.IsZero():
		return a.ReceivedAt
	case !a.DetectedAt.IsZero():
		return a.DetectedAt
	}
	return m.now()
}

func (m *rowMapper) commonSecurityLog(w *rowWriter, a *bridge.Alert, path bridge.Path) {
	// For an alert from the REST API the legacy path renders CEF, which
	// turns line breaks into spaces in the header and "\n" in extension
	// values; the agent reads the latter back as LF. An alert from syslog
	// went to the proxy as the sensor sent it.
	header, ext := linesKept, linesKept
	if len(a.Raw) == 0 {
		header, ext = linesToSpace, linesToLF
	}

	vendor, signature := a.Vendor, a.SignatureID
	if vendor == "" {
		vendor = defenderVendor
	}
	if signature == "" {
		signature = defenderSignatureID
	}
	computer := m.computer
	if computer == "" {
		computer = a.Sensor
	}

	w.datetime(`"TimeGenerated":`, m.timeGenerated(a))
	w.str(`"DeviceVendor":`, vendor, header)
	w.str(`"DeviceProduct":`, a.Sensor, header)
	w.str(`"DeviceVersion":`, a.SensorVersion, header)
	w.str(`"DeviceEventClassID":`, signature, header)
	w.str(`"Activity":`, a.Title, header)
	w.str(`"LogSeverity":`, logSeverity(a.Severity), linesKept)
	w.str(`"Message":`, a.Message, ext)
	w.str(`"DeviceEventCategory":`, a.Category, ext)
	m.additionalExtensions(w, a, ext)
	w.str(`"Computer":`, computer, linesToSpace)
	w.str(`"CollectorHostName":`, m.collector, linesToSpace)

	vw := w.open(`"DeviceCustomString5":`)
	addAlertKey(&vw, a)
	w.end(&vw)
	w.str(`"DeviceCustomString5Label":`, AlertKeyLabel, linesKept)
	w.str(`"DeviceCustomString6":`, string(path), linesKept)
	w.str(`"DeviceCustomString6Label":`, PathLabel, linesKept)
}

// logSeverity returns the CEF header severity the sensor writes for s, as
// the agent stores it in LogSeverity.
func logSeverity(s bridge.Severity) string {
	switch s.CEF() {
	case 1:
		return "1"
	case 4:
		return "4"
	case 8:
		return "8"
	case 10:
		return "10"
	}
	return "Unknown"
}

// additionalExtensions writes the sensor's extensions that are not in the
// ArcSight dictionary, which the agent keeps in AdditionalExtensions as
// "key=value;key=value" (no ";" after the last pair), in the order the
// sensor writes them. Values are written as the agent stores them: CEF
// escapes removed, ";" and "=" as they are.
func (m *rowMapper) additionalExtensions(w *rowWriter, a *bridge.Alert, mode lineMode) {
	severity := a.Severity.String()
	if a.Protocol == "" && severity == "" && a.Engine == "" && a.UUID == "" && a.DetectedAt.IsZero() &&
		a.Source.IP == "" && a.Source.MAC == "" && a.Destination.IP == "" && a.Destination.MAC == "" {
		return
	}
	vw := w.open(`"AdditionalExtensions":`)
	sep := false
	pair := func(key, value string) {
		if value == "" {
			return
		}
		if sep {
			vw.add(";", linesKept)
		}
		sep = true
		vw.add(key, linesKept)
		vw.add(value, mode)
	}
	pair("protocol=", a.Protocol)
	pair("severity=", severity)
	pair("type=", string(a.Engine))
	pair("UUID=", a.UUID)
	if !a.DetectedAt.IsZero() {
		if sep {
			vw.add(";", linesKept)
		}
		sep = true
		vw.add("start=", linesKept)
		var buf [len(startLayout) + 4]byte
		vw.addASCII(appendStart(buf[:0], a.DetectedAt, m.loc))
	}
	pair("src_ip=", a.Source.IP)
	pair("src_mac=", a.Source.MAC)
	pair("dst_ip=", a.Destination.IP)
	pair("dst_mac=", a.Destination.MAC)
	w.end(&vw)
}

// addAlertKey adds a.Key() to w. The key of an alert with an ASCII sensor
// name and a UUID or id is written piece by piece; any other goes through
// Key. TestAlertKey holds the two equal.
func addAlertKey(w *valueWriter, a *bridge.Alert) {
	if a.UUID == "" && a.ID == "" || !isASCII(a.Sensor) {
		w.add(a.Key(), linesKept)
		return
	}
	var buf [64]byte
	lower := buf[:0]
	if len(a.Sensor) > len(buf) {
		lower = make([]byte, 0, len(a.Sensor))
	}
	for i := 0; i < len(a.Sensor); i++ {
		c := a.Sensor[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	w.addASCIIEscaped(lower)
	if a.UUID != "" {
		w.add("/", linesKept)
		w.add(a.UUID, linesKept)
		return
	}
	w.add("/id-", linesKept)
	w.add(a.ID, linesKept)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (m *rowMapper) enriched(w *rowWriter, a *bridge.Alert) {
	w.str(`"SourceIP":`, a.Source.IP, linesKept)
	w.str(`"SourceMACAddress":`, a.Source.MAC, linesKept)
	w.str(`"SourceHostName":`, a.Source.Name, linesKept)
	w.str(`"DestinationIP":`, a.Destination.IP, linesKept)
	w.str(`"DestinationMACAddress":`, a.Destination.MAC, linesKept)
	w.str(`"DestinationHostName":`, a.Destination.Name, linesKept)
	w.str(`"Protocol":`, a.Protocol, linesKept)
	w.datetime(`"StartTime":`, a.DetectedAt)
	w.str(`"OriginalLogSeverity":`, a.Severity.String(), linesKept)
	w.str(`"ExtID":`, a.ID, linesKept)
	w.str(`"DeviceExternalID":`, a.SensorID, linesKept)
	labelled := func(k, label, kLabel, v string) {
		if v != "" {
			w.str(k, v, linesKept)
			w.str(kLabel, label, linesKept)
		}
	}
	labelled(`"DeviceCustomString1":`, "Site", `"DeviceCustomString1Label":`, a.Site)
	labelled(`"DeviceCustomString2":`, "Zone", `"DeviceCustomString2Label":`, a.Zone)
	labelled(`"DeviceCustomString3":`, "Engine", `"DeviceCustomString3Label":`, string(a.Engine))
	if len(a.RemediationSteps) > 0 {
		// One step a line: the column is a string, and a step rarely holds
		// a line break of its own.
		vw := w.open(`"DeviceCustomString4":`)
		for i, step := range a.RemediationSteps {
			if i > 0 {
				vw.add("\n", linesKept)
			}
			vw.add(step, linesKept)
		}
		w.end(&vw)
		w.str(`"DeviceCustomString4Label":`, "RemediationSteps", linesKept)
	}
}

func (m *rowMapper) custom(w *rowWriter, a *bridge.Alert, path bridge.Path) {
	w.datetime(`"TimeGenerated":`, m.timeGenerated(a))
	vw := w.open(`"AlertKey":`)
	addAlertKey(&vw, a)
	w.end(&vw)
	w.str(`"Path":`, string(path), linesKept)
	w.str(`"Origin":`, string(a.Origin), linesKept)
	w.str(`"Vendor":`, a.Vendor, linesKept)
	w.str(`"SignatureID":`, a.SignatureID, linesKept)
	w.str(`"Sensor":`, a.Sensor, linesKept)
	w.str(`"SensorID":`, a.SensorID, linesKept)
	w.str(`"SensorVersion":`, a.SensorVersion, linesKept)
	w.str(`"Site":`, a.Site, linesKept)
	w.str(`"SiteID":`, a.SiteID, linesKept)
	w.str(`"Zone":`, a.Zone, linesKept)
	w.str(`"ZoneID":`, a.ZoneID, linesKept)
	w.str(`"AlertID":`, a.ID, linesKept)
	w.str(`"AlertUUID":`, a.UUID, linesKept)
	w.datetime(`"DetectedAt":`, a.DetectedAt)
	w.datetime(`"ReceivedAt":`, a.ReceivedAt)
	w.str(`"Title":`, a.Title, linesKept)
	w.str(`"Message":`, a.Message, linesKept)
	w.str(`"Severity":`, a.Severity.String(), linesKept)
	if n := a.Severity.CEF(); n != 0 {
		w.number(`"SeverityLevel":`, n)
	}
	w.str(`"Engine":`, string(a.Engine), linesKept)
	w.str(`"Protocol":`, a.Protocol, linesKept)
	w.str(`"Category":`, a.Category, linesKept)
	w.str(`"SourceIP":`, a.Source.IP, linesKept)
	w.str(`"SourceMAC":`, a.Source.MAC, linesKept)
	w.str(`"SourceName":`, a.Source.Name, linesKept)
	w.str(`"SourceDeviceID":`, a.Source.DeviceID, linesKept)
	w.str(`"DestinationIP":`, a.Destination.IP, linesKept)
	w.str(`"DestinationMAC":`, a.Destination.MAC, linesKept)
	w.str(`"DestinationName":`, a.Destination.Name, linesKept)
	w.str(`"DestinationDeviceID":`, a.Destination.DeviceID, linesKept)
	w.stringArray(`"RemediationSteps":`, a.RemediationSteps)
	if info := a.AdditionalInfo; info != nil && (info.Description != "" || len(info.Information) > 0) {
		w.key(`"AdditionalInfo":`)
		var cut bool
		w.buf, cut = appendAdditionalInfo(w.buf, info, w.limit)
		if cut {
			w.truncated++
		}
	}
	if a.Handled != nil {
		w.boolean(`"Handled":`, *a.Handled)
	}
}

// appendAdditionalInfo appends info as a JSON object of at most limit
// bytes, {"description":...,"information":[...]}, and reports whether it
// had to drop or cut anything.
func appendAdditionalInfo(dst []byte, info *bridge.AdditionalInfo, limit int) ([]byte, bool) {
	dst = append(dst, '{')
	room := limit - len("{}")
	if info.Description != "" {
		const k = `"description":"`
		if room < len(k)+1 {
			return append(dst, '}'), true
		}
		mark := len(dst)
		dst = append(dst, k...)
		vw := valueWriter{buf: dst, limit: room - len(k) - 1, escaped: true}
		vw.add(info.Description, linesKept)
		dst = append(vw.buf, '"')
		room -= len(dst) - mark
		if vw.cut {
			return append(dst, '}'), true
		}
	}
	if len(info.Information) > 0 {
		k := `"information":`
		if info.Description != "" {
			k = `,"information":`
		}
		if room < len(k)+len("[]") {
			return append(dst, '}'), true
		}
		dst = append(dst, k...)
		var cut bool
		dst, cut = appendStringArray(dst, info.Information, room-len(k))
		if cut {
			return append(dst, '}'), true
		}
	}
	return append(dst, '}'), false
}
