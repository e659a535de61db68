package bridge

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ActionType is a forwarding rule action, the "server" picked in the rule
// dialog, spelled in the inventory's kebab-case.
type ActionType string

// The action types of sensor and management console forwarding rules.
const (
	ActionSentinel     ActionType = "sentinel"      // Microsoft Sentinel (legacy CEF proxy)
	ActionSyslogCEF    ActionType = "syslog-cef"    // Syslog server, CEF format
	ActionSyslogLEEF   ActionType = "syslog-leef"   // Syslog server, LEEF format
	ActionSyslogObject ActionType = "syslog-object" // Syslog server, Object format
	ActionSyslogText   ActionType = "syslog-text"   // Syslog server, Text message format
	ActionEmail        ActionType = "email"         // Email
	ActionWebhook      ActionType = "webhook"       // Webhook (management console only)
	ActionWebhookExt   ActionType = "webhook-extended"
	ActionQRadar       ActionType = "qradar"
	ActionArcSight     ActionType = "arcsight"
	ActionFortiSIEM    ActionType = "fortisiem"
	ActionNetWitness   ActionType = "netwitness"
	ActionFortiGate    ActionType = "fortigate"
	ActionPaloAlto     ActionType = "palo-alto"
	ActionSplunk       ActionType = "splunk"
	ActionServiceNow   ActionType = "servicenow"
	ActionClearPass    ActionType = "clearpass"
)

// ActionInfo describes what an action type needs and where it exists.
type ActionInfo struct {
	Type ActionType
	// Label is the UI's name for the action.
	Label string
	// ConsoleOnly: the action exists only on the management console.
	ConsoleOnly bool
	// Network: the action sends to a host and port.
	Network bool
	// Encryption: the action offers TLS (certificate and key files).
	Encryption bool
	// Passphrase: the action's TLS settings include a key passphrase.
	Passphrase bool
	// Retired is when the action was, or is announced to be, retired; zero
	// when it is current. RetiredNote says how.
	Retired     time.Time
	RetiredNote string
}

var (
	dec2025 = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	oct2024 = time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)
	jan2025 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

// actionInfos holds every action type; order is the inventory's
// documentation order.
var actionInfos = []ActionInfo{
	{Type: ActionSentinel, Label: "Microsoft Sentinel", Network: true, Encryption: true,
		Retired: jan2025, RetiredNote: "the legacy Sentinel integration was deprecated in January 2025"},
	{Type: ActionSyslogCEF, Label: "Syslog server (CEF format)", Network: true, Encryption: true, Passphrase: true},
	{Type: ActionSyslogLEEF, Label: "Syslog server (LEEF format)", Network: true},
	{Type: ActionSyslogObject, Label: "Syslog server (Object format)", Network: true},
	{Type: ActionSyslogText, Label: "Syslog server (Text message format)", Network: true},
	{Type: ActionEmail, Label: "Email"},
	{Type: ActionWebhook, Label: "Webhook", ConsoleOnly: true,
		Retired: dec2025, RetiredNote: "announced for retirement on 1 December 2025"},
	{Type: ActionWebhookExt, Label: "Webhook extended", ConsoleOnly: true},
	{Type: ActionQRadar, Label: "QRadar", Network: true, Encryption: true},
	{Type: ActionArcSight, Label: "ArcSight", Network: true, Encryption: true,
		Retired: dec2025, RetiredNote: "announced for retirement on 1 December 2025"},
	{Type: ActionFortiSIEM, Label: "FortiSIEM", Network: true,
		Retired: dec2025, RetiredNote: "announced for retirement on 1 December 2025"},
	{Type: ActionNetWitness, Label: "NetWitness", Network: true,
		Retired: dec2025, RetiredNote: "announced for retirement on 1 December 2025"},
	{Type: ActionFortiGate, Label: "FortiGate"},
	{Type: ActionPaloAlto, Label: "Palo Alto",
		Retired: dec2025, RetiredNote: "announced for retirement on 1 December 2025"},
	{Type: ActionSplunk, Label: "Splunk",
		Retired: oct2024, RetiredNote: "the legacy integration is supported only up to sensor 23.1.3 (October 2024)"},
	{Type: ActionServiceNow, Label: "ServiceNow"},
	{Type: ActionClearPass, Label: "ClearPass",
		Retired: oct2024, RetiredNote: "the legacy integration is supported only up to sensor 23.1.3 (October 2024)"},
}

// ActionTypes lists every action type in documentation order.
func ActionTypes() []ActionType {
	out := make([]ActionType, len(actionInfos))
	for i, in := range actionInfos {
		out[i] = in.Type
	}
	return out
}

// Info describes the action type; ok is false for an unknown type.
func (t ActionType) Info() (info ActionInfo, ok bool) {
	for _, in := range actionInfos {
		if in.Type == t {
			return in, true
		}
	}
	return ActionInfo{}, false
}

// ParseActionType reads an inventory action type name, ignoring case.
func ParseActionType(s string) (ActionType, error) {
	t := ActionType(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := t.Info(); ok {
		return t, nil
	}
	names := make([]string, len(actionInfos))
	for i, in := range actionInfos {
		names[i] = string(in.Type)
	}
	return "", fmt.Errorf("unknown action type %q (want one of %s)", s, strings.Join(names, ", "))
}

// Transport is the network protocol of a syslog action. Only the Text
// message format offers a choice; the others use the appliance default.
type Transport string

// The transports.
const (
	TransportDefault Transport = ""
	TransportUDP     Transport = "udp"
	TransportTCP     Transport = "tcp"
)

// Encryption is an action's optional TLS settings, as files on the machine
// that reads the inventory (copies of what was uploaded to the appliance).
type Encryption struct {
	Enabled bool
	// CertFile and KeyFile are PEM files. PassphraseFile holds the key's
	// passphrase (Syslog CEF only); the passphrase itself never appears in
	// the inventory.
	CertFile       string
	KeyFile        string
	PassphraseFile string
}

// Action is one server of a forwarding rule, with the settings its type
// uses; fields a type does not use stay empty.
type Action struct {
	Type ActionType
	// Host and Port: where a network action sends.
	Host string
	Port int
	// Timezone is the action's timezone setting, an IANA name or a UTC
	// offset as the UI offers; it is the timezone of CEF start.
	Timezone string
	// Transport is the Syslog Text message protocol choice.
	Transport  Transport
	Encryption Encryption
	// Email is the address of an Email action.
	Email string
	// URL and Headers: a Webhook action's target.
	URL     string
	Headers map[string]string
	// Settings holds vendor-specific settings of the legacy integrations
	// (FortiGate, Palo Alto, Splunk, ServiceNow, ClearPass), by UI label.
	// Credentials are never stored here: name a file instead.
	Settings map[string]string
}

// Target renders where the action sends, for reports: "host:port", the
// address, or the URL's scheme and host (its path and query may hold a
// token, and reports never show one).
func (a *Action) Target() string {
	switch {
	case a.Host != "" && a.Port != 0:
		return fmt.Sprintf("%s:%d", a.Host, a.Port)
	case a.Host != "":
		return a.Host
	case a.Email != "":
		return a.Email
	case a.URL != "":
		return redactURL(a.URL)
	}
	return ""
}

// redactURL keeps a webhook URL's scheme and host and hides its path and
// query, which often carry a token ("https://hooks.example/…").
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(unreadable URL)"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		out += "/…"
	}
	return out
}
