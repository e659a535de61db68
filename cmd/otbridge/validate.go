package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) validateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration and every rule inventory file it names",
		Long: `Validate reads the configuration and every inventory file it names, and
prints every problem found with its file and line. The exit status is 1 when
there is any problem, 0 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSetup(a.settings, a.configPath)
			if err != nil {
				return a.reportLoadError(err)
			}
			rules := 0
			for _, ap := range s.inv.Appliances {
				rules += len(ap.Rules)
			}
			_, err = fmt.Fprintf(a.stdout, "%s: ok: %d appliances, %d rules (%d routed), %d inventory files\n",
				a.configPath, len(s.inv.Appliances), rules, len(s.Rules()), len(s.inv.Files))
			return err
		},
	}
}
