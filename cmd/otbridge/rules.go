package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/otbridge/otbridge/bridge"
)

// ruleView is one rule as `otbridge rules` shows it; its JSON form is the
// command's output schema.
type ruleView struct {
	Appliance     string   `json:"appliance"`
	ApplianceKind string   `json:"appliance_kind"`
	Rule          string   `json:"rule"`
	Source        string   `json:"source"`
	MinimalLevel  string   `json:"minimal_alert_level"`
	Protocols     []string `json:"protocols"` // null: any protocol
	Engines       []string `json:"engines"`   // null: any engine
	// SystemNotifications and AlertNotifications: management console only.
	SystemNotifications bool `json:"report_system_notifications,omitempty"`
	AlertNotifications  bool `json:"report_alert_notifications,omitempty"`
	// Routed: otbridge routes this rule (it has a Sentinel action or a
	// route of its own). Mode and destinations are set only then.
	Routed  bool         `json:"routed"`
	Mode    string       `json:"mode,omitempty"`
	Legacy  []string     `json:"legacy_destinations,omitempty"`
	Modern  []string     `json:"modern_destinations,omitempty"`
	Actions []actionView `json:"actions"`
}

type actionView struct {
	Type      string `json:"type"`
	Label     string `json:"label"`
	Target    string `json:"target,omitempty"`
	Timezone  string `json:"timezone,omitempty"`
	Transport string `json:"transport,omitempty"`
	Encrypted bool   `json:"encrypted"`
	// Path is where otbridge takes this action's alerts: for a Sentinel
	// action the rule's mode decides; other actions stay on the appliance.
	Path    string `json:"path"`
	Retired string `json:"retired,omitempty"`
}

func (a *app) rulesCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the forwarding rules of the inventory with their filters, actions and routes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return &usageError{fmt.Errorf("unknown --format %q (want text or json)", format)}
			}
			s, err := loadSetup(a.settings, a.configPath)
			if err != nil {
				return a.reportLoadError(err)
			}
			views := s.ruleViews()
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(views)
			}
			return writeRulesTable(a, views)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func (s *setup) ruleViews() []ruleView {
	routing := s.cfg.RoutingTable()
	routed := map[bridge.RuleRef]bool{}
	for _, r := range s.Rules() {
		routed[r.Ref()] = true
	}

	var views []ruleView
	for _, ap := range s.inv.Appliances {
		for _, r := range ap.Rules {
			ref := r.Ref()
			v := ruleView{
				Appliance:           r.Appliance,
				ApplianceKind:       string(r.ApplianceKind),
				Rule:                r.Name,
				Source:              s.inv.RuleSource(ref).String(),
				MinimalLevel:        r.MinSeverity.String(),
				Protocols:           r.Protocols,
				SystemNotifications: r.SystemNotifications,
				AlertNotifications:  r.AlertNotifications,
				Routed:              routed[ref],
			}
			for _, e := range r.Engines {
				v.Engines = append(v.Engines, string(e))
			}
			route := routing.RouteFor(ref)
			if v.Routed {
				v.Mode = string(route.Mode)
				if route.Mode.Legacy() {
					v.Legacy = route.Legacy
				}
				if route.Mode.Modern() {
					v.Modern = route.Modern
				}
			}
			for _, act := range r.Actions {
				v.Actions = append(v.Actions, viewAction(act, v))
			}
			views = append(views, v)
		}
	}
	return views
}

func viewAction(act bridge.Action, rule ruleView) actionView {
	info, _ := act.Type.Info()
	av := actionView{
		Type:      string(act.Type),
		Label:     info.Label,
		Target:    act.Target(),
		Timezone:  act.Timezone,
		Transport: string(act.Transport),
		Encrypted: act.Encryption.Enabled,
		Path:      "appliance",
	}
	if !info.Retired.IsZero() && act.Type != bridge.ActionSentinel {
		av.Retired = info.Retired.Format("2006-01-02") + ": " + info.RetiredNote
	}
	if act.Type == bridge.ActionSentinel && rule.Routed {
		av.Path = routeText(rule)
	}
	return av
}

// routeText renders a rule's route: "dual -> cef-proxy-01 + sentinel-ot".
func routeText(v ruleView) string {
	dests := append(append([]string(nil), v.Legacy...), v.Modern...)
	if len(dests) == 0 {
		return v.Mode
	}
	return v.Mode + " -> " + strings.Join(dests, " + ")
}

func writeRulesTable(a *app, views []ruleView) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APPLIANCE\tRULE\tLEVEL\tPROTOCOLS\tENGINES\tACTION\tTARGET\tPATH")
	for _, v := range views {
		app := v.Appliance
		if v.ApplianceKind == string(bridge.ApplianceConsole) {
			app += " (console)"
		}
		cols := []string{app, v.Rule, v.MinimalLevel + "+", listOrAny(v.Protocols), listOrAny(v.Engines)}
		for i, act := range v.Actions {
			if i > 0 {
				cols = []string{"", "", "", "", ""}
			}
			target := act.Target
			if act.Encrypted {
				target += " (tls)"
			}
			if act.Transport != "" {
				target += " (" + act.Transport + ")"
			}
			path := act.Path
			if act.Retired != "" {
				path += " [retired " + act.Retired[:10] + "]"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", strings.Join(cols, "\t"), act.Type, target, path)
		}
	}
	return tw.Flush()
}

func listOrAny(xs []string) string {
	if len(xs) == 0 {
		return "any"
	}
	return strings.Join(xs, ",")
}
