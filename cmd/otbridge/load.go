package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/inventory"
)

// setup is a loaded configuration with its rule inventory.
type setup struct {
	cfg *loadedConfig
	inv *inventory.Inventory
}

// Rules returns the inventory's rules that otbridge routes.
func (s *setup) Rules() []bridge.Rule {
	return s.cfg.RoutingTable().InScope(s.inv.Rules())
}

// loadSetup loads the config and every inventory file it names, and checks
// the routes against the inventory. Problems of every file are gathered and
// returned together as a problemList; another error means a file could not
// be read at all.
func loadSetup(s *settings, path string) (*setup, error) {
	return loadSetupGaps(s, path, false)
}

// loadSetupGaps is loadSetup; with allowGaps, a route whose mode names no
// destination on one of its paths is no problem (the migration report
// finds it).
func loadSetupGaps(s *settings, path string, allowGaps bool) (*setup, error) {
	cfg, err := loadConfig(s, path)
	var probs problemList
	var cfgProbs Problems
	switch {
	case errors.As(err, &cfgProbs):
		if allowGaps {
			cfgProbs = slices.DeleteFunc(cfgProbs, func(p Problem) bool { return p.gap })
		}
		probs = append(probs, problemsOf(cfgProbs)...)
	case err != nil:
		return nil, err
	}
	if cfg == nil || len(cfg.Inventory) == 0 {
		return nil, probs
	}

	inv, err := inventory.LoadFiles(cfg.InventoryPaths()...)
	var invProbs inventory.Errors
	switch {
	case errors.As(err, &invProbs):
		for _, p := range invProbs {
			probs = append(probs, p.Error())
		}
	case err != nil:
		probs = append(probs, fmt.Sprintf("%s: %v (check the inventory list in the config)", path, err))
	}
	if inv == nil {
		return nil, probs
	}

	// Every route names a rule that exists; normalise its spelling to the
	// inventory's, since rule names compare without regard to case.
	for i, r := range cfg.Routing.Rules {
		rule := inv.Rule(bridge.RuleRef{Appliance: r.Appliance, Rule: r.Rule})
		if rule == nil {
			field := fmt.Sprintf("routing.rules[%d]", i)
			probs = append(probs, cfg.problem(field, "no rule %q on appliance %q in the inventory: check both names against `otbridge rules`", r.Rule, r.Appliance).String())
			continue
		}
		cfg.Routing.Rules[i].Appliance, cfg.Routing.Rules[i].Rule = rule.Appliance, rule.Name
	}
	for i, l := range cfg.Listeners {
		ref := l.Rule.Ref()
		if ref == nil {
			continue
		}
		rule := inv.Rule(*ref)
		if rule == nil {
			field := fmt.Sprintf("listeners[%d].rule", i)
			probs = append(probs, cfg.problem(field, "no rule %q on appliance %q in the inventory: check both names against `otbridge rules`", ref.Rule, ref.Appliance).String())
			continue
		}
		cfg.Listeners[i].Rule.Appliance, cfg.Listeners[i].Rule.Rule = rule.Appliance, rule.Name
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return &setup{cfg: cfg, inv: inv}, nil
}

// problemList is every problem found in the config and inventory, one
// rendered line each.
type problemList []string

func (p problemList) Error() string { return strings.Join(p, "\n") }

func problemsOf(ps Problems) problemList {
	out := make(problemList, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// reportLoadError prints a loadSetup error and returns the exit error.
func (a *app) reportLoadError(err error) error {
	var probs problemList
	if errors.As(err, &probs) {
		for _, p := range probs {
			fmt.Fprintln(a.stderr, p)
		}
		plural := "s"
		if len(probs) == 1 {
			plural = ""
		}
		fmt.Fprintf(a.stderr, "%d problem%s found\n", len(probs), plural)
		return &exitError{code: exitFailure}
	}
	return a.fail(exitFailure, "%v", err)
}

func writeString(w io.Writer, s string) error {
	_, err := io.WriteString(w, s)
	return err
}
