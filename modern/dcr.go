package modern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The API versions of the resources in the DCR template.
const (
	dcrAPIVersion            = "2023-03-11"
	tableAPIVersion          = "2022-10-01"
	deploymentAPIVersion     = "2022-09-01"
	roleAssignmentAPIVersion = "2022-04-01"
)

// MonitoringMetricsPublisherRoleID is the id of the built-in role
// "Monitoring Metrics Publisher", which an identity needs on a DCR to send
// through it.
const MonitoringMetricsPublisherRoleID = "3913510d-42f4-4e42-8a64-420c390055eb"

// DCROptions adjusts the template DCRTemplate prints.
type DCROptions struct {
	// Name is the default of the template's dataCollectionRuleName
	// parameter. Default "otbridge-alerts".
	Name string
	// Transform is the data flow's transformKql. Default "source": rows
	// reach the table as the mapper writes them, which is what the stream
	// declaration is built for.
	Transform string
}

// DCRTemplate returns an ARM deployment template, indented JSON, that
// creates what cfg's profile sends through:
//
//   - the data collection rule, kind Direct, with the stream declaration of
//     the profile's columns (exactly the keys and types the profile's
//     RowMapper writes), a data flow from it to Microsoft-CommonSecurityLog
//     (the two CommonSecurityLog profiles; the workspace must have Microsoft
//     Sentinel) or to Custom-<cfg.Table>, and the workspace as destination;
//   - for the custom-table profile, the table with the same columns, in a
//     nested deployment to the workspace's subscription and resource group;
//   - when the principalId parameter is given, the "Monitoring Metrics
//     Publisher" role on the DCR for that principal (the app otbridge signs
//     in as); role assignments can take up to 30 minutes to apply.
//
// The template's parameters are workspaceResourceId (required), location
// (default the resource group's, which must be the workspace's region),
// dataCollectionRuleName, dataCollectionEndpointId (optional: a DCE, for
// private link; the DCR is then not of kind Direct), principalId and
// principalType. Its outputs are the DCR's resource id and immutable id,
// the logs ingestion endpoint (the DCR's own, or the DCE's when one is
// given) and the stream name: the values of the destination's
// dcr_immutable_id, endpoint and stream.
//
// The input stream is cfg.Stream, which must start with "Custom-"; if
// empty, Custom-OTBridgeCommonSecurityLog for the CommonSecurityLog
// profiles and Custom-<table without _CL> for the custom table.
func DCRTemplate(cfg Config, opts DCROptions) ([]byte, error) {
	cfg = cfg.WithDefaults()
	cols, err := ProfileColumns(cfg.Profile)
	if err != nil {
		return nil, err
	}
	stream, err := StreamName(cfg)
	if err != nil {
		return nil, err
	}
	output := "Microsoft-CommonSecurityLog"
	if cfg.Profile == ProfileCustom {
		if err := checkTableName(cfg.Table); err != nil {
			return nil, err
		}
		output = "Custom-" + cfg.Table
	}
	if opts.Name == "" {
		opts.Name = "otbridge-alerts"
	}
	if opts.Transform == "" {
		opts.Transform = "source"
	}

	streamColumns := make([]any, len(cols))
	for i, c := range cols {
		streamColumns[i] = armObject{{"name", c.Name}, {"type", c.Type}}
	}
	const dcrID = "[variables('dcrId')]"
	dcr := armObject{
		{"type", "Microsoft.Insights/dataCollectionRules"},
		{"apiVersion", dcrAPIVersion},
		{"name", "[parameters('dataCollectionRuleName')]"},
		{"location", "[parameters('location')]"},
		{"kind", "[if(variables('useDCE'), null(), 'Direct')]"},
	}
	var resources []any
	if cfg.Profile == ProfileCustom {
		resources = append(resources, tableDeployment(cfg.Table, cols))
		dcr = append(dcr, armField{"dependsOn", []any{
			"[resourceId(variables('workspaceSubscription'), variables('workspaceResourceGroup'), 'Microsoft.Resources/deployments', variables('tableDeployment'))]",
		}})
	}
	dcr = append(dcr, armField{"properties", armObject{
		{"description", fmt.Sprintf("otbridge: Defender for IoT alerts, profile %s.", cfg.Profile)},
		{"dataCollectionEndpointId", "[if(variables('useDCE'), parameters('dataCollectionEndpointId'), null())]"},
		{"streamDeclarations", armObject{
			{stream, armObject{{"columns", streamColumns}}},
		}},
		{"destinations", armObject{
			{"logAnalytics", []any{armObject{
				{"name", "workspace"},
				{"workspaceResourceId", "[parameters('workspaceResourceId')]"},
			}}},
		}},
		{"dataFlows", []any{armObject{
			{"streams", []any{stream}},
			{"destinations", []any{"workspace"}},
			{"transformKql", opts.Transform},
			{"outputStream", output},
		}}},
	}})

	resources = append(resources, dcr, armObject{
		{"condition", "[not(empty(parameters('principalId')))]"},
		{"type", "Microsoft.Authorization/roleAssignments"},
		{"apiVersion", roleAssignmentAPIVersion},
		{"name", "[guid(variables('dcrId'), parameters('principalId'), '" + MonitoringMetricsPublisherRoleID + "')]"},
		{"scope", "[format('Microsoft.Insights/dataCollectionRules/{0}', parameters('dataCollectionRuleName'))]"},
		{"dependsOn", []any{dcrID}},
		{"properties", armObject{
			{"roleDefinitionId", "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '" + MonitoringMetricsPublisherRoleID + "')]"},
			{"principalId", "[parameters('principalId')]"},
			{"principalType", "[parameters('principalType')]"},
			{"description", "otbridge sends alerts through this DCR (Monitoring Metrics Publisher)."},
		}},
	})

	// param declares a string parameter; def "-" is no default.
	param := func(def, desc string, allowed ...any) armObject {
		p := armObject{{"type", "string"}}
		if def != "-" {
			p = append(p, armField{"defaultValue", def})
		}
		if allowed != nil {
			p = append(p, armField{"allowedValues", allowed})
		}
		return append(p, armField{"metadata", armObject{{"description", desc}}})
	}

	tmpl := armObject{
		{"$schema", "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"},
		{"contentVersion", "1.0.0.0"},
		{"metadata", armObject{{"description", fmt.Sprintf(
			"Made by otbridge for the %s profile: the data collection rule the Logs Ingestion API destination sends through%s. Deploy to a resource group in the workspace's region.",
			cfg.Profile, map[bool]string{true: ", and its table", false: ""}[cfg.Profile == ProfileCustom])}}},
		{"parameters", armObject{
			{"workspaceResourceId", param("-", "The resource id of the Log Analytics workspace the rows go to.")},
			{"location", param("[resourceGroup().location]", "The DCR's region: the workspace's region.")},
			{"dataCollectionRuleName", param(opts.Name, "The DCR's name.")},
			{"dataCollectionEndpointId", param("", "Optional: the resource id of a data collection endpoint (needed for private link). Empty: the DCR is of kind Direct and has its own logs ingestion endpoint.")},
			{"principalId", param("", "Optional: the armObject id of the service principal otbridge signs in as; it gets the Monitoring Metrics Publisher role on the DCR.")},
			{"principalType", param("ServicePrincipal", "The type of principalId.", "ServicePrincipal", "User", "Group")},
		}},
		{"variables", armObject{
			{"dcrId", "[resourceId('Microsoft.Insights/dataCollectionRules', parameters('dataCollectionRuleName'))]"},
			{"useDCE", "[not(empty(parameters('dataCollectionEndpointId')))]"},
			{"workspaceSubscription", "[split(parameters('workspaceResourceId'), '/')[2]]"},
			{"workspaceResourceGroup", "[split(parameters('workspaceResourceId'), '/')[4]]"},
			{"workspaceName", "[split(parameters('workspaceResourceId'), '/')[8]]"},
			{"tableDeployment", "[format('{0}-table', parameters('dataCollectionRuleName'))]"},
		}},
		{"resources", resources},
		{"outputs", armObject{
			{"dataCollectionRuleId", armObject{{"type", "string"}, {"value", dcrID}}},
			{"dataCollectionRuleImmutableId", armObject{{"type", "string"}, {"value", "[reference(variables('dcrId'), '" + dcrAPIVersion + "').immutableId]"}}},
			{"logsIngestionEndpoint", armObject{{"type", "string"}, {"value", "[if(variables('useDCE'), reference(parameters('dataCollectionEndpointId'), '" + dcrAPIVersion + "').logsIngestion.endpoint, reference(variables('dcrId'), '" + dcrAPIVersion + "').endpoints.logsIngestion)]"}}},
			{"streamName", armObject{{"type", "string"}, {"value", stream}}},
		}},
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tmpl); err != nil {
		return nil, fmt.Errorf("encode dcr template: %w", err)
	}
	return buf.Bytes(), nil
}

// tableDeployment returns the nested deployment that creates the custom
// table in the workspace's resource group, which need not be the DCR's.
func tableDeployment(table string, cols []Column) armObject {
	columns := make([]any, len(cols))
	for i, c := range cols {
		typ := c.Type
		if typ == "datetime" {
			typ = "dateTime" // the Tables API's spelling
		}
		columns[i] = armObject{{"name", c.Name}, {"type", typ}, {"description", c.Description}}
	}
	return armObject{
		{"type", "Microsoft.Resources/deployments"},
		{"apiVersion", deploymentAPIVersion},
		{"name", "[variables('tableDeployment')]"},
		{"subscriptionId", "[variables('workspaceSubscription')]"},
		{"resourceGroup", "[variables('workspaceResourceGroup')]"},
		{"properties", armObject{
			{"mode", "Incremental"},
			{"template", armObject{
				{"$schema", "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"},
				{"contentVersion", "1.0.0.0"},
				{"resources", []any{armObject{
					{"type", "Microsoft.OperationalInsights/workspaces/tables"},
					{"apiVersion", tableAPIVersion},
					{"name", "[format('{0}/{1}', variables('workspaceName'), '" + table + "')]"},
					{"properties", armObject{
						{"plan", "Analytics"},
						{"schema", armObject{
							{"name", table},
							{"description", "Defender for IoT alerts written by otbridge."},
							{"columns", columns},
						}},
					}},
				}}},
			}},
		}},
	}
}

// StreamName returns the DCR input stream the destination posts to:
// cfg.Stream, or the profile's default when it is empty (see DCRTemplate).
// A stream that does not start with "Custom-" cannot be declared in a DCR.
func StreamName(cfg Config) (string, error) {
	cfg = cfg.WithDefaults()
	if cfg.Stream != "" {
		if !strings.HasPrefix(cfg.Stream, "Custom-") || len(cfg.Stream) == len("Custom-") {
			return "", fmt.Errorf("cannot declare stream %q in a DCR: an input stream is named Custom-<name>", cfg.Stream)
		}
		return cfg.Stream, nil
	}
	if cfg.Profile == ProfileCustom {
		return "Custom-" + strings.TrimSuffix(cfg.Table, "_CL"), nil
	}
	return "Custom-OTBridgeCommonSecurityLog", nil
}

// checkTableName checks a custom table name: letters, digits and "_",
// ending in _CL, at most 63 characters.
func checkTableName(t string) error {
	name, ok := strings.CutSuffix(t, "_CL")
	if !ok || name == "" || len(t) > 63 {
		return fmt.Errorf("table %q is not a custom table name: up to 63 letters, digits and _, ending in _CL", t)
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("table %q is not a custom table name: up to 63 letters, digits and _, ending in _CL", t)
		}
	}
	return nil
}

// armObject is a JSON object that keeps its members in order, so templates
// read top-down and their golden files stay stable.
type armObject []armField

type armField struct {
	key   string
	value any
}

// MarshalJSON implements json.Marshaler.
func (o armObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f.value); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
