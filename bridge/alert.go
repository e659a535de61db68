// Package bridge is the domain of otbridge: the normalised Defender for IoT
// alert, the legacy forwarding rules that select alerts, the per-rule
// migration mode and the pure routing function that decides which
// destinations receive an alert.
//
// bridge imports none of otbridge's adapters. The on-premises side (legacy/)
// and the Azure side (modern/) translate their formats into these types, and
// cmd/otbridge wires them together. Everything here is deterministic and free
// of I/O, so the daemon and the dry-run report can share it.
package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Origin says how an alert reached otbridge.
type Origin string

// The origins an alert can have.
const (
	OriginUnknown    Origin = ""
	OriginSyslogCEF  Origin = "syslog-cef"  // a CEF message over syslog
	OriginSyslogLEEF Origin = "syslog-leef" // a LEEF message over syslog
	OriginSensorAPI  Origin = "sensor-api"  // the sensor's /api/v1|v2/alerts
	OriginConsoleAPI Origin = "console-api" // the management console's /external/v1|v2/alerts
)

// Endpoint is one side of the traffic an alert describes. Every field is
// optional: sensors leave out what the detection did not see.
type Endpoint struct {
	IP   string `json:"ip,omitempty"`
	MAC  string `json:"mac,omitempty"`
	Name string `json:"name,omitempty"`
	// DeviceID is the appliance's device inventory id, from the REST API.
	DeviceID string `json:"device_id,omitempty"`
}

// IsZero reports whether the endpoint carries nothing.
func (e Endpoint) IsZero() bool { return e == Endpoint{} }

// AdditionalInfo is the sensor API's additionalInformation object.
type AdditionalInfo struct {
	Description string   `json:"description,omitempty"`
	Information []string `json:"information,omitempty"`
}

// Alert is one Defender for IoT alert, normalised from whichever source
// produced it: CEF or LEEF over syslog, or the sensor or management console
// REST API. Fields a source does not carry stay at their zero value; no
// source fills every field.
type Alert struct {
	// Origin is how the alert reached otbridge.
	Origin Origin `json:"origin,omitempty"`

	// Vendor and SignatureID are the CEF/LEEF header strings as received
	// (for example "Microsoft Defender for IoT" or the older "CyberX").
	Vendor      string `json:"vendor,omitempty"`
	SignatureID string `json:"signature_id,omitempty"`

	// Sensor is the sensor's name (CEF: the product field). SensorID,
	// SensorVersion, Site, Zone and their ids are filled where the source
	// has them (the management console API).
	Sensor        string `json:"sensor,omitempty"`
	SensorID      string `json:"sensor_id,omitempty"`
	SensorVersion string `json:"sensor_version,omitempty"`
	Site          string `json:"site,omitempty"`
	SiteID        string `json:"site_id,omitempty"`
	Zone          string `json:"zone,omitempty"`
	ZoneID        string `json:"zone_id,omitempty"`

	// ID is the appliance's numeric alert id; UUID the management console's
	// alert UUID (such as "1-1594550943000"), also sent in CEF as UUID.
	ID   string `json:"id,omitempty"`
	UUID string `json:"uuid,omitempty"`

	// DetectedAt is when the sensor detected the alert; ReceivedAt when
	// otbridge received it. Both are zero when unknown.
	DetectedAt time.Time `json:"detected_at,omitzero"`
	ReceivedAt time.Time `json:"received_at,omitzero"`

	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message,omitempty"`
	Severity Severity `json:"severity,omitzero"`
	Engine   Engine   `json:"engine,omitempty"`
	Protocol string   `json:"protocol,omitempty"`
	// Category is the alert group (CEF cat), such as "Abnormal Communication Behavior".
	Category string `json:"category,omitempty"`

	Source      Endpoint `json:"source,omitzero"`
	Destination Endpoint `json:"destination,omitzero"`

	RemediationSteps []string        `json:"remediation_steps,omitempty"`
	AdditionalInfo   *AdditionalInfo `json:"additional_info,omitempty"`
	// Handled is the alert's state in the management console, when known.
	Handled *bool `json:"handled,omitempty"`

	// Raw holds the original message bytes, syslog header included, when the
	// alert arrived over syslog. The legacy path forwards exactly these bytes.
	Raw []byte `json:"-"`
}

// Key is the alert's stable identity, the same whichever path or source
// carried it, so that the legacy and modern copies of one alert can be
// paired. It is the sensor name with the UUID when there is one, else with
// the alert id, else a digest of the facts every source carries.
func (a *Alert) Key() string {
	sensor := strings.ToLower(a.Sensor)
	switch {
	case a.UUID != "":
		return sensor + "/" + a.UUID
	case a.ID != "":
		return sensor + "/id-" + a.ID
	}
	h := sha256.New()
	for _, s := range []string{
		sensor,
		strconv.FormatInt(a.DetectedAt.UnixMilli(), 10),
		a.Title,
		a.Severity.String(),
		a.Source.IP, a.Destination.IP,
	} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return sensor + "/h-" + hex.EncodeToString(h.Sum(nil)[:12])
}
