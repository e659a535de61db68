package inventory

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const smallYAML = `version: 1
appliances:
  - name: plant-a
    kind: sensor
    version: "24.1.3"
    rules:
      - name: sentinel-critical
        minimal_alert_level: critical
        any_protocol_detected: true
        traffic_detected_by_any_engine: true
        actions:
          - type: sentinel
            host: 10.1.2.3
            port: 6514
            timezone: UTC+2
            encryption:
              enabled: true
              certificate_file: tls/proxy.crt
              key_file: /etc/otbridge/plant-a.key
          - type: Sentinel
            host: proxy-2.example
            port: 514
      - name: modbus-text
        minimal_alert_level: Warning
        protocols: [Modbus, DNP3]
        engines: [POLICY_VIOLATION, Operational Engine]
        actions:
          - type: syslog-text
            host: logs.example
            port: 1514
            timezone: Europe/Berlin
            protocol: TCP
  - name: cm-1
    kind: management-console
    sensors: [plant-a]
    rules:
      - name: hooks
        minimal_alert_level: Major
        report_system_notifications: true
        report_alert_notifications: false
        actions:
          - type: webhook
            url: https://hooks.example/x
            headers: {X-Source: cm-1, X-Api-Key_file: secrets/key}
          - type: splunk
            settings: {server: splunk.example, port: 8089, tls: true, password_file: /s/p}
          - type: email
            address: SOC Team <soc@example.com>
`

func TestParse(t *testing.T) {
	inv, err := Parse("conf/inv.yaml", []byte(smallYAML))
	if err != nil {
		t.Fatal(err)
	}
	sensors := []string{"plant-a"}
	want := []bridge.Appliance{
		{
			Name: "plant-a", Kind: bridge.ApplianceSensor, Version: "24.1.3",
			Rules: []bridge.Rule{
				{
					Appliance: "plant-a", ApplianceKind: bridge.ApplianceSensor,
					Name: "sentinel-critical", MinSeverity: bridge.SeverityCritical,
					Actions: []bridge.Action{
						{
							Type: bridge.ActionSentinel, Host: "10.1.2.3", Port: 6514, Timezone: "UTC+02:00",
							Encryption: bridge.Encryption{Enabled: true, CertFile: "conf/tls/proxy.crt", KeyFile: "/etc/otbridge/plant-a.key"},
						},
						{Type: bridge.ActionSentinel, Host: "proxy-2.example", Port: 514},
					},
				},
				{
					Appliance: "plant-a", ApplianceKind: bridge.ApplianceSensor,
					Name: "modbus-text", MinSeverity: bridge.SeverityWarning,
					Protocols: []string{"Modbus", "DNP3"},
					Engines:   []bridge.Engine{bridge.EnginePolicyViolation, bridge.EngineOperational},
					Actions: []bridge.Action{
						{Type: bridge.ActionSyslogText, Host: "logs.example", Port: 1514, Timezone: "Europe/Berlin", Transport: bridge.TransportTCP},
					},
				},
			},
		},
		{
			Name: "cm-1", Kind: bridge.ApplianceConsole, Sensors: sensors,
			Rules: []bridge.Rule{
				{
					Appliance: "cm-1", ApplianceKind: bridge.ApplianceConsole, Sensors: sensors,
					Name: "hooks", MinSeverity: bridge.SeverityMajor, SystemNotifications: true,
					Actions: []bridge.Action{
						{Type: bridge.ActionWebhook, URL: "https://hooks.example/x", Headers: map[string]string{"X-Source": "cm-1", "X-Api-Key_file": "conf/secrets/key"}},
						{Type: bridge.ActionSplunk, Settings: map[string]string{"server": "splunk.example", "port": "8089", "tls": "true", "password_file": "/s/p"}},
						{Type: bridge.ActionEmail, Email: "soc@example.com"},
					},
				},
			},
		},
	}
	if !reflect.DeepEqual(inv.Appliances, want) {
		t.Errorf("appliances:\n got %+v\nwant %+v", inv.Appliances, want)
	}
	if got := inv.Files; !reflect.DeepEqual(got, []string{"conf/inv.yaml"}) {
		t.Errorf("files = %v", got)
	}
}

// TestParse_JSON checks that a JSON file gives the same inventory as its
// YAML twin, with positions from the JSON text.
func TestParse_JSON(t *testing.T) {
	const doc = "{\n\t\"version\": 1,\n\t\"appliances\": [{\n\t\t\"name\": \"s1\\u00e9\",\n\t\t\"kind\": \"sensor\",\n" +
		"\t\t\"rules\": [{\"name\": \"r\", \"minimal_alert_level\": \"Minor\", \"any_protocol_detected\": false,\n" +
		"\t\t\t\"protocols\": [\"Modbus\\/TCP\"], \"engines\": null,\n" +
		"\t\t\t\"actions\": [{\"type\": \"syslog-cef\", \"host\": \"h\", \"port\": 514, \"timezone\": \"UTC\"}]}]\n\t}]\n}\n"
	const twin = `version: 1
appliances:
  - name: "s1é"
    kind: sensor
    rules:
      - {name: r, minimal_alert_level: Minor, any_protocol_detected: false, protocols: [Modbus/TCP],
         actions: [{type: syslog-cef, host: h, port: 514, timezone: UTC}]}
`
	for _, name := range []string{"inv.json", "inv.txt"} { // by extension, and by content
		fromJSON, err := Parse(name, []byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fromYAML, err := Parse("inv.yaml", []byte(twin))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromJSON.Appliances, fromYAML.Appliances) {
			t.Errorf("%s:\n json %+v\n yaml %+v", name, fromJSON.Appliances, fromYAML.Appliances)
		}
		got := fromJSON.RuleSource(bridge.RuleRef{Appliance: "S1É", Rule: "R"})
		if want := (Position{File: name, Line: 6, Column: 13}); got != want {
			t.Errorf("%s: rule source = %v, want %v", name, got, want)
		}
	}
}

// sensorDoc returns an inventory of one sensor whose one rule is rule, the
// rule's keys written from column 0.
func sensorDoc(rule string) string { return applianceDoc("sensor", "", rule) }

// consoleDoc is sensorDoc for a management console.
func consoleDoc(rule string) string { return applianceDoc("management-console", "", rule) }

func applianceDoc(kind, extra, rule string) string {
	var b strings.Builder
	b.WriteString("version: 1\nappliances:\n  - name: a1\n    kind: " + kind + "\n")
	for _, line := range strings.Split(strings.TrimRight(extra, "\n"), "\n") {
		if line != "" {
			b.WriteString("    " + line + "\n")
		}
	}
	b.WriteString("    rules:\n")
	for i, line := range strings.Split(strings.TrimRight(rule, "\n"), "\n") {
		if i == 0 {
			b.WriteString("      - " + line + "\n")
		} else {
			b.WriteString("        " + line + "\n")
		}
	}
	return b.String()
}

// actionDoc returns a one-rule inventory on an appliance of the given kind
// whose one action is the flow mapping action.
func actionDoc(kind, action string) string {
	return applianceDoc(kind, "", "name: r1\nminimal_alert_level: Major\nactions:\n  - "+action)
}

const okRule = "name: r1\nminimal_alert_level: Major\nactions:\n  - {type: sentinel, host: 10.0.0.1, port: 514}\n"

// TestParse_Errors checks one mistake at a time: each document must give
// exactly one problem, for the field named, with a message that contains
// msg.
func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name  string
		file  string // default "inv.yaml"
		data  string
		field string
		msg   string
	}{
		// The file as a whole.
		{name: "empty file", data: "", msg: "file is empty"},
		{name: "comments only", data: "# nothing yet\n\n", msg: "file is empty"},
		{name: "null document", data: "---\n~\n", msg: "file is empty"},
		{name: "yaml syntax", data: "version: 1\nappliances:\n  - name: a\n   kind: sensor\n", msg: "invalid YAML: "},
		{name: "json syntax", file: "inv.json", data: "{\"version\": 1,\n \"appliances\": [}\n", msg: "invalid JSON: invalid character '}'"},
		{name: "json trailing data", file: "inv.json", data: "{\"version\": 1} {}", msg: "after top-level value"},
		{name: "json too deep", file: "inv.json", data: strings.Repeat("[", 100) + strings.Repeat("]", 100), msg: "nested more than 64 levels"},
		{name: "two documents", data: "version: 1\n---\nversion: 1\n", msg: "more than one YAML document"},
		{name: "not a mapping", data: "- version: 1\n", msg: "want an inventory with version and appliances (a mapping of keys to values), got a list"},
		{name: "unknown top key", data: "version: 1\nappliance: []\nappliances: [{name: a, kind: sensor, rules: []}]\n",
			field: "appliance", msg: `unknown key "appliance": did you mean "appliances"? (allowed keys: version, appliances)`},
		{name: "missing version", data: "appliances: [{name: a, kind: sensor, rules: []}]\n", field: "version", msg: `missing: add "version: 1"`},
		{name: "unknown version", data: "version: 2\nappliances: [{name: a, kind: sensor, rules: []}]\n",
			field: "version", msg: "unsupported inventory format version 2: this otbridge reads version 1"},
		{name: "version as string", data: "version: \"1\"\nappliances: [{name: a, kind: sensor, rules: []}]\n",
			field: "version", msg: "want a whole number, got a string"},
		{name: "no appliances", data: "version: 1\nappliances: []\n", field: "appliances", msg: "empty"},
		{name: "appliances not a list", data: "version: 1\nappliances: {name: a}\n", field: "appliances", msg: "want a list of appliances, got a mapping"},
		{name: "duplicate key", data: "version: 1\nversion: 1\nappliances: [{name: a, kind: sensor, rules: []}]\n",
			field: "version", msg: "given twice (first at line 1)"},
		{name: "alias", data: "version: &v 1\nappliances: [{name: a, kind: sensor, version: *v, rules: []}]\n",
			field: "appliances[0].version", msg: "YAML aliases (*v) are not supported"},
		{name: "merge key", data: "version: 1\nappliances: [{<<: {name: a}, name: a, kind: sensor, rules: []}]\n",
			field: "appliances[0]", msg: "merge keys (<<) are not supported"},

		// Appliances.
		{name: "missing appliance name", data: "version: 1\nappliances: [{kind: sensor, rules: []}]\n", field: "appliances[0].name", msg: "missing: give the appliance's name"},
		{name: "slash in appliance name", data: "version: 1\nappliances: [{name: a/b, kind: sensor, rules: []}]\n", field: "appliances[0].name", msg: `contains "/"`},
		{name: "unknown kind", data: "version: 1\nappliances: [{name: a, kind: cm, rules: []}]\n",
			field: "appliances[0].kind", msg: `unknown appliance kind "cm" (want sensor or management-console)`},
		{name: "missing rules", data: "version: 1\nappliances: [{name: a, kind: sensor}]\n", field: "appliances[0].rules", msg: "missing"},
		{name: "sensors on a sensor", data: applianceDoc("sensor", "sensors: [x]", okRule), field: "appliances[0].sensors", msg: "only a management console has a sensor list"},
		{name: "sensor listed twice", data: applianceDoc("management-console", "sensors: [x, X]", okRule), field: "appliances[0].sensors[1]", msg: `"X" listed twice (first at line 5)`},
		{name: "duplicate rule name", data: "version: 1\nappliances:\n  - name: a1\n    kind: sensor\n    rules:\n      - {name: r1, minimal_alert_level: Major, actions: [{type: email, address: a@b.example}]}\n      - {name: R1, minimal_alert_level: Minor, actions: [{type: email, address: a@b.example}]}\n",
			field: "appliances[0].rules[1].name", msg: `duplicate rule name "R1" (first at line 6)`},

		// Rules.
		{name: "unknown rule key", data: sensorDoc(okRule + "minimal_alert_lvl: Major"),
			field: "appliances[0].rules[0].minimal_alert_lvl", msg: `unknown key "minimal_alert_lvl": did you mean "minimal_alert_level"? (allowed keys: name, minimal_alert_level,`},
		{name: "rule not a mapping", data: applianceDoc("sensor", "", "r1"), field: "appliances[0].rules[0]", msg: "want a rule (a mapping of keys to values), got a string"},
		{name: "missing rule name", data: sensorDoc("minimal_alert_level: Major\nactions: [{type: email, address: a@b.example}]"), field: "appliances[0].rules[0].name", msg: "missing"},
		{name: "unknown severity", data: sensorDoc("name: r1\nminimal_alert_level: Hgh\nactions: [{type: email, address: a@b.example}]"),
			field: "appliances[0].rules[0].minimal_alert_level", msg: `unknown severity "Hgh" (want Warning, Minor, Major or Critical)`},
		{name: "azure severity", data: sensorDoc("name: r1\nminimal_alert_level: High\nactions: [{type: email, address: a@b.example}]"),
			field: "appliances[0].rules[0].minimal_alert_level", msg: `unknown severity "High"`},
		{name: "missing level", data: sensorDoc("name: r1\nactions: [{type: email, address: a@b.example}]"), field: "appliances[0].rules[0].minimal_alert_level", msg: "missing"},
		{name: "protocols as a string", data: sensorDoc(okRule + "protocols: Modbus"),
			field: "appliances[0].rules[0].protocols", msg: "want a list of protocol names, got a string"},
		{name: "toggle as a string", data: sensorDoc(okRule + "any_protocol_detected: \"yes\""),
			field: "appliances[0].rules[0].any_protocol_detected", msg: "want true or false, got a string"},
		{name: "toggle as a list", data: sensorDoc(okRule + "traffic_detected_by_any_engine: [true]"),
			field: "appliances[0].rules[0].traffic_detected_by_any_engine", msg: "want true or false, got a list"},
		{name: "any protocol with a list", data: sensorDoc(okRule + "any_protocol_detected: true\nprotocols: [Modbus]"),
			field: "appliances[0].rules[0].protocols", msg: "any_protocol_detected is true, so the list must be empty"},
		{name: "no protocol without a list", data: sensorDoc(okRule + "any_protocol_detected: false\nprotocols: []"),
			field: "appliances[0].rules[0].any_protocol_detected", msg: "false, but protocols lists nothing"},
		{name: "any engine with a list", data: sensorDoc(okRule + "traffic_detected_by_any_engine: true\nengines: [Malware]"),
			field: "appliances[0].rules[0].engines", msg: "traffic_detected_by_any_engine is true"},
		{name: "no engine without a list", data: sensorDoc(okRule + "traffic_detected_by_any_engine: false"),
			field: "appliances[0].rules[0].traffic_detected_by_any_engine", msg: "false, but engines lists nothing"},
		{name: "unknown engine", data: sensorDoc(okRule + "engines: [Malware, Heuristic]"),
			field: "appliances[0].rules[0].engines[1]", msg: `unknown engine "Heuristic"`},
		{name: "engine twice", data: sensorDoc(okRule + "engines: [Policy Violation, POLICY_VIOLATION]"),
			field: "appliances[0].rules[0].engines[1]", msg: "engine Policy Violation listed twice"},
		{name: "protocol twice", data: sensorDoc(okRule + "protocols: [Modbus, modbus]"),
			field: "appliances[0].rules[0].protocols[1]", msg: `"modbus" listed twice`},
		{name: "empty protocol", data: sensorDoc(okRule + "protocols: [Modbus, \"\"]"),
			field: "appliances[0].rules[0].protocols[1]", msg: "empty entry"},
		{name: "system notifications on a sensor", data: sensorDoc(okRule + "report_system_notifications: false"),
			field: "appliances[0].rules[0].report_system_notifications", msg: "only management console rules have this option"},
		{name: "alert notifications on a sensor", data: sensorDoc(okRule + "report_alert_notifications: true"),
			field: "appliances[0].rules[0].report_alert_notifications", msg: "only management console rules"},
		{name: "no actions", data: sensorDoc("name: r1\nminimal_alert_level: Major\nactions: []"),
			field: "appliances[0].rules[0].actions", msg: "empty: add at least one action"},
		{name: "missing actions", data: sensorDoc("name: r1\nminimal_alert_level: Major"),
			field: "appliances[0].rules[0].actions", msg: "missing: add at least one action"},

		// Actions.
		{name: "unknown action type", data: actionDoc("sensor", "{type: syslog, host: h, port: 514}"),
			field: "appliances[0].rules[0].actions[0].type", msg: `unknown action type "syslog" (want one of sentinel, syslog-cef,`},
		{name: "missing action type", data: actionDoc("sensor", "{host: h, port: 514}"),
			field: "appliances[0].rules[0].actions[0].type", msg: "missing: name the server type"},
		{name: "action not a mapping", data: actionDoc("sensor", "sentinel"),
			field: "appliances[0].rules[0].actions[0]", msg: "want an action (a mapping of keys to values), got a string"},
		{name: "unknown action key", data: actionDoc("sensor", "{type: sentinel, host: h, port: 514, hots: x}"),
			field: "appliances[0].rules[0].actions[0].hots", msg: `unknown key "hots": did you mean "host"? (allowed keys: type, host, port, timezone, encryption)`},
		{name: "missing port", data: actionDoc("sensor", "{type: syslog-leef, host: h}"),
			field: "appliances[0].rules[0].actions[0].port", msg: "missing: give the port"},
		{name: "port out of range", data: actionDoc("sensor", "{type: sentinel, host: h, port: 70000}"),
			field: "appliances[0].rules[0].actions[0].port", msg: "port 70000 out of range: want 1 to 65535"},
		{name: "port zero", data: actionDoc("sensor", "{type: qradar, host: h, port: 0}"),
			field: "appliances[0].rules[0].actions[0].port", msg: "port 0 out of range"},
		{name: "port as a string", data: actionDoc("sensor", "{type: sentinel, host: h, port: \"514\"}"),
			field: "appliances[0].rules[0].actions[0].port", msg: "want a whole number, got a string"},
		{name: "port huge", data: actionDoc("sensor", "{type: sentinel, host: h, port: 99999999999999999999}"),
			field: "appliances[0].rules[0].actions[0].port", msg: "want a whole number, got a decimal number"},
		{name: "missing host", data: actionDoc("sensor", "{type: arcsight, port: 514}"),
			field: "appliances[0].rules[0].actions[0].host", msg: "missing: give the server's host name or IP address"},
		{name: "host with a port", data: actionDoc("sensor", "{type: sentinel, host: \"10.0.0.1:514\", port: 514}"),
			field: "appliances[0].rules[0].actions[0].host", msg: "host includes a port"},
		{name: "host as a URL", data: actionDoc("sensor", "{type: sentinel, host: \"tcp://proxy\", port: 514}"),
			field: "appliances[0].rules[0].actions[0].host", msg: "not a URL"},
		{name: "host with a space", data: actionDoc("sensor", "{type: sentinel, host: \"my proxy\", port: 514}"),
			field: "appliances[0].rules[0].actions[0].host", msg: `"my proxy" is not a valid host name`},
		{name: "webhook on a sensor", data: actionDoc("sensor", "{type: webhook, url: \"https://h.example/x\"}"),
			field: "appliances[0].rules[0].actions[0].type", msg: "webhook actions exist only on the management console"},
		{name: "webhook without url", data: actionDoc("management-console", "{type: webhook-extended}"),
			field: "appliances[0].rules[0].actions[0].url", msg: "missing"},
		{name: "webhook url scheme", data: actionDoc("management-console", "{type: webhook, url: \"ftp://h.example/x\"}"),
			field: "appliances[0].rules[0].actions[0].url", msg: "want an http:// or https:// URL"},
		{name: "bad header name", data: actionDoc("management-console", "{type: webhook, url: \"https://h.example\", headers: {\"X Bad\": v}}"),
			field: `appliances[0].rules[0].actions[0].headers["X Bad"]`, msg: "not a valid HTTP header name"},
		{name: "headers not a mapping", data: actionDoc("management-console", "{type: webhook, url: \"https://h.example\", headers: [a]}"),
			field: "appliances[0].rules[0].actions[0].headers", msg: "got a list"},
		{name: "protocol on syslog-cef", data: actionDoc("sensor", "{type: syslog-cef, host: h, port: 514, protocol: tcp}"),
			field: "appliances[0].rules[0].actions[0].protocol", msg: "only syslog-text actions have a protocol"},
		{name: "unknown text protocol", data: actionDoc("sensor", "{type: syslog-text, host: h, port: 514, protocol: sctp}"),
			field: "appliances[0].rules[0].actions[0].protocol", msg: `unknown protocol "sctp" (want udp or tcp)`},
		{name: "encryption on leef", data: actionDoc("sensor", "{type: syslog-leef, host: h, port: 514, encryption: {enabled: false}}"),
			field: "appliances[0].rules[0].actions[0].encryption", msg: "syslog-leef actions have no encryption option"},
		{name: "passphrase on sentinel", data: actionDoc("sensor", "{type: sentinel, host: h, port: 514, encryption: {enabled: true, certificate_file: c, key_file: k, passphrase_file: p}}"),
			field: "appliances[0].rules[0].actions[0].encryption.passphrase_file", msg: "sentinel actions take no key passphrase (only syslog-cef)"},
		{name: "encryption without key", data: actionDoc("sensor", "{type: syslog-cef, host: h, port: 514, encryption: {enabled: true, certificate_file: c}}"),
			field: "appliances[0].rules[0].actions[0].encryption.key_file", msg: "missing: name the PEM private key file"},
		{name: "encryption without enabled", data: actionDoc("sensor", "{type: syslog-cef, host: h, port: 514, encryption: {certificate_file: c, key_file: k}}"),
			field: "appliances[0].rules[0].actions[0].encryption.enabled", msg: "missing"},
		{name: "key file outside encryption", data: actionDoc("sensor", "{type: sentinel, host: h, port: 514, key_file: k}"),
			field: "appliances[0].rules[0].actions[0].key_file", msg: "key_file belongs under encryption"},
		{name: "url on sentinel", data: actionDoc("sensor", "{type: sentinel, host: h, port: 514, url: \"https://x\"}"),
			field: "appliances[0].rules[0].actions[0].url", msg: "sentinel actions have no url"},
		{name: "bad timezone", data: actionDoc("sensor", "{type: sentinel, host: h, port: 514, timezone: Europe/Berlni}"),
			field: "appliances[0].rules[0].actions[0].timezone", msg: `unknown timezone "Europe/Berlni"`},
		{name: "offset out of range", data: actionDoc("sensor", "{type: email, address: a@b.example, timezone: UTC+15:00}"),
			field: "appliances[0].rules[0].actions[0].timezone", msg: `invalid UTC offset "UTC+15:00"`},
		{name: "local timezone", data: actionDoc("sensor", "{type: email, address: a@b.example, timezone: Local}"),
			field: "appliances[0].rules[0].actions[0].timezone", msg: "unknown timezone"},
		{name: "two addresses", data: actionDoc("sensor", "{type: email, address: \"a@b.example, c@d.example\"}"),
			field: "appliances[0].rules[0].actions[0].address", msg: "one address per email action"},
		{name: "bad address", data: actionDoc("sensor", "{type: email, address: soc}"),
			field: "appliances[0].rules[0].actions[0].address", msg: `"soc" is not a valid email address`},
		{name: "settings nested", data: actionDoc("sensor", "{type: servicenow, settings: {instance: {url: x}}}"),
			field: "appliances[0].rules[0].actions[0].settings.instance", msg: "want a string, got a mapping"},

		// Secrets: never inline, never repeated.
		{name: "inline password", data: actionDoc("sensor", "{type: splunk, settings: {password: hunter2}}"),
			field: "appliances[0].rules[0].actions[0].settings.password", msg: `inline secret: put it in a file and name the file with "password_file" instead`},
		{name: "inline passphrase", data: actionDoc("sensor", "{type: syslog-cef, host: h, port: 514, encryption: {enabled: false, passphrase: hunter2}}"),
			field: "appliances[0].rules[0].actions[0].encryption.passphrase", msg: "inline secret"},
		{name: "inline header key", data: actionDoc("management-console", "{type: webhook, url: \"https://h.example\", headers: {X-Api-Key: hunter2}}"),
			field: "appliances[0].rules[0].actions[0].headers.X-Api-Key", msg: `name the file with "X-Api-Key_file"`},
		{name: "inline token anywhere", data: sensorDoc(okRule + "apiToken: hunter2"),
			field: "appliances[0].rules[0].apiToken", msg: "inline secret"},
		{name: "bearer header value", data: actionDoc("management-console", "{type: webhook, url: \"https://h.example\", headers: {X-Auth: \"Bearer hunter2\"}}"),
			field: "appliances[0].rules[0].actions[0].headers.X-Auth", msg: "inline secret (a credential)"},
		{name: "password in url", data: actionDoc("management-console", "{type: webhook, url: \"https://u:hunter2@h.example/x\"}"),
			field: "appliances[0].rules[0].actions[0].url", msg: "inline secret (a password in the URL)"},
		{name: "token in url query", data: actionDoc("management-console", "{type: webhook, url: \"https://h.example/x?access_token=hunter2\"}"),
			field: "appliances[0].rules[0].actions[0].url", msg: `inline secret (query parameter "access_token")`},
		{name: "private key value", data: actionDoc("sensor", "{type: fortigate, settings: {cert: \"-----BEGIN PRIVATE KEY-----hunter2\"}}"),
			field: "appliances[0].rules[0].actions[0].settings.cert", msg: "inline secret (a private key)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "inv.yaml"
			}
			inv, err := Parse(file, []byte(tt.data))
			if err == nil {
				t.Fatalf("no error; loaded %+v", inv.Appliances)
			}
			var probs Errors
			if !errors.As(err, &probs) {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			if len(probs) != 1 {
				t.Fatalf("want 1 problem, got %d:\n%v", len(probs), err)
			}
			p := probs[0]
			if p.File != file || p.Field != tt.field || !strings.Contains(p.Msg, tt.msg) {
				t.Errorf("got  %s\nwant field %q, message containing %q", p.Error(), tt.field, tt.msg)
			}
			if tt.field != "" && p.Line == 0 {
				t.Errorf("problem has no line: %s", p.Error())
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error repeats a secret: %v", err)
			}
		})
	}
}

// TestParse_Accepts checks forms that look odd but are right, including the
// legacy misconfiguration of several Sentinel servers in one rule, which
// the migration report flags later.
func TestParse_Accepts(t *testing.T) {
	tests := []struct {
		name, data string
		check      func(t *testing.T, inv *Inventory)
	}{
		{"several sentinel servers", sensorDoc(okRule + "  - {type: sentinel, host: 10.0.0.2, port: 514}"), func(t *testing.T, inv *Inventory) {
			if n := len(inv.Appliances[0].Rules[0].SentinelActions()); n != 2 {
				t.Errorf("sentinel actions = %d, want 2", n)
			}
		}},
		{"toggle left out, list given", sensorDoc(okRule + "protocols: [Modbus]"), func(t *testing.T, inv *Inventory) {
			if got := inv.Appliances[0].Rules[0].Protocols; !reflect.DeepEqual(got, []string{"Modbus"}) {
				t.Errorf("protocols = %v", got)
			}
		}},
		{"any with empty list", sensorDoc(okRule + "any_protocol_detected: true\nprotocols: []\ntraffic_detected_by_any_engine: true\nengines: ~"), func(t *testing.T, inv *Inventory) {
			if r := inv.Appliances[0].Rules[0]; r.Protocols != nil || r.Engines != nil {
				t.Errorf("protocols %v, engines %v; want nil for any", r.Protocols, r.Engines)
			}
		}},
		{"console without sensor list", consoleDoc(okRule), func(t *testing.T, inv *Inventory) {
			if r := inv.Appliances[0].Rules[0]; r.Sensors != nil || !r.Covers("any-sensor") {
				t.Errorf("sensors = %v", r.Sensors)
			}
		}},
		{"appliance without rules", "version: 1\nappliances: [{name: a, kind: Sensor, rules: []}]", func(t *testing.T, inv *Inventory) {
			if a := inv.Appliances[0]; a.Kind != bridge.ApplianceSensor || len(a.Rules) != 0 {
				t.Errorf("appliance = %+v", a)
			}
		}},
		{"numbers as names", "version: 1\nappliances: [{name: 4711, kind: sensor, version: 24.1, rules: []}]", func(t *testing.T, inv *Inventory) {
			if a := inv.Appliances[0]; a.Name != "4711" || a.Version != "24.1" {
				t.Errorf("appliance = %+v", a)
			}
		}},
		{"ipv6 host and udp", actionDoc("sensor", "{type: syslog-text, host: \"fd00::15\", port: 514, protocol: UDP}"), func(t *testing.T, inv *Inventory) {
			if a := inv.Appliances[0].Rules[0].Actions[0]; a.Host != "fd00::15" || a.Transport != bridge.TransportUDP {
				t.Errorf("action = %+v", a)
			}
		}},
		{"encryption disabled without files", actionDoc("sensor", "{type: sentinel, host: h, port: 514, encryption: {enabled: false}}"), func(t *testing.T, inv *Inventory) {
			if e := inv.Appliances[0].Rules[0].Actions[0].Encryption; e != (bridge.Encryption{}) {
				t.Errorf("encryption = %+v", e)
			}
		}},
		{"anchors without aliases", "version: &v 1\nappliances: [{name: a, kind: sensor, rules: []}]", func(t *testing.T, inv *Inventory) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse("inv.yaml", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, inv)
		})
	}
}

// TestParse_Golden pins the full listing for a file full of mistakes: every
// problem is reported, in line order, and no secret is repeated.
func TestParse_Golden(t *testing.T) {
	for _, name := range []string{"broken.yaml", "broken.json"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			var probs Errors
			if !errors.As(err, &probs) {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			got := err.Error() + "\n"
			golden := path + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s (go test -update to rewrite):\n%s", golden, got)
			}
			if strings.Contains(got, "S3CRET") {
				t.Error("a secret value appears in the problems")
			}
		})
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.yaml", "version: 1\nappliances:\n  - {name: plant-a, kind: sensor, rules: []}\n  - {name: plant-b, kind: sensor, rules: []}\n")
	b := write("b.json", `{"version": 1, "appliances": [{"name": "plant-c", "kind": "sensor", "rules": []}]}`)
	dup := write("dup.yaml", "version: 1\nappliances:\n  - {name: plant-c, kind: sensor, rules: []}\n  - {name: PLANT-A, kind: sensor, rules: []}\n  - {name: x, kind: sensor, rules: [}\n")

	t.Run("together", func(t *testing.T) {
		inv, err := LoadFiles(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Appliances) != 3 || inv.Appliance("PLANT-C") == nil || !reflect.DeepEqual(inv.Files, []string{a, b}) {
			t.Errorf("inventory = %+v", inv)
		}
		if got, want := inv.ApplianceSource("plant-c"), (Position{File: b, Line: 1, Column: 31}); got != want {
			t.Errorf("source = %v, want %v", got, want)
		}
	})

	t.Run("duplicate across files", func(t *testing.T) {
		dup := write("dup2.yaml", "version: 1\nappliances:\n  - {name: plant-c, kind: sensor, rules: []}\n  - {name: PLANT-A, kind: sensor, rules: []}\n")
		_, err := LoadFiles(a, b, dup)
		want := dup + ":3:12: appliances[0].name: duplicate appliance name \"plant-c\" (first at " + b + ":1:40): appliance names must be unique across the files loaded together, ignoring case\n" +
			dup + ":4:12: appliances[1].name: duplicate appliance name \"PLANT-A\" (first at " + a + ":3:12): appliance names must be unique across the files loaded together, ignoring case"
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})

	t.Run("every file's problems", func(t *testing.T) {
		bad := write("bad.yaml", "version: 3\n")
		_, err := LoadFiles(bad, a, dup)
		var probs Errors
		if !errors.As(err, &probs) || len(probs) != 2 || probs[0].File != bad || probs[1].File != dup {
			t.Errorf("got %v", err)
		}
	})

	t.Run("unreadable", func(t *testing.T) {
		_, err := LoadFiles(a, filepath.Join(dir, "missing.yaml"))
		var probs Errors
		if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &probs) {
			t.Errorf("got %T %v, want a not-exist error", err, err)
		}
		if _, err := LoadFiles(); err == nil {
			t.Error("no files: no error")
		}
	})

	t.Run("too large", func(t *testing.T) {
		big := write("big.yaml", "version: 1\n# "+strings.Repeat("x", MaxFileSize)+"\n")
		_, err := Load(big)
		want := big + ": file is larger than 8 MiB: split the appliances over several files and load them together"
		if err == nil || err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
}

func TestParse_ManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nappliances: [{name: a, kind: sensor, rules: []}]\n")
	for i := range 2 * maxProblems {
		b.WriteString("unknown_key_" + strings.Repeat("x", 40) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)) + ": 1\n")
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	var probs Errors
	if !errors.As(err, &probs) || len(probs) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(probs), maxProblems+1)
	}
	if want := "many.yaml: more than 500 problems: fix these and load the file again to see the rest"; probs[0].Error() != want {
		t.Errorf("first problem = %q, want %q", probs[0].Error(), want)
	}
}

// TestParse_LongJSONLine pins a fix: positions in JSON were counted from
// the start of the line for every token, which made a minified file of one
// long line take quadratic time (a 1 MiB line took over a minute).
func TestParse_LongJSONLine(t *testing.T) {
	rule := `{"name": "r%d", "minimal_alert_level": "Major", "actions": [{"type": "sentinel", "host": "h", "port": 514}]}`
	var b strings.Builder
	b.WriteString(`{"version": 1, "appliances": [{"name": "a", "kind": "sensor", "rules": [`)
	lastStart := 0
	for i := 0; b.Len() < 1<<20; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		lastStart = b.Len()
		b.WriteString(strings.Replace(rule, "%d", strconv.Itoa(i), 1))
	}
	b.WriteString("]}]}")

	start := time.Now()
	inv, err := Parse("min.json", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	last := inv.Appliances[0].Rules[len(inv.Appliances[0].Rules)-1]
	if pos := inv.RuleSource(last.Ref()); pos.Line != 1 || pos.Column != lastStart+1 {
		t.Errorf("last rule at %v, want line 1 column %d", pos, lastStart+1)
	}
}

func TestInventory_Sources(t *testing.T) {
	inv, err := Parse("conf/inv.yaml", []byte(smallYAML))
	if err != nil {
		t.Fatal(err)
	}
	ref := bridge.RuleRef{Appliance: "Plant-A", Rule: "MODBUS-text"}
	tests := []struct {
		name string
		got  Position
		want Position
	}{
		{"appliance", inv.ApplianceSource("plant-a"), Position{"conf/inv.yaml", 3, 5}},
		{"rule", inv.RuleSource(ref), Position{"conf/inv.yaml", 23, 9}},
		{"action", inv.ActionSource(ref, 0), Position{"conf/inv.yaml", 28, 13}},
		{"second sentinel", inv.ActionSource(bridge.RuleRef{Appliance: "plant-a", Rule: "sentinel-critical"}, 1), Position{"conf/inv.yaml", 20, 13}},
		{"action out of range", inv.ActionSource(ref, 1), Position{}},
		{"unknown appliance", inv.ApplianceSource("nope"), Position{}},
		{"unknown rule", inv.RuleSource(bridge.RuleRef{Appliance: "plant-a", Rule: "nope"}), Position{}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if s := inv.RuleSource(ref).String(); s != "conf/inv.yaml:23:9" {
		t.Errorf("String() = %q", s)
	}
}

func TestInventory_Rule(t *testing.T) {
	inv, err := Parse("inv.yaml", []byte(smallYAML))
	if err != nil {
		t.Fatal(err)
	}
	if r := inv.Rule(bridge.RuleRef{Appliance: "CM-1", Rule: "Hooks"}); r == nil || r.Name != "hooks" || r.Ref().String() != "cm-1/hooks" {
		t.Errorf("Rule = %+v", r)
	}
	if r := inv.Rule(bridge.RuleRef{Appliance: "cm-1", Rule: "nope"}); r != nil {
		t.Errorf("unknown rule = %+v", r)
	}
	if r := inv.Rule(bridge.RuleRef{Appliance: "nope", Rule: "hooks"}); r != nil {
		t.Errorf("unknown appliance = %+v", r)
	}
	var names []string
	for _, r := range inv.Rules() {
		names = append(names, r.Ref().String())
	}
	if want := []string{"plant-a/sentinel-critical", "plant-a/modbus-text", "cm-1/hooks"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Rules = %v, want %v", names, want)
	}
}

// TestParse_NoSecretInErrors puts secret-looking values in every place a
// message could quote them from.
func TestParse_NoSecretInErrors(t *testing.T) {
	const secret = "S3CRET-value-77"
	docs := []string{
		actionDoc("sensor", "{type: splunk, settings: {password: "+secret+", token: "+secret+", clientSecret: "+secret+"}}"),
		actionDoc("management-console", "{type: webhook, url: \"https://user:"+secret+"@h/x?sig=1&apikey="+secret+"\", headers: {Authorization: "+secret+"}}"),
		actionDoc("sensor", "{type: syslog-cef, host: h, port: 514, encryption: {enabled: true, passphrase: "+secret+", key: "+secret+"}}"),
		actionDoc("sensor", "{type: sentinel, host: h, port: 514, password: {nested: "+secret+"}}"),
		actionDoc("management-console", "{type: webhook, url: \"https://h\", headers: {X-A: \"Basic "+secret+"\"}}"),
		actionDoc("sensor", "{type: sentinel, host: h, port: [\""+secret+"\"], timezone: [\""+secret+"\"]}"),
		sensorDoc(okRule + "any_protocol_detected: \"" + secret + "\"\nsecret: " + secret),
		"version: 1\nappliances: [{name: a, kind: sensor, rules: [], api_key: " + secret + "}]\n",
	}
	for i, doc := range docs {
		_, err := Parse("inv.yaml", []byte(doc))
		if err == nil {
			t.Errorf("doc %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("doc %d: error repeats the secret:\n%v", i, err)
		}
	}
}

func TestParse_AliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nx: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	prev := "a"
	for i := range 20 {
		cur := string(rune('b' + i))
		b.WriteString(cur + ": &" + cur + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = cur
	}
	b.WriteString("appliances: [{name: a, kind: sensor, rules: *" + prev + "}]\n")
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Errorf("got %v", err)
	}
}

func TestErrors_Error(t *testing.T) {
	errs := Errors{
		{Position: Position{File: "a.yaml", Line: 3, Column: 7}, Field: "appliances[0].kind", Msg: "unknown"},
		{Position: Position{File: "a.yaml", Line: 9}, Msg: "invalid YAML: x"},
		{Position: Position{File: "a.yaml"}, Msg: "file is empty"},
	}
	want := "a.yaml:3:7: appliances[0].kind: unknown\na.yaml:9: invalid YAML: x\na.yaml: file is empty"
	if got := errs.Error(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestLoadTimezone(t *testing.T) {
	tests := []struct {
		in     string
		canon  string
		offset int // seconds east of UTC in January 2025
		bad    bool
	}{
		{in: "UTC", canon: "UTC"},
		{in: "utc", canon: "UTC"},
		{in: "Europe/Berlin", canon: "Europe/Berlin", offset: 3600},
		{in: "America/New_York", canon: "America/New_York", offset: -5 * 3600},
		{in: "UTC+02:00", canon: "UTC+02:00", offset: 7200},
		{in: "UTC-05:30", canon: "UTC-05:30", offset: -(5*3600 + 1800)},
		{in: "UTC+0530", canon: "UTC+05:30", offset: 5*3600 + 1800},
		{in: "UTC+2", canon: "UTC+02:00", offset: 7200},
		{in: "GMT-3", canon: "UTC-03:00", offset: -3 * 3600},
		{in: "UTC\u221204:00", canon: "UTC-04:00", offset: -4 * 3600},
		{in: "UTC+14:00", canon: "UTC+14:00", offset: 14 * 3600},
		{in: "UTC+00:00", canon: "UTC"},
		{in: "(UTC+01:00) Amsterdam, Berlin, Rome", canon: "UTC+01:00", offset: 3600},
		{in: "UTC+14:30", bad: true},
		{in: "UTC-13", bad: true},
		{in: "UTC+1:5", bad: true},
		{in: "UTC+02:", bad: true},
		{in: "UTC+", bad: true},
		{in: "UTC+ab", bad: true},
		{in: "UTC+02:60", bad: true},
		{in: "Mars/Olympus", bad: true},
		{in: "Local", bad: true},
		{in: "", bad: true},
		{in: "../../etc/passwd", bad: true},
	}
	jan := func(loc *time.Location) int {
		_, off := time.Date(2025, 1, 15, 12, 0, 0, 0, loc).Zone()
		return off
	}
	for _, tt := range tests {
		canon, loc, err := parseTimezone(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: no error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if canon != tt.canon || jan(loc) != tt.offset {
			t.Errorf("%q: got %q offset %d, want %q offset %d", tt.in, canon, jan(loc), tt.canon, tt.offset)
		}
		if again, err := LoadTimezone(canon); err != nil || jan(again) != tt.offset {
			t.Errorf("%q: canonical %q does not load back: %v", tt.in, canon, err)
		}
	}
}

func TestLooksSecret(t *testing.T) {
	tests := map[string]bool{
		"password": true, "Password": true, "client_secret": true, "clientSecret": true,
		"X-Api-Key": true, "apikey": true, "API key": true, "token": true, "HEC Token": true,
		"passphrase": true, "Authorization": true, "private-key": true, "accessKeyId": true,
		"password_file": false, "X-Api-Key_file": false, "key_file": false, "Authorization_FILE": false,
		"name": false, "host": false, "username": false, "monkey": false, "bypass_proxy": false,
		"certificate_file": false, "minimal_alert_level": false, "index": false,
	}
	for key, want := range tests {
		if got := looksSecret(key); got != want {
			t.Errorf("looksSecret(%q) = %v, want %v", key, got, want)
		}
	}
}
