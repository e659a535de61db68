package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/bridge/report"
	"github.com/otbridge/otbridge/legacy"
	"github.com/otbridge/otbridge/legacy/sensorapi"
	"github.com/otbridge/otbridge/legacy/tlscheck"
	"github.com/otbridge/otbridge/modern"
)

type planOptions struct {
	alerts   []string
	format   string
	out      string
	horizon  time.Duration
	previews int
}

var planFormats = []string{"text", "markdown", "json", "html"}

func (a *app) planCommand() *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Dry-run migration report: what the migration does to each rule, what blocks it, what it carries",
		Long: `Plan reads the configuration, the rule inventory and, with --alerts, sample
alerts (syslog/CEF/LEEF lines or a sensor or management console API JSON
document, as for decode), and reports for every appliance, rule and action
the path its alerts take today and in the configured mode, the samples each
rule selects (routed exactly as the daemon routes them), the findings that
stand in the way, each with a stable code and what to do, the field
coverage of each Logs Ingestion destination, the expected volume per day,
and a preview of the rows the modern path would send. It changes nothing
and sends nothing.

Exit status: 0 without blockers, 3 with blockers, 1 when an input cannot be
read, 2 on a usage error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.plan(o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.alerts, "alerts", nil, "sample alerts file (repeatable; - for standard input; default plan.alerts)")
	f.StringVar(&o.format, "format", "text", "output format: text, markdown, json or html")
	f.StringVarP(&o.out, "out", "o", "", "write the report to this file instead of standard output")
	f.DurationVar(&o.horizon, "expiry-horizon", 0, "report certificates that expire within this time (default plan.expiry_horizon)")
	f.IntVar(&o.previews, "previews", bridge.DefaultPreviews, "rows to preview per rule (0 for none)")
	return cmd
}

func (a *app) plan(o planOptions) error {
	if !slices.Contains(planFormats, o.format) {
		return &usageError{fmt.Errorf("unknown --format %q (want %s)", o.format, strings.Join(planFormats, ", "))}
	}
	if o.horizon < 0 {
		return &usageError{errors.New("--expiry-horizon must be positive")}
	}
	if o.previews < 0 {
		return &usageError{errors.New("--previews must not be negative")}
	}

	s, err := loadSetupGaps(a.settings, a.configPath, true)
	if err != nil {
		return a.reportLoadError(err)
	}
	in, err := a.planInput(s, o)
	if err != nil {
		return a.fail(exitFailure, "plan: %v", err)
	}
	p := bridge.BuildPlan(in)

	var buf bytes.Buffer
	switch o.format {
	case "markdown":
		err = report.Markdown(&buf, p)
	case "json":
		err = report.JSON(&buf, p)
	case "html":
		err = report.HTML(&buf, p)
	default:
		err = report.Text(&buf, p, report.TextOptions{Color: o.out == "" && a.colorOK()})
	}
	if err != nil {
		return a.fail(exitFailure, "plan: render %s: %v", o.format, err)
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, buf.Bytes(), 0o644); err != nil {
			return a.fail(exitFailure, "plan: %v", err)
		}
		fmt.Fprintf(a.stderr, "otbridge: wrote %s: %d blockers, %d warnings\n", o.out, p.Summary.Blockers, p.Summary.Warnings)
	} else if _, err := a.stdout.Write(buf.Bytes()); err != nil {
		return a.fail(exitFailure, "plan: %v", err)
	}
	if p.HasBlockers() {
		return &exitError{code: exitBlockers}
	}
	return nil
}

// colorOK reports whether standard output is a terminal that wants colour.
func (a *app) colorOK() bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := a.stdout.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// planInput gathers everything the report is computed from.
func (a *app) planInput(s *setup, o planOptions) (bridge.PlanInput, error) {
	cfg := s.cfg
	if o.horizon == 0 {
		o.horizon = cfg.Plan.ExpiryHorizon
	}
	if len(o.alerts) == 0 {
		o.alerts = cfg.PlanAlertPaths()
	}
	in := bridge.PlanInput{
		Appliances:    s.inv.Appliances,
		Routing:       cfg.RoutingTable(),
		Now:           a.clock(),
		ExpiryHorizon: o.horizon,
		Previews:      o.previews,
		Sources: bridge.PlanSources{
			Config:    a.configPath,
			Inventory: s.inv.Files,
			Alerts:    o.alerts,
		},
		Locate: func(ref bridge.RuleRef, action int) string {
			if action > 0 {
				return s.inv.ActionSource(ref, action-1).String()
			}
			return s.inv.RuleSource(ref).String()
		},
	}
	if o.previews == 0 {
		in.Previews = -1
	}
	for _, d := range cfg.Destinations.Legacy {
		in.Legacy = append(in.Legacy, d.Name)
	}

	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return in, fmt.Errorf("timezone: %w", err)
	}
	for _, d := range cfg.Destinations.Modern {
		pd, err := planDestination(d, loc, in.Now)
		if err != nil {
			return in, fmt.Errorf("destination %s: %w", d.Name, err)
		}
		in.Modern = append(in.Modern, pd)
	}

	in.TLS = planTLS(s)

	for _, name := range o.alerts {
		samples, err := a.readSamples(name, loc, cfg.Limits.MaxMessageSize)
		if err != nil {
			return in, err
		}
		in.Samples = append(in.Samples, samples...)
	}
	return in, nil
}

func (a *app) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

// planDestination describes a modern destination for the report: its
// profile's coverage, its row mapper and the batcher that measures
// volumes, all as the sender would use them.
func planDestination(d modern.Config, loc *time.Location, now time.Time) (bridge.PlanDestination, error) {
	d = d.WithDefaults()
	cov, err := modern.ProfileCoverage(d.Profile)
	if err != nil {
		return bridge.PlanDestination{}, err
	}
	mapper, err := modern.NewRowMapper(d, modern.WithStartLocation(loc), modern.WithClock(func() time.Time { return now }))
	if err != nil {
		return bridge.PlanDestination{}, err
	}
	pd := bridge.PlanDestination{
		Name:       d.Name,
		Profile:    d.Profile,
		Stream:     d.Stream,
		Coverage:   cov,
		FieldLimit: d.Batch.MaxFieldBytes,
		FlushDelay: d.Batch.FlushDelay,
		Mapper:     mapper,
		Measure:    func(rows [][]byte) (bridge.Volume, error) { return modern.Measure(d.Batch, rows) },
	}
	if d.Profile == modern.ProfileCustom {
		pd.Table = d.Table
	} else {
		pd.Table = "CommonSecurityLog"
	}
	return pd, nil
}

// readSamples decodes a sample alerts file as `otbridge decode` does: an
// API JSON document, or one message a line. Messages that fail to decode
// are reported on stderr and skipped; messages that are not alerts are
// left out.
func (a *app) readSamples(name string, loc *time.Location, maxSize int) ([]bridge.Sample, error) {
	in, label := a.stdin, "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read alerts: %w (check --alerts)", err)
		}
		defer f.Close()
		in, label = f, name
	}
	br := bufio.NewReaderSize(in, maxSize+2)

	var out []bridge.Sample
	skipped := 0
	if startsJSON(br) {
		doc, err := io.ReadAll(io.LimitReader(br, sensorapi.DefaultMaxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("read alerts %s: %w", label, err)
		}
		res, derr := (&sensorapi.Decoder{}).DecodeBytes(doc)
		if res == nil {
			return nil, fmt.Errorf("read alerts %s: %w", label, derr)
		}
		for _, e := range res.Skipped {
			line, col := lineCol(doc, e.Offset)
			fmt.Fprintf(a.stderr, "%s:%d:%d: %v (sample skipped)\n", label, line, col, e)
		}
		skipped = len(res.Skipped)
		for i, idx := range alertIndexes(res) {
			out = append(out, bridge.Sample{Alert: &res.Alerts[i], Where: fmt.Sprintf("%s#%d", filepath.Base(label), idx)})
		}
		if derr != nil {
			fmt.Fprintf(a.stderr, "%s: %v (the alerts before that point are used)\n", label, derr)
		}
	} else {
		dec := &legacy.MessageDecoder{MaxSize: maxSize, Location: loc}
		for lineNo := 1; ; lineNo++ {
			line, tooLong, rerr := readLine(br)
			if rerr != nil && !errors.Is(rerr, io.EOF) {
				return nil, fmt.Errorf("read alerts %s: %w", label, rerr)
			}
			switch {
			case tooLong:
				skipped++
				fmt.Fprintf(a.stderr, "%s:%d: message longer than %d bytes (sample skipped; raise limits.max_message_size if this is expected)\n", label, lineNo, maxSize)
			case len(bytes.TrimSpace(line)) > 0:
				msg, err := dec.Decode(line)
				if err != nil {
					skipped++
					fmt.Fprintf(a.stderr, "%s:%d: %v (sample skipped)\n", label, lineNo, err)
					break
				}
				if msg.Alert != nil {
					out = append(out, bridge.Sample{Alert: msg.Alert, Where: fmt.Sprintf("%s:%d", filepath.Base(label), lineNo)})
				}
			}
			if rerr != nil {
				break
			}
		}
	}
	if skipped > 0 {
		fmt.Fprintf(a.stderr, "otbridge: %s: %d samples skipped, %d used\n", label, skipped, len(out))
	}
	return out, nil
}

// planTLS checks every certificate and key the inventory and the config
// name.
func planTLS(s *setup) []bridge.TLSMaterial {
	var out []bridge.TLSMaterial
	for _, app := range s.inv.Appliances {
		for _, r := range app.Rules {
			ref := r.Ref()
			for i, act := range r.Actions {
				e := act.Encryption
				if !e.Enabled || (e.CertFile == "" && e.KeyFile == "") {
					continue
				}
				m := checkTLS(e.CertFile, e.KeyFile, e.PassphraseFile)
				m.Rule, m.Action, m.Where = &ref, i+1, s.inv.ActionSource(ref, i).String()
				out = append(out, m)
			}
		}
	}

	cfg := s.cfg
	add := func(field, cert, key string) {
		if cert == "" && key == "" {
			return
		}
		m := checkTLS(cert, key, "")
		m.Field = field
		if line := cfg.pos.Line(field); line > 0 {
			m.Where = fmt.Sprintf("%s:%d", cfg.Path, line)
		}
		out = append(out, m)
	}
	for i, l := range cfg.Listeners {
		f := fmt.Sprintf("listeners[%d].tls", i)
		if l.Transport == "tls" {
			add(f, l.TLS.CertificateFile, l.TLS.KeyFile)
			add(f+".client_ca_file", l.TLS.ClientCAFile, "")
		}
	}
	for i, d := range cfg.Destinations.Legacy {
		f := fmt.Sprintf("destinations.legacy[%d].tls", i)
		if d.Transport == "tls" {
			add(f+".ca_file", d.TLS.CAFile, "")
			add(f, d.TLS.CertificateFile, d.TLS.KeyFile)
		}
	}
	for i, d := range cfg.Destinations.Modern {
		f := fmt.Sprintf("destinations.modern[%d]", i)
		add(f+".ca_bundle_file", d.CABundleFile, "")
		// A PFX credential is checked when the credential is built (send-test).
		if c := d.Credential.CertificateFile; d.Credential.Type == modern.CredentialClientCertificate && isPEMName(c) {
			add(f+".credential.certificate_file", c, "")
		}
	}
	return out
}

func isPEMName(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pem", ".crt", ".cer":
		return true
	}
	return false
}

// checkTLS reads one certificate and key pair for the report.
func checkTLS(cert, key, passphrase string) bridge.TLSMaterial {
	r := tlscheck.Check(cert, key, passphrase)
	return bridge.TLSMaterial{
		CertFile: cert, KeyFile: key,
		Err: r.Err, Subject: r.Subject, NotAfter: r.NotAfter, KeyMismatch: r.KeyMismatch,
	}
}
