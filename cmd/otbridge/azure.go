package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/modern"
)

func (a *app) azureCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "azure",
		Short: "Print what the Azure side needs: the DCR template and the parity queries",
	}
	cmd.AddCommand(a.azureDCRCommand(), a.azureKQLCommand())
	return cmd
}

// azureTarget is the destination an azure command describes: the config's
// destination when --destination is given, else the defaults of --profile.
type azureTarget struct {
	destination string
	profile     string
	out         string
}

func (t *azureTarget) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&t.destination, "destination", "", "a modern destination of the config to describe (reads --config)")
	f.StringVar(&t.profile, "profile", modern.ProfileCompatible, "row mapping profile, without --destination: "+strings.Join(modern.Profiles, ", "))
	f.StringVarP(&t.out, "out", "o", "", "write to this file instead of standard output")
}

// resolve returns the destination config, and the setup when the config
// was read.
func (t *azureTarget) resolve(a *app) (modern.Config, *setup, error) {
	if t.destination == "" {
		if !slices.Contains(modern.Profiles, t.profile) {
			return modern.Config{}, nil, &usageError{fmt.Errorf("unknown --profile %q (want %s)", t.profile, strings.Join(modern.Profiles, ", "))}
		}
		return modern.Config{Profile: t.profile}.WithDefaults(), nil, nil
	}
	s, err := loadSetup(a.settings, a.configPath)
	if err != nil {
		return modern.Config{}, nil, a.reportLoadError(err)
	}
	for _, d := range s.cfg.Destinations.Modern {
		if d.Name == t.destination {
			return d, s, nil
		}
	}
	return modern.Config{}, nil, a.fail(exitFailure, "%s: no modern destination named %q (see destinations.modern)", a.configPath, t.destination)
}

// write puts the output where --out says.
func (t *azureTarget) write(a *app, text []byte) error {
	if t.out == "" {
		_, err := a.stdout.Write(text)
		return err
	}
	if err := os.WriteFile(t.out, text, 0o644); err != nil {
		return a.fail(exitFailure, "write %s: %v", t.out, err)
	}
	return nil
}

func (a *app) azureDCRCommand() *cobra.Command {
	var t azureTarget
	var name string
	cmd := &cobra.Command{
		Use:   "dcr",
		Short: "Print the ARM template of the data collection rule (and custom table) for a profile",
		Long: `Print an ARM template that creates the data collection rule (DCR) the modern
path sends to: the stream declaration matching the profile's rows exactly, the
data flow into CommonSecurityLog or the custom table, and for custom-table the
table itself. Deploy it with

  az deployment group create -g RESOURCE_GROUP --template-file dcr.json \
    --parameters workspaceResourceId=... principalId=...

Its outputs are the DCR's immutable id and logs ingestion endpoint, for the
destination's dcr_immutable_id and endpoint. With principalId, it also grants
that identity Monitoring Metrics Publisher on the DCR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := t.resolve(a)
			if err != nil {
				return err
			}
			tmpl, err := modern.DCRTemplate(cfg, modern.DCROptions{Name: name})
			if err != nil {
				return a.fail(exitFailure, "azure dcr: %v", err)
			}
			return t.write(a, tmpl)
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVar(&name, "name", "", "default DCR name in the template (otbridge-alerts)")
	return cmd
}

func (a *app) azureKQLCommand() *cobra.Command {
	var t azureTarget
	var opts modern.KQLOptions
	cmd := &cobra.Command{
		Use:   "kql",
		Short: "Print the KQL that compares the legacy and modern paths in the workspace",
		Long: `Print KQL queries for Log Analytics: the rows and distinct alerts each path
wrote per rule and hour, and the alerts present on one path only. With
--destination, rules are named from the config's inventory and the sensors'
timezone is the config's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, s, err := t.resolve(a)
			if err != nil {
				return err
			}
			if s != nil {
				if opts.Timezone == "" {
					opts.Timezone = s.cfg.Timezone
				}
				opts.Rules = s.sensorRules(cfg.Name)
			}
			return t.write(a, []byte(modern.ParityKQL(cfg, opts)))
		},
	}
	t.flags(cmd)
	f := cmd.Flags()
	f.DurationVar(&opts.Lookback, "lookback", 24*time.Hour, "how far back the queries read")
	f.DurationVar(&opts.Settle, "settle", 30*time.Minute, "leave alerts younger than this out of the one-path-only query")
	f.StringVar(&opts.Timezone, "timezone", "", "timezone of the legacy actions, in which sensors write start (default: the config's, or UTC)")
	f.BoolVar(&opts.PairOnFacts, "pair-on-facts", false, "pair on sensor, detection time and title only (when one path lacks the UUID)")
	return cmd
}

// sensorRules names, per sensor, the routed rules whose modern path goes to
// the destination, for the parity queries' per-rule counts.
func (s *setup) sensorRules(destination string) map[string]string {
	routing := s.cfg.RoutingTable()
	names := map[string][]string{}
	for _, r := range s.Rules() {
		route := routing.RouteFor(r.Ref())
		if !slices.Contains(route.Modern, destination) {
			continue
		}
		sensors := []string{r.Appliance}
		if r.ApplianceKind == bridge.ApplianceConsole {
			sensors = r.Sensors
		}
		for _, sensor := range sensors {
			names[sensor] = append(names[sensor], r.Ref().String())
		}
	}
	out := make(map[string]string, len(names))
	for sensor, refs := range names {
		out[sensor] = strings.Join(refs, ", ")
	}
	return out
}
