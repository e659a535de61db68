package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/forwarder"
	"github.com/otbridge/otbridge/legacy/listener"
	"github.com/otbridge/otbridge/modern"
)

// envPrefix is the prefix of environment overrides: OTBRIDGE_LOG_LEVEL sets
// log.level.
const envPrefix = "OTBRIDGE"

// Config is otbridge's configuration file. Every field's default is given in
// its comment and applied by setDefaults.
type Config struct {
	// Inventory lists the rule inventory files, relative to the config
	// file's folder. Required.
	Inventory []string `mapstructure:"inventory"`
	// DataDir, if empty, is ./data next to the config file: queues, ledger
	// and state live there.
	DataDir string `mapstructure:"data_dir"`
	// Timezone is used for alert times that carry no zone, when no rule
	// action names one. Default UTC.
	Timezone string     `mapstructure:"timezone"`
	Log      LogConfig  `mapstructure:"log"`
	Limits   Limits     `mapstructure:"limits"`
	Routing  RoutingCfg `mapstructure:"routing"`
	// Listeners receive syslog from the sensors (the inline topology).
	Listeners []ListenerCfg `mapstructure:"listeners"`
	// Destinations name where the two paths send.
	Destinations Destinations `mapstructure:"destinations"`
	// Plan sets up the migration report.
	Plan PlanCfg `mapstructure:"plan"`
}

// PlanCfg sets up the migration report (`otbridge plan`).
type PlanCfg struct {
	// Alerts lists sample alert files (syslog/CEF/LEEF lines or API JSON),
	// relative to the config file. Default none; --alerts replaces it.
	Alerts []string `mapstructure:"alerts"`
	// ExpiryHorizon is how soon a certificate expiry is reported. Default
	// 720h (30 days); --expiry-horizon overrides it.
	ExpiryHorizon time.Duration `mapstructure:"expiry_horizon"`
}

// LogConfig sets up logging.
type LogConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `mapstructure:"level"`
	// Format is text or json. Default text.
	Format string `mapstructure:"format"`
}

// Limits bounds what otbridge accepts.
type Limits struct {
	// MaxMessageSize is the largest syslog message or API alert accepted,
	// in bytes. Default 65536 (64 KiB).
	MaxMessageSize int `mapstructure:"max_message_size"`
}

// RoutingCfg is the routing section: per rule mode and destinations.
type RoutingCfg struct {
	// Undecided says what to do with an alert a rule's filter cannot judge
	// (API alerts carry no protocol): include or exclude. Default include.
	Undecided string `mapstructure:"undecided"`
	// Default is the route of every rule not listed in Rules. Default mode
	// legacy.
	Default RouteCfg `mapstructure:"default"`
	// Rules lists per-rule routes.
	Rules []RuleRouteCfg `mapstructure:"rules"`
}

// RouteCfg is a mode with the destinations of each path.
type RouteCfg struct {
	Mode   string   `mapstructure:"mode"`
	Legacy []string `mapstructure:"legacy"`
	Modern []string `mapstructure:"modern"`
}

// RuleRouteCfg is the route of one inventory rule.
type RuleRouteCfg struct {
	Appliance string `mapstructure:"appliance"`
	Rule      string `mapstructure:"rule"`
	RouteCfg  `mapstructure:",squash"`
}

// Destinations lists the named destinations of each path.
type Destinations struct {
	Legacy []forwarder.Config `mapstructure:"legacy"`
	Modern []modern.Config    `mapstructure:"modern"`
}

// ListenerCfg is a syslog listener with where the relay forwards what it
// receives.
type ListenerCfg struct {
	listener.Config `mapstructure:",squash"`
	// ForwardTo names the legacy destinations the relay sends this
	// listener's messages to. Default: routing.default.legacy.
	ForwardTo []string `mapstructure:"forward_to"`
}

func setDefaults(v *viper.Viper) {
	v.SetDefault("timezone", "UTC")
	v.SetDefault("log.level", "info")
	v.SetDefault("log.format", "text")
	v.SetDefault("limits.max_message_size", 64<<10)
	v.SetDefault("routing.undecided", string(bridge.UndecidedInclude))
	v.SetDefault("routing.default.mode", string(bridge.ModeLegacy))
	v.SetDefault("plan.expiry_horizon", bridge.DefaultExpiryHorizon)
}

// loadedConfig is a configuration with where it came from.
type loadedConfig struct {
	Config
	// Path is the config file; Dir its folder, the base of relative paths.
	Path string
	Dir  string
	pos  *yamlPositions
	src  *settings
}

// Problem is one thing wrong with an input file, at a position.
type Problem struct {
	File  string `json:"file"`
	Line  int    `json:"line,omitempty"`
	Field string `json:"field,omitempty"`
	Msg   string `json:"message"`
	// gap marks a route whose mode sends on a path without naming a
	// destination there: an error for every command but the migration
	// report, which reports it as a no-destination blocker.
	gap bool
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of problems; as an error it prints one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// loadConfig reads the config file through viper, with OTBRIDGE_ environment
// overrides and the given viper (which may have flags bound). Unknown keys,
// wrong types and invalid values are returned as Problems naming the line.
func loadConfig(s *settings, path string) (*loadedConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: path, Line: yamlErrorLine(err), Msg: "not valid YAML: " + yamlErrorText(err)}}
	}
	pos := newYAMLPositions(&root)

	// Unknown keys are found on the YAML tree, so every one is reported
	// with its line, not only the first.
	var probs Problems
	if doc := pos.root; doc != nil {
		checkKeys(path, doc, reflect.TypeFor[Config](), "", &probs)
	}
	if len(probs) > 0 {
		return partialConfig(path, pos), probs
	}

	v := s.v
	setDefaults(v)
	v.SetConfigType("yaml")
	v.SetEnvPrefix(envPrefix)
	v.AutomaticEnv()
	if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	var c Config
	if err := v.UnmarshalExact(&c); err != nil {
		return nil, Problems{{File: path, Msg: "cannot read settings: " + err.Error()}}
	}

	lc := &loadedConfig{Config: c, Path: path, Dir: filepath.Dir(path), pos: pos, src: s}
	if probs := lc.validate(); len(probs) > 0 {
		return lc, probs
	}
	return lc, nil
}

// partialConfig is what can still be used of a config whose keys are
// wrong: its inventory list, so that validate reports the inventory's
// problems in the same run. It is never used to run anything.
func partialConfig(path string, pos *yamlPositions) *loadedConfig {
	lc := &loadedConfig{Path: path, Dir: filepath.Dir(path), pos: pos}
	root := pos.root
	if root == nil || root.Kind != yaml.MappingNode {
		return lc
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, val := root.Content[i], root.Content[i+1]
		if k.Value != "inventory" || val.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range val.Content {
			if item.Kind == yaml.ScalarNode && item.Value != "" {
				lc.Inventory = append(lc.Inventory, item.Value)
			}
		}
	}
	return lc
}

// settings is where configuration values come from: a viper set up for
// otbridge's environment overrides, and the flags bound to it.
type settings struct {
	v     *viper.Viper
	flags map[string]*pflag.Flag // by config key
}

func newSettings() *settings {
	v := viper.NewWithOptions(
		viper.ExperimentalBindStruct(),
		viper.EnvKeyReplacer(strings.NewReplacer(".", "_")),
	)
	return &settings{v: v, flags: map[string]*pflag.Flag{}}
}

// bindFlag makes the flag override the config key when it is given.
func (s *settings) bindFlag(key string, f *pflag.Flag) {
	if err := s.v.BindPFlag(key, f); err != nil {
		panic(err) // f is nil: a programming error
	}
	s.flags[key] = f
}

// overriddenBy names what set the key instead of the config file: a flag,
// an environment variable, or "" for neither.
func (s *settings) overriddenBy(key string) string {
	if f := s.flags[key]; f != nil && f.Changed {
		return "flag --" + f.Name
	}
	env := envPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(key))
	if _, ok := os.LookupEnv(env); ok {
		return "environment variable " + env
	}
	return ""
}

// resolve makes a path from the config relative to the config's folder.
func (c *loadedConfig) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// InventoryPaths returns the inventory files, resolved.
func (c *loadedConfig) InventoryPaths() []string {
	out := make([]string, len(c.Inventory))
	for i, p := range c.Inventory {
		out[i] = c.resolve(p)
	}
	return out
}

// PlanAlertPaths returns the migration report's sample alert files,
// resolved.
func (c *loadedConfig) PlanAlertPaths() []string {
	out := make([]string, len(c.Plan.Alerts))
	for i, p := range c.Plan.Alerts {
		out[i] = c.resolve(p)
	}
	return out
}

// DataPath returns the data directory, resolved.
func (c *loadedConfig) DataPath() string {
	if c.DataDir == "" {
		return filepath.Join(c.Dir, "data")
	}
	return c.resolve(c.DataDir)
}

// problem reports a bad value at the field's line, or names the flag or
// environment variable that set it.
func (c *loadedConfig) problem(field, format string, args ...any) Problem {
	p := Problem{File: c.Path, Field: field, Msg: fmt.Sprintf(format, args...)}
	if by := c.src.overriddenBy(field); by != "" {
		p.Msg += " (set by " + by + ")"
	} else {
		p.Line = c.pos.Line(field)
	}
	return p
}

// validate checks values that the types alone do not.
func (c *loadedConfig) validate() Problems {
	var ps Problems
	add := func(field, format string, args ...any) { ps = append(ps, c.problem(field, format, args...)) }
	gap := func(field, format string, args ...any) {
		p := c.problem(field, format, args...)
		p.gap = true
		ps = append(ps, p)
	}

	if len(c.Inventory) == 0 {
		add("inventory", "no inventory file named: list at least one rule inventory file")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		add("timezone", "unknown timezone %q: use an IANA name such as Europe/Berlin, or UTC", c.Timezone)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		add("log.level", "unknown level %q (want debug, info, warn or error)", c.Log.Level)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		add("log.format", "unknown format %q (want text or json)", c.Log.Format)
	}
	if c.Limits.MaxMessageSize < 480 || c.Limits.MaxMessageSize > 16<<20 {
		add("limits.max_message_size", "%d is out of range: syslog senders need at least 480 bytes; at most 16777216", c.Limits.MaxMessageSize)
	}
	if c.Plan.ExpiryHorizon <= 0 {
		add("plan.expiry_horizon", "%s is not positive: give a duration such as 720h", c.Plan.ExpiryHorizon)
	}
	if c.Routing.Undecided != string(bridge.UndecidedInclude) && c.Routing.Undecided != string(bridge.UndecidedExclude) {
		add("routing.undecided", "unknown policy %q (want include or exclude)", c.Routing.Undecided)
	}

	// Destination names are unique across both paths, so a route can name
	// them without saying which path.
	legacy := map[string]bool{}
	modern := map[string]bool{}
	for i := range c.Destinations.Legacy {
		f := fmt.Sprintf("destinations.legacy[%d]", i)
		d := c.Destinations.Legacy[i].WithDefaults()
		for _, p := range []*string{&d.TLS.CAFile, &d.TLS.CertificateFile, &d.TLS.KeyFile} {
			*p = c.resolve(*p)
		}
		c.Destinations.Legacy[i] = d
		if d.Name != "" && legacy[d.Name] {
			add(f+".name", "duplicate destination name %q", d.Name)
		}
		legacy[d.Name] = true
		for _, p := range d.Validate() {
			add(f+"."+p.Field, "%s", p.Msg)
		}
	}
	for i := range c.Destinations.Modern {
		f := fmt.Sprintf("destinations.modern[%d]", i)
		d := c.Destinations.Modern[i].WithDefaults()
		for _, p := range []*string{&d.CABundleFile, &d.Credential.ClientSecretFile, &d.Credential.CertificateFile,
			&d.Credential.CertificatePasswordFile, &d.Credential.TokenFile} {
			*p = c.resolve(*p)
		}
		c.Destinations.Modern[i] = d
		if d.Name != "" && (legacy[d.Name] || modern[d.Name]) {
			add(f+".name", "duplicate destination name %q", d.Name)
		}
		modern[d.Name] = true
		for _, p := range d.Validate() {
			add(f+"."+p.Field, "%s", p.Msg)
		}
	}

	names := map[string]bool{}
	for i := range c.Listeners {
		f := fmt.Sprintf("listeners[%d]", i)
		l := &c.Listeners[i]
		l.Config = l.Config.WithDefaults()
		for _, p := range []*string{&l.TLS.CertificateFile, &l.TLS.KeyFile, &l.TLS.ClientCAFile} {
			*p = c.resolve(*p)
		}
		if l.Name != "" && names[l.Name] {
			add(f+".name", "duplicate listener name %q", l.Name)
		}
		names[l.Name] = true
		for _, p := range l.Validate() {
			add(f+"."+p.Field, "%s", p.Msg)
		}
		for j, name := range l.ForwardTo {
			if !legacy[name] {
				add(fmt.Sprintf("%s.forward_to[%d]", f, j), "no legacy destination named %q under destinations.legacy", name)
			}
		}
	}

	checkRoute := func(f string, r RouteCfg) {
		l, m := r.Legacy, r.Modern
		md, err := bridge.ParseMode(r.Mode)
		if err != nil {
			add(f+".mode", "%v", err)
		}
		for j, name := range l {
			if !legacy[name] {
				add(fmt.Sprintf("%s.legacy[%d]", f, j), "no legacy destination named %q under destinations.legacy", name)
			}
		}
		for j, name := range m {
			if !modern[name] {
				add(fmt.Sprintf("%s.modern[%d]", f, j), "no modern destination named %q under destinations.modern", name)
			}
		}
		if md.Legacy() && len(l) == 0 {
			gap(f+".legacy", "mode %s sends on the legacy path but names no legacy destination", md)
		}
		if md.Modern() && len(m) == 0 {
			gap(f+".modern", "mode %s sends on the modern path but names no modern destination", md)
		}
	}
	checkRoute("routing.default", c.Routing.Default)
	seen := map[bridge.RuleRef]int{}
	for i, r := range c.Routing.Rules {
		f := fmt.Sprintf("routing.rules[%d]", i)
		if r.Appliance == "" || r.Rule == "" {
			add(f, "a route needs both appliance and rule")
		}
		ref := bridge.RuleRef{Appliance: r.Appliance, Rule: r.Rule}
		if j, dup := seen[ref]; dup {
			add(f, "second route for %s (the first is routing.rules[%d]): keep one", ref, j)
		}
		seen[ref] = i
		checkRoute(f, r.RouteCfg)
	}
	return ps
}

// RoutingTable converts the routing section into the domain's routing table.
// Call it only on a validated config.
func (c *loadedConfig) RoutingTable() *bridge.Routing {
	r := &bridge.Routing{
		Rules:     make(map[bridge.RuleRef]bridge.RuleRoute, len(c.Routing.Rules)),
		Default:   c.Routing.Default.route(),
		Undecided: bridge.UndecidedPolicy(c.Routing.Undecided),
	}
	for _, rr := range c.Routing.Rules {
		r.Rules[bridge.RuleRef{Appliance: rr.Appliance, Rule: rr.Rule}] = rr.route()
	}
	return r
}

// route converts a validated route.
func (r RouteCfg) route() bridge.RuleRoute {
	md, _ := bridge.ParseMode(r.Mode)
	return bridge.RuleRoute{Mode: md, Legacy: r.Legacy, Modern: r.Modern}
}

// checkKeys reports every mapping key under n that the struct type t has no
// field for, recursing into structs and slices of structs.
func checkKeys(file string, n *yaml.Node, t reflect.Type, path string, probs *Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := configKeys(t)
		names := slices.Collect(maps.Keys(fields))
		slices.SortFunc(names, func(a, b string) int { return fields[a].index - fields[b].index })
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			field := joinPath(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				*probs = append(*probs, Problem{File: file, Line: k.Line, Field: field,
					Msg: fmt.Sprintf("unknown key (allowed here: %s)", strings.Join(names, ", "))})
				continue
			}
			checkKeys(file, val, f.typ, field, probs)
		}
	case t.Kind() == reflect.Struct && n.Kind != yaml.MappingNode && !isNull(n):
		*probs = append(*probs, Problem{File: file, Line: n.Line, Field: path, Msg: "want a mapping of keys"})
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			checkKeys(file, item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), probs)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.MappingNode:
		*probs = append(*probs, Problem{File: file, Line: n.Line, Field: path, Msg: "want a list"})
	case (t.Kind() == reflect.String || t.Kind() == reflect.Int) && n.Kind != yaml.ScalarNode:
		*probs = append(*probs, Problem{File: file, Line: n.Line, Field: path, Msg: "want a single value, not a list or mapping"})
	case t.Kind() == reflect.Int && n.Kind == yaml.ScalarNode && n.Tag != "!!int":
		*probs = append(*probs, Problem{File: file, Line: n.Line, Field: path, Msg: fmt.Sprintf("want a whole number, got %q", n.Value)})
	}
}

// configKey is a key of a config struct: its field's type and position.
type configKey struct {
	typ   reflect.Type
	index int
}

// configKeys returns the keys of a config struct by their mapstructure
// names, with the keys of squashed embedded structs in their place.
func configKeys(t reflect.Type) map[string]configKey {
	keys := map[string]configKey{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for f := range t.Fields() {
			tag := strings.Split(f.Tag.Get("mapstructure"), ",")
			switch {
			case slices.Contains(tag[1:], "squash"):
				add(f.Type)
			case tag[0] != "" && tag[0] != "-":
				keys[tag[0]] = configKey{typ: f.Type, index: len(keys)}
			}
		}
	}
	add(t)
	return keys
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlPositions finds the line of a dotted field path in a YAML document.
type yamlPositions struct{ root *yaml.Node }

func newYAMLPositions(doc *yaml.Node) *yamlPositions {
	p := &yamlPositions{}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		p.root = doc.Content[0]
	}
	return p
}

// Line returns the line of the field ("routing.rules[2].mode"), or of its
// nearest ancestor present in the file; 0 when nothing is found.
func (p *yamlPositions) Line(field string) int {
	if p == nil || p.root == nil {
		return 0
	}
	n, line := p.root, p.root.Line
	for part := range strings.SplitSeq(field, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			fmt.Sscanf(part[i+1:len(part)-1], "%d", &idx)
		}
		next := mappingValue(n, name)
		if next == nil {
			return line
		}
		n, line = next, next.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n, line = n.Content[idx], n.Content[idx].Line
		}
	}
	return line
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func yamlErrorLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	var line int
	if _, scanErr := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line); scanErr == nil {
		return line
	}
	return 0
}

func yamlErrorText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		return msg[i+2:]
	}
	return msg
}
