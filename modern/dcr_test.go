package modern

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

func TestDCRTemplate_golden(t *testing.T) {
	for _, profile := range Profiles {
		t.Run(profile, func(t *testing.T) {
			got, err := DCRTemplate(Config{Profile: profile}, DCROptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("template is not JSON:\n%s", got)
			}
			checkGolden(t, filepath.Join("testdata", "dcr", profile+".json"), got)
		})
	}
}

// dcrTemplate is the part of the template the tests read.
type dcrTemplate struct {
	Resources []struct {
		Type       string `json:"type"`
		Kind       string `json:"kind"`
		Properties struct {
			StreamDeclarations map[string]struct {
				Columns []Column `json:"columns"`
			} `json:"streamDeclarations"`
			DataFlows []struct {
				Streams      []string `json:"streams"`
				OutputStream string   `json:"outputStream"`
				TransformKql string   `json:"transformKql"`
			} `json:"dataFlows"`
			Template struct {
				Resources []struct {
					Type       string `json:"type"`
					Properties struct {
						Schema struct {
							Name    string   `json:"name"`
							Columns []Column `json:"columns"`
						} `json:"schema"`
					} `json:"properties"`
				} `json:"resources"`
			} `json:"template"`
			RoleDefinitionID string `json:"roleDefinitionId"`
		} `json:"properties"`
	} `json:"resources"`
	Outputs map[string]struct {
		Value string `json:"value"`
	} `json:"outputs"`
}

// TestDCRTemplate_matchesRows checks that the stream declaration holds
// exactly the columns the profile's mapper writes, in its order and with
// matching JSON types, and that the custom table declares the same.
func TestDCRTemplate_matchesRows(t *testing.T) {
	for _, profile := range Profiles {
		t.Run(profile, func(t *testing.T) {
			cfg := Config{Profile: profile, Stream: "Custom-Test"}
			b, err := DCRTemplate(cfg, DCROptions{})
			if err != nil {
				t.Fatal(err)
			}
			var tmpl dcrTemplate
			if err := json.Unmarshal(b, &tmpl); err != nil {
				t.Fatal(err)
			}
			var declared, table []Column
			var output string
			for _, r := range tmpl.Resources {
				switch r.Type {
				case "Microsoft.Insights/dataCollectionRules":
					decl, ok := r.Properties.StreamDeclarations["Custom-Test"]
					if !ok || len(r.Properties.StreamDeclarations) != 1 {
						t.Fatalf("stream declarations %v, want Custom-Test only", r.Properties.StreamDeclarations)
					}
					declared = decl.Columns
					flow := r.Properties.DataFlows[0]
					if !slices.Equal(flow.Streams, []string{"Custom-Test"}) || flow.TransformKql != "source" {
						t.Errorf("data flow %+v, want Custom-Test through source", flow)
					}
					output = flow.OutputStream
				case "Microsoft.Resources/deployments":
					table = r.Properties.Template.Resources[0].Properties.Schema.Columns
				}
			}
			wantOutput := "Microsoft-CommonSecurityLog"
			if profile == ProfileCustom {
				wantOutput = "Custom-OTBridgeAlerts_CL"
				if len(table) != len(declared) {
					t.Fatalf("table has %d columns, stream %d", len(table), len(declared))
				}
				for i, c := range table {
					if c.Name != declared[i].Name || !strings.EqualFold(c.Type, declared[i].Type) || c.Description == "" {
						t.Errorf("table column %+v, stream column %+v", c, declared[i])
					}
				}
				if !slices.ContainsFunc(table, func(c Column) bool { return c.Name == "TimeGenerated" && c.Type == "dateTime" }) {
					t.Error("table has no TimeGenerated dateTime column")
				}
			}
			if output != wantOutput {
				t.Errorf("output stream %q, want %q", output, wantOutput)
			}

			m, err := NewRowMapper(cfg)
			if err != nil {
				t.Fatal(err)
			}
			types := map[string]string{}
			for _, c := range declared {
				types[c.Name] = c.Type
			}
			for _, tc := range rowsTestAlerts(t) {
				row, _, err := m.AppendRow(nil, tc.alert, bridge.PathModern)
				if err != nil {
					t.Fatal(err)
				}
				names := rowKeys(t, row)
				for name, v := range rowValues(t, row) {
					typ, ok := types[name]
					if !ok {
						t.Errorf("%s: row writes %s, the stream does not declare it", tc.name, name)
						continue
					}
					if err := checkJSONType(v, typ); err != "" {
						t.Errorf("%s: %s: %s", tc.name, name, err)
					}
				}
				// The console alert has every field: its row has every column.
				if tc.name == "console-api-full" {
					var want []string
					for _, c := range declared {
						want = append(want, c.Name)
					}
					if !slices.Equal(names, want) {
						t.Errorf("row columns\n%v\nstream columns\n%v", names, want)
					}
				}
			}
		})
	}
}

// rowKeys returns the member names of the JSON object row, in order.
func rowKeys(t *testing.T, row []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(row))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("row does not start an object: %v %v", tok, err)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func rowValues(t *testing.T, row []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(row))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkJSONType says what is wrong with v as a value of a column of DCR
// type typ, or "".
func checkJSONType(v any, typ string) string {
	switch typ {
	case "string":
		if _, ok := v.(string); !ok {
			return "not a string"
		}
	case "datetime":
		s, ok := v.(string)
		if !ok {
			return "not a string"
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return err.Error()
		}
	case "int", "long":
		n, ok := v.(json.Number)
		if !ok {
			return "not a number"
		}
		if _, err := n.Int64(); err != nil {
			return err.Error()
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "not a boolean"
		}
	case "dynamic":
		switch v.(type) {
		case []any, map[string]any:
		default:
			return "not an array or object"
		}
	default:
		return "unknown type " + typ
	}
	return ""
}

func TestDCRTemplate_roleAndOutputs(t *testing.T) {
	b, err := DCRTemplate(Config{}, DCROptions{Name: "dcr-plant-a"})
	if err != nil {
		t.Fatal(err)
	}
	var tmpl dcrTemplate
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	var role string
	for _, r := range tmpl.Resources {
		if r.Type == "Microsoft.Authorization/roleAssignments" {
			role = r.Properties.RoleDefinitionID
		}
	}
	if !strings.Contains(role, MonitoringMetricsPublisherRoleID) {
		t.Errorf("role assignment grants %q, want Monitoring Metrics Publisher", role)
	}
	for _, k := range []string{"dataCollectionRuleImmutableId", "logsIngestionEndpoint", "streamName"} {
		if tmpl.Outputs[k].Value == "" {
			t.Errorf("no output %s", k)
		}
	}
	if got := tmpl.Outputs["streamName"].Value; got != "Custom-OTBridgeCommonSecurityLog" {
		t.Errorf("stream %q, want the default", got)
	}
	if !bytes.Contains(b, []byte(`"defaultValue": "dcr-plant-a"`)) {
		t.Error("the DCR name option is not the parameter's default")
	}
}

func TestDCRTemplate_refuses(t *testing.T) {
	for _, cfg := range []Config{
		{Profile: "syslog"},
		{Stream: "Microsoft-CommonSecurityLog"},
		{Stream: "Custom-"},
		{Profile: ProfileCustom, Table: "Alerts"},
		{Profile: ProfileCustom, Table: "My-Alerts_CL"},
	} {
		if _, err := DCRTemplate(cfg, DCROptions{}); err == nil {
			t.Errorf("DCRTemplate(profile %q, stream %q, table %q): no error", cfg.Profile, cfg.Stream, cfg.Table)
		}
	}
}

func TestStreamName(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "Custom-OTBridgeCommonSecurityLog"},
		{Config{Profile: ProfileEnriched, Stream: "Custom-Defender"}, "Custom-Defender"},
		{Config{Profile: ProfileCustom}, "Custom-OTBridgeAlerts"},
		{Config{Profile: ProfileCustom, Table: "PlantA_CL"}, "Custom-PlantA"},
	} {
		got, err := StreamName(tc.cfg)
		if err != nil || got != tc.want {
			t.Errorf("StreamName(%+v) = %q, %v; want %q", tc.cfg, got, err, tc.want)
		}
	}
}
