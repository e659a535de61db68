package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimalConfig = `inventory: [inventory.yaml]
destinations:
  legacy:
    - name: proxy
      address: 127.0.0.1:514
routing:
  default:
    mode: legacy
    legacy: [proxy]
`

func TestLoadConfig_defaultsAndEnv(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "otbridge.yaml", minimalConfig)
	t.Setenv("OTBRIDGE_LOG_LEVEL", "debug")
	t.Setenv("OTBRIDGE_LIMITS_MAX_MESSAGE_SIZE", "1024")

	c, err := loadConfig(newSettings(), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" || c.Limits.MaxMessageSize != 1024 {
		t.Errorf("environment overrides not applied: level %q, max %d", c.Log.Level, c.Limits.MaxMessageSize)
	}
	if c.Log.Format != "text" || c.Timezone != "UTC" || c.Routing.Undecided != "include" {
		t.Errorf("defaults not applied: %+v", c.Config)
	}
	if got, want := c.InventoryPaths()[0], filepath.Join(dir, "inventory.yaml"); got != want {
		t.Errorf("inventory path = %q, want %q", got, want)
	}
	if got, want := c.DataPath(), filepath.Join(dir, "data"); got != want {
		t.Errorf("data path = %q, want %q", got, want)
	}
}

func TestLoadConfig_problems(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings, each in some problem line, in order
	}{
		{
			name: "unknown keys everywhere, all reported with lines",
			content: `inventory: [inventory.yaml]
colour: blue
log:
  level: info
  verbose: true
destinations:
  legacy:
    - name: proxy
      addres: 127.0.0.1:514
`,
			want: []string{
				"otbridge.yaml:2: colour: unknown key (allowed here: inventory, data_dir",
				"otbridge.yaml:5: log.verbose: unknown key (allowed here: level, format)",
				"otbridge.yaml:9: destinations.legacy[0].addres: unknown key",
			},
		},
		{
			name:    "wrong type",
			content: "inventory: [inventory.yaml]\nlimits:\n  max_message_size: big\n",
			want:    []string{`otbridge.yaml:3: limits.max_message_size: want a whole number, got "big"`},
		},
		{
			name:    "syntax error",
			content: "inventory: [inventory.yaml\n",
			want:    []string{"otbridge.yaml:", "not valid YAML"},
		},
		{
			name: "values and references",
			content: `inventory: [inventory.yaml]
timezone: Mars/Olympus
destinations:
  legacy:
    - name: proxy
      address: 127.0.0.1:99999
  modern:
    - name: proxy
      endpoint: http://dce.example
      dcr_immutable_id: abc
      stream: CommonSecurityLog
routing:
  default:
    mode: dual
    legacy: [proxy]
    modern: [nowhere]
  rules:
    - appliance: plant-a
      rule: r1
      mode: cutover
`,
			want: []string{
				`otbridge.yaml:2: timezone: unknown timezone "Mars/Olympus"`,
				"otbridge.yaml:6: destinations.legacy[0].address",
				`otbridge.yaml:8: destinations.modern[0].name: duplicate destination name "proxy"`,
				"otbridge.yaml:9: destinations.modern[0].endpoint",
				"otbridge.yaml:10: destinations.modern[0].dcr_immutable_id",
				"otbridge.yaml:11: destinations.modern[0].stream",
				`otbridge.yaml:16: routing.default.modern[0]: no modern destination named "nowhere"`,
				`otbridge.yaml:20: routing.rules[0].mode: unknown mode "cutover"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeFile(t, dir, "otbridge.yaml", tt.content)
			_, err := loadConfig(newSettings(), p)
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("err = %v, want Problems", err)
			}
			text := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			rest := text
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("missing %q (in order) in:\n%s", w, text)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestExampleConfig_complete keeps configs/example.yaml complete: every
// config key appears in it, so the example documents them all.
func TestExampleConfig_complete(t *testing.T) {
	c, err := loadConfig(newSettings(), exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	var walk func(t reflect.Type, n *yaml.Node, path string)
	walk = func(typ reflect.Type, n *yaml.Node, path string) {
		for key, k := range configKeys(typ) {
			v := mappingValue(n, key)
			if v == nil {
				missing = append(missing, joinPath(path, key))
				continue
			}
			ft := k.typ
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && v.Kind == yaml.SequenceNode && len(v.Content) > 0 {
				ft, v = ft.Elem(), v.Content[0]
			}
			if ft.Kind() == reflect.Struct {
				walk(ft, v, joinPath(path, key))
			}
		}
	}
	walk(reflect.TypeFor[Config](), c.pos.root, "")
	if len(missing) > 0 {
		t.Errorf("configs/example.yaml does not show these keys: %v", missing)
	}
}

func FuzzLoadConfig(f *testing.F) {
	example, err := os.ReadFile(exampleConfig)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(example), minimalConfig, "", "inventory: 1", "log: [a]", "routing:\n  rules:\n    - {mode: 7}\n",
		"destinations:\n  modern:\n    - batch: {max_bytes: x}\n", "a: &x [*x]", "limits:\n  max_message_size: 1e9\n"} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(newSettings(), p)
		if err == nil && c == nil {
			t.Fatal("no config and no error")
		}
		var probs Problems
		if errors.As(err, &probs) {
			for _, pr := range probs {
				if pr.File != p || pr.Msg == "" {
					t.Fatalf("problem without file or message: %+v", pr)
				}
			}
		}
	})
}
