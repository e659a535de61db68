// Package inventory reads the files in which teams describe the forwarding
// rules of their Defender for IoT sensors and management consoles.
//
// No API exports forwarding rules, so otbridge learns them from an
// inventory: a YAML or JSON file that mirrors the rule dialog of the
// appliance UI field for field (the README's section "The rule inventory"
// documents every key). Load and LoadFiles turn one or more such files into
// bridge.Appliance values, and remember where each appliance, rule and
// action was written so that later reports can cite the line.
//
// Reading is strict. A mistake is never skipped or guessed around: every
// problem in every file is reported at once, as Errors, each with its file,
// line, column and field, and with what to write instead. Secrets never
// appear in an inventory: keys that look like credentials must name a file
// ("passphrase_file"), and no message repeats a value that may be secret.
// The files named (certificates, keys, passphrases) are not opened here;
// checking them is the migration report's job.
//
// The input is bounded: files over MaxFileSize are refused, YAML aliases
// and merge keys are refused rather than expanded (so alias bombs cannot
// grow), and the YAML parser itself stops at 10,000 levels of nesting,
// JSON at 64.
package inventory

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/otbridge/otbridge/bridge"
)

// FormatVersion is the version of the inventory format this package reads,
// the value of the file's "version" key.
const FormatVersion = 1

// MaxFileSize is the largest inventory file accepted, 8 MiB: tens of
// thousands of rules. A larger fleet is split over several files loaded
// together.
const MaxFileSize = 8 << 20

// Inventory is the appliances and forwarding rules described by one or
// more inventory files, with where each was written.
type Inventory struct {
	// Files names the files read, in the order given.
	Files []string
	// Appliances in the order of the files and, within a file, as listed.
	// Appliance names are unique, ignoring case.
	Appliances []bridge.Appliance

	index   map[string]int // folded appliance name to index in Appliances
	sources map[string]applianceSource
}

// applianceSource is where an appliance and its rules were written.
type applianceSource struct {
	pos   Position
	rules map[string]ruleSource // by folded rule name
}

// Load reads one inventory file: JSON when its name ends in ".json" or its
// content is a JSON object, YAML otherwise. Relative paths in the file's
// *_file keys are resolved from the file's folder; the files they name are
// not opened. Load returns Errors when the file's content is wrong, and
// another error when the file cannot be read.
func Load(path string) (*Inventory, error) {
	return LoadFiles(path)
}

// LoadFiles reads several inventory files as one inventory: appliance names
// must be unique across all of them. It reports the problems of every file
// together, as Errors; an error of another type means a file could not be
// read.
func LoadFiles(paths ...string) (*Inventory, error) {
	if len(paths) == 0 {
		return nil, errors.New("load inventory: no files given")
	}
	results := make([][]fileAppliance, len(paths))
	var probs Errors
	for i, path := range paths {
		data, err := readLimited(path)
		if err != nil {
			return nil, fmt.Errorf("read inventory: %w", err)
		}
		var p Errors
		results[i], p = parseFile(path, data)
		probs = append(probs, p...)
	}
	return build(paths, results, probs)
}

// Parse reads an inventory from data. name stands for the file: it appears
// in positions and messages, a ".json" ending selects JSON, and relative
// file references are resolved from its folder, as Load does. Parse returns
// Errors when the content is wrong.
func Parse(name string, data []byte) (*Inventory, error) {
	apps, probs := parseFile(name, data)
	return build([]string{name}, [][]fileAppliance{apps}, probs)
}

// readLimited reads a file, stopping one byte past MaxFileSize: a larger
// file is refused anyway, so reading the rest would only cost memory.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

// parseFile reads one file into its appliances and problems.
func parseFile(name string, data []byte) ([]fileAppliance, Errors) {
	w := &walker{file: name}
	if len(data) > MaxFileSize {
		w.fileProblem(fmt.Sprintf("file is larger than %d MiB: split the appliances over several files and load them together", MaxFileSize>>20))
		return nil, w.probs
	}
	root := w.tree(data)
	if root == nil {
		return nil, w.probs
	}
	return w.document(root), w.probs
}

// build checks that appliance names are unique across files and assembles
// the inventory, or returns every problem found.
func build(files []string, results [][]fileAppliance, probs Errors) (*Inventory, error) {
	inv := &Inventory{
		Files:   files,
		index:   make(map[string]int),
		sources: make(map[string]applianceSource),
	}
	first := make(map[string]Position)
	for _, apps := range results {
		for _, a := range apps {
			if a.app.Name == "" {
				continue
			}
			folded := strings.ToLower(a.app.Name)
			if prev, dup := first[folded]; dup {
				where := prev.String()
				if prev.File == a.namePos.File {
					where = fmt.Sprintf("line %d", prev.Line)
				}
				probs = append(probs, Problem{
					Position: a.namePos,
					Field:    a.field + ".name",
					Msg:      fmt.Sprintf("duplicate appliance name %s (first at %s): appliance names must be unique across the files loaded together, ignoring case", short(a.app.Name), where),
				})
				continue
			}
			first[folded] = a.namePos

			src := applianceSource{pos: a.pos, rules: make(map[string]ruleSource, len(a.rules))}
			for i, r := range a.app.Rules {
				src.rules[strings.ToLower(r.Name)] = a.rules[i]
			}
			inv.index[folded] = len(inv.Appliances)
			inv.sources[folded] = src
			inv.Appliances = append(inv.Appliances, a.app)
		}
	}
	if len(probs) > 0 {
		sortProblems(probs, files)
		return nil, probs
	}
	return inv, nil
}

// Appliance returns the named appliance, ignoring case, or nil. The result
// points into Appliances.
func (inv *Inventory) Appliance(name string) *bridge.Appliance {
	i, ok := inv.index[strings.ToLower(name)]
	if !ok {
		return nil
	}
	return &inv.Appliances[i]
}

// Rule returns the referenced rule, ignoring case, or nil. The result
// points into Appliances.
func (inv *Inventory) Rule(ref bridge.RuleRef) *bridge.Rule {
	a := inv.Appliance(ref.Appliance)
	if a == nil {
		return nil
	}
	for i := range a.Rules {
		if strings.EqualFold(a.Rules[i].Name, ref.Rule) {
			return &a.Rules[i]
		}
	}
	return nil
}

// Rules returns every rule of every appliance, in inventory order.
func (inv *Inventory) Rules() []bridge.Rule {
	var out []bridge.Rule
	for _, a := range inv.Appliances {
		out = append(out, a.Rules...)
	}
	return out
}

// ApplianceSource returns where the named appliance was written, where its
// mapping starts. It is the zero Position for an appliance the
// inventory did not load.
func (inv *Inventory) ApplianceSource(name string) Position {
	return inv.sources[strings.ToLower(name)].pos
}

// RuleSource returns where the referenced rule was written, or the zero
// Position.
func (inv *Inventory) RuleSource(ref bridge.RuleRef) Position {
	return inv.sources[strings.ToLower(ref.Appliance)].rules[strings.ToLower(ref.Rule)].pos
}

// ActionSource returns where the i-th action (from 0) of the referenced
// rule was written, or the zero Position.
func (inv *Inventory) ActionSource(ref bridge.RuleRef, i int) Position {
	actions := inv.sources[strings.ToLower(ref.Appliance)].rules[strings.ToLower(ref.Rule)].actions
	if i < 0 || i >= len(actions) {
		return Position{}
	}
	return actions[i]
}
