package inventory

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/otbridge/otbridge/bridge"
)

// The keys of each mapping of the format, in documentation order.
var (
	topKeys       = []string{"version", "appliances"}
	applianceKeys = []string{"name", "kind", "version", "sensors", "rules"}
	ruleKeys      = []string{
		"name", "minimal_alert_level",
		"any_protocol_detected", "protocols",
		"traffic_detected_by_any_engine", "engines",
		"report_system_notifications", "report_alert_notifications",
		"actions",
	}
	encryptionKeys = []string{"enabled", "certificate_file", "key_file", "passphrase_file"}
)

// fileAppliance is one appliance as read from a file, with where its parts
// were written.
type fileAppliance struct {
	app     bridge.Appliance
	field   string // "appliances[2]"
	pos     Position
	namePos Position
	rules   []ruleSource
}

// ruleSource is where a rule and each of its actions were written.
type ruleSource struct {
	pos     Position
	actions []Position
}

// document reads a whole file.
func (w *walker) document(doc *yaml.Node) []fileAppliance {
	root := doc.Content[0]
	f := w.fields(root, "", "an inventory with version and appliances")
	if f == nil {
		return nil
	}
	w.allow(f, topKeys, nil)

	if vn := f.get("version"); vn == nil {
		w.missing(f, "version", fmt.Sprintf("add \"version: %d\" at the top of the file", FormatVersion))
	} else if v, ok := w.integer(vn, "version"); ok && v != FormatVersion {
		// The rest would be judged by the wrong rules: stop here.
		w.report(vn, "version", "unsupported inventory format version %d: this otbridge reads version %d", v, FormatVersion)
		return nil
	}

	an := f.get("appliances")
	if an == nil {
		w.missing(f, "appliances", "list the sensors and management consoles whose forwarding rules are to migrate")
		return nil
	}
	items, ok := w.list(an, "appliances", "appliances")
	if ok && len(items) == 0 {
		w.report(an, "appliances", "empty: list at least one sensor or management console")
	}
	var out []fileAppliance
	for i, item := range items {
		if a := w.appliance(item, fmt.Sprintf("appliances[%d]", i)); a != nil {
			out = append(out, *a)
		}
	}
	return out
}

// appliance reads one sensor or management console and its rules.
func (w *walker) appliance(n *yaml.Node, path string) *fileAppliance {
	f := w.fields(n, path, "an appliance")
	if f == nil {
		return nil
	}
	w.allow(f, applianceKeys, nil)
	a := &fileAppliance{field: path, pos: w.pos(n)}

	if name, nn := w.required(f, "name", "give the appliance's name as its UI shows it (a sensor's name is the CEF product field)"); nn != nil {
		if strings.Contains(name, "/") {
			w.report(nn, f.field("name"), "contains \"/\", which otbridge puts between appliance and rule names: use the name without it")
		} else {
			a.app.Name, a.namePos = name, w.pos(nn)
		}
	}

	// An unknown kind leaves Kind empty, which skips the checks that
	// depend on it rather than piling up doubtful problems.
	if kind, kn := w.required(f, "kind", "say sensor or management-console"); kn != nil {
		switch strings.ToLower(kind) {
		case string(bridge.ApplianceSensor):
			a.app.Kind = bridge.ApplianceSensor
		case string(bridge.ApplianceConsole):
			a.app.Kind = bridge.ApplianceConsole
		default:
			w.report(kn, f.field("kind"), "unknown appliance kind %s (want sensor or management-console)", short(kind))
		}
	}

	a.app.Version, _ = w.text(f.get("version"), f.field("version"))

	if sn := f.get("sensors"); sn != nil {
		if a.app.Kind == bridge.ApplianceSensor {
			w.report(f.key("sensors"), f.field("sensors"), "only a management console has a sensor list, a sensor's rules see its own alerts: remove it, or set kind: management-console")
		} else {
			a.app.Sensors = values(w.texts(sn, f.field("sensors"), "sensor names"))
		}
	}

	rn := f.get("rules")
	if rn == nil {
		w.missing(f, "rules", "list the appliance's forwarding rules (\"rules: []\" when it has none)")
	}
	items, _ := w.list(rn, f.field("rules"), "rules")
	first := make(map[string]int, len(items))
	for i, item := range items {
		rpath := fmt.Sprintf("%s[%d]", f.field("rules"), i)
		r, src, nameNode := w.rule(item, rpath, &a.app)
		if r == nil {
			continue
		}
		if nameNode != nil {
			folded := strings.ToLower(r.Name)
			if line, dup := first[folded]; dup {
				w.report(nameNode, rpath+".name", "duplicate rule name %s (first at line %d): rule names must be unique on an appliance, ignoring case", short(r.Name), line)
			} else {
				first[folded] = nameNode.Line
			}
		}
		a.app.Rules = append(a.app.Rules, *r)
		a.rules = append(a.rules, src)
	}
	return a
}

// rule reads one forwarding rule of app. It returns the rule's name node,
// nil when the name had a problem, for the duplicate check.
func (w *walker) rule(n *yaml.Node, path string, app *bridge.Appliance) (*bridge.Rule, ruleSource, *yaml.Node) {
	f := w.fields(n, path, "a rule")
	if f == nil {
		return nil, ruleSource{}, nil
	}
	w.allow(f, ruleKeys, nil)
	r := &bridge.Rule{Appliance: app.Name, ApplianceKind: app.Kind, Sensors: slices.Clone(app.Sensors)}
	src := ruleSource{pos: w.pos(n)}

	name, nameNode := w.required(f, "name", "give the rule's name as the UI shows it")
	r.Name = name

	if level, ln := w.required(f, "minimal_alert_level", "give the rule's minimal alert level: Warning, Minor, Major or Critical"); ln != nil {
		sev, err := bridge.ParseSeverity(level)
		if err != nil {
			w.report(ln, f.field("minimal_alert_level"), "%v", err)
		}
		r.MinSeverity = sev
	}

	protocols := values(w.texts(f.get("protocols"), f.field("protocols"), "protocol names"))
	if !w.anyToggle(f, "any_protocol_detected", "protocols") {
		r.Protocols = protocols
	}
	engines := w.engines(f.get("engines"), f.field("engines"))
	if !w.anyToggle(f, "traffic_detected_by_any_engine", "engines") {
		r.Engines = engines
	}

	for _, key := range []string{"report_system_notifications", "report_alert_notifications"} {
		vn := f.get(key)
		if vn == nil {
			continue
		}
		if app.Kind == bridge.ApplianceSensor {
			w.report(f.key(key), f.field(key), "only management console rules have this option: remove it, or set kind: management-console on the appliance")
			continue
		}
		v, _ := w.boolean(vn, f.field(key))
		if key == "report_system_notifications" {
			r.SystemNotifications = v
		} else {
			r.AlertNotifications = v
		}
	}

	an := f.get("actions")
	items, ok := w.list(an, f.field("actions"), "actions")
	const todo = "add at least one action, a server the rule forwards to (the UI's \"Add server\")"
	switch {
	case an == nil:
		w.missing(f, "actions", todo)
	case ok && len(items) == 0:
		w.report(an, f.field("actions"), "empty: %s", todo)
	}
	for i, item := range items {
		if act := w.action(item, fmt.Sprintf("%s[%d]", f.field("actions"), i), app.Kind); act != nil {
			r.Actions = append(r.Actions, *act)
			src.actions = append(src.actions, w.pos(item))
		}
	}
	return r, src, nameNode
}

// anyToggle reads one of a rule's "any ..." switches together with the
// list it stands for, and reports a contradiction between the two. It
// returns whether the rule takes any value, in which case the list is
// ignored. When the switch is left out, a non-empty list turns it off.
func (w *walker) anyToggle(f *fields, toggleKey, listKey string) bool {
	ln := f.get(listKey)
	listed := ln != nil && !isNull(ln) && !(ln.Kind == yaml.SequenceNode && len(ln.Content) == 0)
	tn := f.get(toggleKey)
	if tn == nil {
		return !listed
	}
	on, ok := w.boolean(tn, f.field(toggleKey))
	if !ok {
		return !listed
	}
	switch {
	case on && listed:
		w.report(ln, f.field(listKey), "%s is true, so the list must be empty: remove the list, or set %s: false", toggleKey, toggleKey)
	case !on && !listed:
		w.report(tn, f.field(toggleKey), "false, but %s lists nothing: list the %s the rule forwards, or set %s: true", listKey, listKey, toggleKey)
	}
	return on
}

// engines reads a rule's engine list, in any spelling bridge.ParseEngine
// takes.
func (w *walker) engines(n *yaml.Node, path string) []bridge.Engine {
	var out []bridge.Engine
	for _, it := range w.texts(n, path, "engine names") {
		e, err := bridge.ParseEngine(it.value)
		if err != nil {
			w.report(it.node, it.path, "%v", err)
			continue
		}
		if slices.Contains(out, e) {
			w.report(it.node, it.path, "engine %s listed twice: remove one", e)
			continue
		}
		out = append(out, e)
	}
	return out
}

// actionKeys lists the keys an action of the given type takes.
func actionKeys(info bridge.ActionInfo) []string {
	keys := []string{"type"}
	switch {
	case info.Network:
		keys = append(keys, "host", "port", "timezone")
		if info.Type == bridge.ActionSyslogText {
			keys = append(keys, "protocol")
		}
		if info.Encryption {
			keys = append(keys, "encryption")
		}
	case info.Type == bridge.ActionEmail:
		keys = append(keys, "address", "timezone")
	case info.Type == bridge.ActionWebhook || info.Type == bridge.ActionWebhookExt:
		keys = append(keys, "url", "headers")
	default:
		keys = append(keys, "settings")
	}
	return keys
}

// allActionKeys is every key some action type takes.
var allActionKeys = func() []string {
	var all []string
	for _, t := range bridge.ActionTypes() {
		info, _ := t.Info()
		for _, k := range actionKeys(info) {
			if !slices.Contains(all, k) {
				all = append(all, k)
			}
		}
	}
	return all
}()

// typesWith lists the action types for which has is true.
func typesWith(has func(bridge.ActionInfo) bool) string {
	var names []string
	for _, t := range bridge.ActionTypes() {
		if info, _ := t.Info(); has(info) {
			names = append(names, string(t))
		}
	}
	return strings.Join(names, ", ")
}

// misplacedActionKey explains a key that an action of this type does not
// take, or returns "" when the key is unknown to every type.
func misplacedActionKey(info bridge.ActionInfo, keys []string) func(string) string {
	return func(key string) string {
		switch {
		case key == "protocol" && info.Network:
			return "only syslog-text actions have a protocol (the Text message format is the one with a TCP or UDP choice): remove it"
		case key == "encryption" && info.Network:
			return fmt.Sprintf("%s actions have no encryption option (only %s): remove it", info.Type,
				typesWith(func(i bridge.ActionInfo) bool { return i.Encryption }))
		case slices.Contains(encryptionKeys, key):
			return key + " belongs under encryption"
		case slices.Contains(allActionKeys, key):
			return fmt.Sprintf("%s actions have no %s (allowed keys: %s): remove it", info.Type, key, strings.Join(keys, ", "))
		}
		return ""
	}
}

// action reads one action (server) of a rule on an appliance of the given
// kind.
func (w *walker) action(n *yaml.Node, path string, kind bridge.ApplianceKind) *bridge.Action {
	f := w.fields(n, path, "an action")
	if f == nil {
		return nil
	}
	ts, tn := w.required(f, "type", "name the server type, one of "+typesWith(func(bridge.ActionInfo) bool { return true }))
	if tn == nil {
		return nil
	}
	t, err := bridge.ParseActionType(ts)
	if err != nil {
		w.report(tn, f.field("type"), "%v", err)
		return nil
	}
	info, _ := t.Info()
	if info.ConsoleOnly && kind == bridge.ApplianceSensor {
		w.report(tn, f.field("type"), "%s actions exist only on the management console: move the rule to a management-console appliance, or remove the action", t)
	}
	keys := actionKeys(info)
	w.allow(f, keys, misplacedActionKey(info, keys))
	a := &bridge.Action{Type: t}

	if info.Network {
		if host, hn := w.required(f, "host", "give the server's host name or IP address"); hn != nil {
			if msg := hostProblem(host); msg != "" {
				w.report(hn, f.field("host"), "%s", msg)
			} else {
				a.Host = host
			}
		}
		if pn := f.get("port"); pn == nil {
			w.missing(f, "port", "give the port the server listens on (syslog usually 514, syslog over TLS 6514)")
		} else if p, ok := w.integer(pn, f.field("port")); ok {
			if p < 1 || p > 65535 {
				w.report(pn, f.field("port"), "port %d out of range: want 1 to 65535", p)
			} else {
				a.Port = int(p)
			}
		}
	}

	if slices.Contains(keys, "timezone") {
		if s, ok := w.text(f.get("timezone"), f.field("timezone")); ok && s != "" {
			name, _, err := parseTimezone(s)
			if err != nil {
				w.report(f.get("timezone"), f.field("timezone"), "%v", err)
			}
			a.Timezone = name
		}
	}

	if en := f.get("encryption"); en != nil && info.Encryption {
		a.Encryption = w.encryption(en, f.field("encryption"), info)
	}

	if pn := f.get("protocol"); pn != nil && t == bridge.ActionSyslogText {
		if s, ok := w.text(pn, f.field("protocol")); ok {
			switch strings.ToLower(s) {
			case "":
			case string(bridge.TransportUDP):
				a.Transport = bridge.TransportUDP
			case string(bridge.TransportTCP):
				a.Transport = bridge.TransportTCP
			default:
				w.report(pn, f.field("protocol"), "unknown protocol %s (want udp or tcp)", short(s))
			}
		}
	}

	switch {
	case t == bridge.ActionEmail:
		if s, sn := w.required(f, "address", "give the one address the action mails to"); sn != nil {
			addr, msg := parseEmail(s)
			if msg != "" {
				w.report(sn, f.field("address"), "%s", msg)
			}
			a.Email = addr
		}

	case slices.Contains(keys, "url"):
		if s, un := w.required(f, "url", "give the webhook's http:// or https:// URL"); un != nil {
			if msg := urlProblem(s); msg != "" {
				w.report(un, f.field("url"), "%s", msg)
			} else {
				a.URL = s
			}
		}
		a.Headers = w.stringMap(f.get("headers"), f.field("headers"), "header names and values", func(key string) string {
			if !validHeaderName(strings.TrimSuffix(key, "_file")) {
				return fmt.Sprintf("%s is not a valid HTTP header name", short(key))
			}
			return ""
		})

	case slices.Contains(keys, "settings"):
		a.Settings = w.stringMap(f.get("settings"), f.field("settings"), "setting names and values", nil)
	}
	return a
}

// encryption reads an action's TLS settings.
func (w *walker) encryption(n *yaml.Node, path string, info bridge.ActionInfo) bridge.Encryption {
	var e bridge.Encryption
	f := w.fields(n, path, "the encryption settings")
	if f == nil {
		return e
	}
	keys := encryptionKeys
	if !info.Passphrase {
		keys = slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "passphrase_file" })
	}
	w.allow(f, keys, func(key string) string {
		if key == "passphrase_file" {
			return fmt.Sprintf("%s actions take no key passphrase (only %s): remove it", info.Type,
				typesWith(func(i bridge.ActionInfo) bool { return i.Passphrase }))
		}
		return ""
	})

	if en := f.get("enabled"); en == nil {
		w.missing(f, "enabled", "say enabled: true or enabled: false")
	} else {
		e.Enabled, _ = w.boolean(en, f.field("enabled"))
	}

	cert, _ := w.text(f.get("certificate_file"), f.field("certificate_file"))
	key, _ := w.text(f.get("key_file"), f.field("key_file"))
	e.CertFile, e.KeyFile = w.path(cert), w.path(key)
	if info.Passphrase {
		pass, _ := w.text(f.get("passphrase_file"), f.field("passphrase_file"))
		e.PassphraseFile = w.path(pass)
	}
	if e.Enabled {
		for _, req := range [...]struct{ key, todo string }{
			{"certificate_file", "name the PEM certificate file, a copy of the one uploaded to the appliance"},
			{"key_file", "name the PEM private key file, a copy of the one uploaded to the appliance"},
		} {
			key, todo := req.key, req.todo
			switch vn := f.get(key); {
			case vn == nil:
				w.missing(f, key, todo)
			case isNull(vn) || (vn.Kind == yaml.ScalarNode && strings.TrimSpace(vn.Value) == ""):
				w.report(vn, f.field(key), "empty: %s", todo)
			}
		}
	}
	return e
}

// stringMap reads a mapping of names to single values, such as an action's
// headers or vendor settings; checkKey, when not nil, may refuse a name.
// Numbers and booleans are kept as their text, and the values of keys
// ending in "_file" are resolved as paths. Keys that hold a secret inline
// have already been refused by fields.
func (w *walker) stringMap(n *yaml.Node, path, what string, checkKey func(string) string) map[string]string {
	if n == nil || isNull(n) {
		return nil
	}
	f := w.fields(n, path, "a mapping of "+what)
	if f == nil || len(f.keys) == 0 {
		return nil
	}
	out := make(map[string]string, len(f.keys))
	for _, k := range f.keys {
		key, v := k.Value, f.vals[k.Value]
		if checkKey != nil {
			if msg := checkKey(key); msg != "" {
				w.report(k, f.field(key), "%s", msg)
				continue
			}
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
			out[key] = strings.ToLower(v.Value)
			continue
		}
		s, ok := w.text(v, f.field(key))
		switch {
		case !ok:
		case s == "":
			w.report(v, f.field(key), "empty: give a value, or remove the key")
		case strings.HasSuffix(strings.ToLower(key), "_file"):
			out[key] = w.path(s)
		default:
			out[key] = s
		}
	}
	return out
}
