package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/modern"
)

// testAlert is the clearly marked alert that send-test sends.
func testAlert(now time.Time) *bridge.Alert {
	return &bridge.Alert{
		Vendor:      "Microsoft Defender for IoT",
		SignatureID: "Microsoft Defender for IoT Alert",
		Sensor:      "otbridge-send-test",
		UUID:        fmt.Sprintf("otbridge-test-%d", now.UnixMilli()),
		DetectedAt:  now,
		ReceivedAt:  now,
		Title:       "otbridge test message",
		Message:     "Test row sent by otbridge send-test to check the Logs Ingestion API path. It is not an alert.",
		Severity:    bridge.SeverityWarning,
		Engine:      bridge.EngineOperational,
		Category:    "Test",
	}
}

func (a *app) sendTestCommand() *cobra.Command {
	var destination string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "send-test --destination NAME",
		Short: "Send one clearly marked test row to a modern destination and report what happened",
		Long: `Send-test does what the sensor's "Send Test Message" does for the legacy
path: it gets a token with the destination's credential, sends one test row
(title "otbridge test message", sensor "otbridge-send-test") and reports each
step: whether the token was obtained, the HTTP status, the service's error
code and what to check. The exit status is 0 when the row was accepted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if destination == "" {
				return &usageError{errors.New("send-test needs --destination NAME (a name under destinations.modern)")}
			}
			s, err := loadSetup(a.settings, a.configPath)
			if err != nil {
				return a.reportLoadError(err)
			}
			var cfg *modern.Config
			for i := range s.cfg.Destinations.Modern {
				if s.cfg.Destinations.Modern[i].Name == destination {
					cfg = &s.cfg.Destinations.Modern[i]
				}
			}
			if cfg == nil {
				return a.fail(exitFailure, "%s: no modern destination named %q (see destinations.modern)", a.configPath, destination)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return a.sendTest(ctx, *cfg, s.cfg.Log.Level)
		},
	}
	cmd.Flags().StringVar(&destination, "destination", "", "the modern destination to test")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	return cmd
}

// sendTest runs the steps and prints one line each. Logs go to stderr, at
// debug level only when the config asks for it.
func (a *app) sendTest(ctx context.Context, cfg modern.Config, level string) error {
	out := a.stdout
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: logLevel(level)})).
		With("destination", cfg.Name)
	fmt.Fprintf(out, "destination %s: %s, stream %s, profile %s\n", cfg.Name, cfg.Endpoint, cfg.Stream, cfg.Profile)

	hc, err := modern.NewHTTPClient(cfg)
	if err != nil {
		return a.stepFailed(out, "http client", err, "")
	}
	cred, err := modern.NewCredential(cfg, hc, log)
	if err != nil {
		return a.stepFailed(out, "credential", err, "")
	}

	// The token first, on its own, so that a wrong secret is told apart
	// from a missing role.
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{modern.Scope(cfg)}})
	if err != nil {
		var ce *modern.CredentialError
		hint := ""
		if errors.As(err, &ce) {
			hint = ce.Hint
		}
		return a.stepFailed(out, "token ("+cfg.Credential.Type+")", err, hint)
	}
	fmt.Fprintf(out, "token: obtained with %s credential for %s, valid until %s\n",
		cfg.Credential.Type, modern.Scope(cfg), tok.ExpiresOn.UTC().Format(time.RFC3339))

	mapper, err := modern.NewRowMapper(cfg)
	if err != nil {
		return a.stepFailed(out, "row mapping", err, "")
	}
	dest, err := modern.NewDestination(cfg, cred, hc, mapper, log)
	if err != nil {
		return a.stepFailed(out, "destination", err, "")
	}
	alert := testAlert(time.Now().UTC())
	report, err := dest.Send(ctx, []*bridge.Alert{alert})
	var apiErr *modern.APIError
	switch {
	case err == nil && report.Delivered == 1:
		fmt.Fprintf(out, "send: accepted (HTTP 204) after %d request(s); test row %s\n", report.Requests, alert.Key())
		fmt.Fprintf(out, "ok: look for Activity == %q in the workspace (rows can take a few minutes to show)\n", alert.Title)
		return nil
	case len(report.Rejected) > 0:
		rej := report.Rejected[0]
		hint := ""
		if errors.As(rej.Err, &apiErr) {
			hint = apiErr.Hint
		}
		return a.stepFailed(out, "send", fmt.Errorf("test row rejected (%s): %w", rej.Reason, rej.Err), hint)
	case errors.As(err, &apiErr):
		return a.stepFailed(out, "send", err, apiErr.Hint)
	case err != nil:
		return a.stepFailed(out, "send", err, "")
	}
	return a.stepFailed(out, "send", errors.New("the row was neither accepted nor rejected"), "")
}

// stepFailed prints the failed step with its error and hint, and returns
// the exit error.
func (a *app) stepFailed(out io.Writer, step string, err error, hint string) error {
	fmt.Fprintf(out, "%s: FAILED: %v\n", step, err)
	if hint != "" {
		fmt.Fprintf(out, "hint: %s\n", hint)
	}
	return &exitError{code: exitFailure}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
