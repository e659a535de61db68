package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or hang, that a failure
// is always a list of problems in the file named, and that whatever loads
// keeps the promises the rest of otbridge relies on.
func FuzzParse(f *testing.F) {
	seeds := []string{
		smallYAML,
		okRule,
		sensorDoc(okRule),
		consoleDoc(okRule + "report_system_notifications: true"),
		actionDoc("management-console", "{type: webhook, url: \"https://h.example\", headers: {X-Api-Key_file: k}}"),
		actionDoc("sensor", "{type: syslog-cef, host: h, port: 514, timezone: UTC+02:00, encryption: {enabled: true, certificate_file: c, key_file: k, passphrase_file: p}}"),
		"", "~", "[]", "{}", "version: 1", "version: 1\nappliances: []\n",
		"version: &v 1\nappliances: [{name: *v, kind: sensor, rules: []}]\n",
		"{\"version\": 1, \"appliances\": [{\"name\": \"a\", \"kind\": \"sensor\", \"rules\": []}]}",
		"{\"version\": 1, \"appliances\": [}",
		"a: b\n c: d\n",
		"version: 1\n---\nversion: 1\n",
		"\xef\xbb\xbf{\"version\": 1, \"appliances\": [{\"name\": \"s\\/\\ud83d\\ude00\", \"kind\": \"sensor\", \"rules\": []}]}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		"version: 1\nappliances: [{<<: {name: a}, kind: sensor, rules: []}]\n",
		"version: 1\nappliances: [{name: a, kind: management-console, sensors: [b, B], rules: [{name: r, minimal_alert_level: Minor, " +
			"any_protocol_detected: false, protocols: [Modbus], engines: [Malware], report_system_notifications: true, " +
			"actions: [{type: webhook, url: \"https://u:p@h/?token=1\", headers: {Authorization: x}}, {type: email, address: \"a@b, c@d\"}]}]}]\n",
		"version: 1\nappliances:\n- name: a\n  kind: sensor\n  rules:\n  - name: r\n    minimal_alert_level: Major\n    actions:\n    - type: syslog-text\n      host: h\n      port: 514\n      protocol: udp\n      timezone: (UTC-03:30) Newfoundland\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	for _, name := range []string{"../../configs/inventory.yaml", "../../configs/inventory.json", "testdata/broken.yaml", "testdata/broken.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, filepath.Ext(name) == ".json")
	}

	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		name := "fuzz.yaml"
		if asJSON {
			name = "fuzz.json"
		}
		inv, err := Parse(name, data)
		if err != nil {
			var probs Errors
			if !errors.As(err, &probs) || len(probs) == 0 {
				t.Fatalf("error %T %v is not a list of problems", err, err)
			}
			for _, p := range probs {
				if p.File != name || p.Msg == "" || p.Line < 0 || p.Column < 0 {
					t.Fatalf("malformed problem %#v", p)
				}
			}
			return
		}

		if len(inv.Appliances) == 0 {
			t.Fatal("loaded an inventory without appliances")
		}
		for _, a := range inv.Appliances {
			if a.Name == "" || (a.Kind != "sensor" && a.Kind != "management-console") {
				t.Fatalf("appliance %+v", a)
			}
			if inv.ApplianceSource(a.Name).Line == 0 {
				t.Fatalf("appliance %q has no source", a.Name)
			}
			for _, r := range a.Rules {
				if r.Name == "" || r.Appliance != a.Name || r.MinSeverity.String() == "" || len(r.Actions) == 0 {
					t.Fatalf("rule %+v", r)
				}
				if (r.Protocols != nil && len(r.Protocols) == 0) || (r.Engines != nil && len(r.Engines) == 0) {
					t.Fatalf("rule %q: an empty filter list must be nil", r.Name)
				}
				if inv.RuleSource(r.Ref()).Line == 0 || inv.ActionSource(r.Ref(), len(r.Actions)-1).Line == 0 {
					t.Fatalf("rule %q has no source", r.Name)
				}
				for _, act := range r.Actions {
					info, ok := act.Type.Info()
					if !ok || (info.Network && (act.Host == "" || act.Port < 1 || act.Port > 65535)) {
						t.Fatalf("action %+v", act)
					}
					if act.Timezone != "" {
						if _, err := LoadTimezone(act.Timezone); err != nil {
							t.Fatalf("stored timezone %q does not load: %v", act.Timezone, err)
						}
					}
				}
			}
		}
	})
}
