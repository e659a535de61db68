package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// Exit statuses shared by the commands.
const (
	exitOK       = 0
	exitFailure  = 1 // bad input, unreadable config, failed messages
	exitUsage    = 2 // wrong flags or arguments
	exitBlockers = 3 // reserved for the plan report: blockers found
)

// exitError carries an exit status through cobra. Its message, if any, has
// already been printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// app holds what every command shares: the standard streams and the
// configuration, whose viper has the global flags bound.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
	settings       *settings
	// now, if set, is the clock of the migration report (tests pin it).
	now func() time.Time
}

// run executes the command line and returns the process exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, settings: newSettings()}
	return a.execute(ctx, args)
}

// execute runs the command line on the app and returns the exit status.
func (a *app) execute(ctx context.Context, args []string) int {
	stdin, stdout, stderr := a.stdin, a.stdout, a.stderr
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)

	err := root.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case isUsageError(err):
		fmt.Fprintf(stderr, "otbridge: %v\nRun 'otbridge help' for usage.\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "otbridge: %v\n", err)
	return exitFailure
}

// usageError marks an error in the command line itself.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func isUsageError(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "otbridge",
		Short: "Migrate Defender for IoT alert forwarding from the legacy Sentinel CEF proxy to the Logs Ingestion API",
		Long: `otbridge reads the legacy Defender for IoT forwarding rules and the alerts
they forward, and routes each rule to the legacy CEF proxy, the Azure Monitor
Logs Ingestion API, or both, so the old method can be phased out rule by rule.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configPath, "config", "c", "configs/example.yaml", "configuration file")
	// Flags that override config keys: flag, then OTBRIDGE_ variable, then
	// file, then default.
	pf.String("log-level", "", "override log.level: debug, info, warn or error")
	pf.String("log-format", "", "override log.format: text or json")
	pf.String("data-dir", "", "override data_dir")
	for flag, key := range map[string]string{"log-level": "log.level", "log-format": "log.format", "data-dir": "data_dir"} {
		a.settings.bindFlag(key, pf.Lookup(flag))
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })

	root.AddCommand(
		a.versionCommand(),
		a.validateCommand(),
		a.rulesCommand(),
		a.decodeCommand(),
		a.azureCommand(),
		a.sendTestCommand(),
		a.relayCommand(),
		a.planCommand(),
	)
	return root
}

// fail prints the message to stderr and returns an exit error with the code.
func (a *app) fail(code int, format string, args ...any) error {
	fmt.Fprintf(a.stderr, "otbridge: "+format+"\n", args...)
	return &exitError{code: code}
}
