package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/forwarder"
	"github.com/otbridge/otbridge/legacy/listener"
)

func (a *app) relayCommand() *cobra.Command {
	var statsEvery time.Duration
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Listen for syslog from the sensors and forward every message unchanged to the CEF proxy",
		Long: `Relay is the first step of an inline migration, with no change in behaviour:
it listens on the config's listeners, decodes every message (to count alerts),
and forwards each one, byte for byte, to the legacy destinations named by the
listener's forward_to (default: routing.default.legacy). Point the sensors'
Sentinel rules at otbridge's listener instead of the proxy; to fall back,
point them at the proxy again.

Counters are logged every --stats-every and at shutdown. SIGHUP re-reads the
listeners' TLS certificates. SIGINT or SIGTERM stops listening, and the
forwarders drain what they accepted within their drain_timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSetup(a.settings, a.configPath)
			if err != nil {
				return a.reportLoadError(err)
			}
			return a.relay(cmd.Context(), s, statsEvery)
		},
	}
	cmd.Flags().DurationVar(&statsEvery, "stats-every", time.Minute, "how often to log the counters (0: only at shutdown)")
	return cmd
}

// newLogger builds the process logger from the config.
func (a *app) newLogger(s *setup) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevel(s.cfg.Log.Level)}
	if s.cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

func (a *app) relay(ctx context.Context, s *setup, statsEvery time.Duration) error {
	log := a.newLogger(s)
	if len(s.cfg.Listeners) == 0 {
		return a.fail(exitFailure, "%s: relay needs at least one entry under listeners", a.configPath)
	}

	// One forwarder per legacy destination that some listener uses.
	forwarders := map[string]*forwarder.Forwarder{}
	targets := make([][]string, len(s.cfg.Listeners))
	for i, l := range s.cfg.Listeners {
		targets[i] = l.ForwardTo
		if len(targets[i]) == 0 {
			targets[i] = s.cfg.Routing.Default.Legacy
		}
		if len(targets[i]) == 0 {
			return a.fail(exitFailure, "%s: listeners[%d] (%s) forwards nowhere: set its forward_to, or routing.default.legacy", a.configPath, i, l.Name)
		}
		for _, name := range targets[i] {
			if forwarders[name] != nil {
				continue
			}
			for _, d := range s.cfg.Destinations.Legacy {
				if d.Name != name {
					continue
				}
				f, err := forwarder.New(d, log, forwarder.Options{})
				if err != nil {
					return a.fail(exitFailure, "destination %s: %v", name, err)
				}
				forwarders[name] = f
			}
		}
	}

	listeners := make([]*listener.Listener, len(s.cfg.Listeners))
	for i, l := range s.cfg.Listeners {
		fws := make([]*forwarder.Forwarder, len(targets[i]))
		for j, name := range targets[i] {
			fws[j] = forwarders[name]
		}
		var h bridge.BatchHandler = fws[0]
		if len(fws) > 1 {
			h = fanOut(fws)
		}
		// The relay forwards bytes: the listener counts alerts but builds
		// none.
		ln, err := listener.New(l.Config, h, log, listener.WithoutAlerts())
		if err != nil {
			for _, made := range listeners[:i] {
				made.Close()
			}
			return a.fail(exitFailure, "listener %s: %v", l.Name, err)
		}
		listeners[i] = ln
	}

	// Forwarders outlive the listeners: they drain after the listeners
	// stop, within their own drain timeout.
	fwCtx, stopForwarders := context.WithCancel(context.WithoutCancel(ctx))
	var fwWG sync.WaitGroup
	for name, f := range forwarders {
		fwWG.Go(func() {
			if err := f.Run(fwCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("forwarder stopped", "destination", name, "error", err)
			}
		})
	}

	lnCtx, stopListeners := context.WithCancel(ctx)
	defer stopListeners()
	var lnWG sync.WaitGroup
	serveErr := make(chan error, len(listeners))
	for i, ln := range listeners {
		lnWG.Go(func() {
			if err := ln.Serve(lnCtx); err != nil && !errors.Is(err, context.Canceled) {
				serveErr <- fmt.Errorf("listener %s: %w", s.cfg.Listeners[i].Name, err)
				stopListeners()
			}
		})
		log.Info("listening", "listener", s.cfg.Listeners[i].Name, "address", ln.Addr().String(),
			"transport", s.cfg.Listeners[i].Transport, "forward_to", targets[i])
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if statsEvery > 0 {
		t := time.NewTicker(statsEvery)
		defer t.Stop()
		tick = t.C
	}
	logStats := func(msg string) {
		for i, ln := range listeners {
			st := ln.Stats()
			log.Info(msg, "listener", s.cfg.Listeners[i].Name, "received", st.Received, "alerts", st.Alerts,
				"not_alerts", st.NotAlerts, "rejected", st.Rejected, "dropped", st.Dropped)
		}
		for name, f := range forwarders {
			st := f.Stats()
			log.Info(msg, "destination", name, "queued", st.Queued, "written", st.Written, "resent", st.Resent,
				"delivered", st.Delivered, "dropped", st.Dropped, "failed_writes", st.FailedWrites)
		}
	}

loop:
	for {
		select {
		case <-lnCtx.Done():
			break loop
		case <-hup:
			for i, ln := range listeners {
				if err := ln.Reload(); err != nil {
					log.Error("reload certificates", "listener", s.cfg.Listeners[i].Name, "error", err)
				}
			}
		case <-tick:
			logStats("counters")
		}
	}

	lnWG.Wait()
	stopForwarders()
	fwWG.Wait()
	logStats("stopped")

	select {
	case err := <-serveErr:
		return a.fail(exitFailure, "relay: %v", err)
	default:
	}
	return nil
}

// fanOut hands every message to each of its forwarders.
type fanOut []*forwarder.Forwarder

// Handle implements bridge.Handler: the message is refused when one of the
// forwarders refuses it.
func (fo fanOut) Handle(ctx context.Context, m *bridge.Message) error {
	var errs []error
	for _, f := range fo {
		if err := f.Handle(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HandleBatch implements bridge.BatchHandler: a message is refused when
// one of the forwarders refuses it.
func (fo fanOut) HandleBatch(ctx context.Context, ms []bridge.Message) []error {
	var errs []error
	for _, f := range fo {
		ferrs := f.HandleBatch(ctx, ms)
		if ferrs == nil {
			continue
		}
		if errs == nil {
			errs = make([]error, len(ms))
		}
		for i, err := range ferrs {
			errs[i] = errors.Join(errs[i], err)
		}
	}
	return errs
}
