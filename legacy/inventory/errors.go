package inventory

import (
	"fmt"
	"slices"
	"strings"
)

// Position is where something was written in an inventory file. Line and
// Column count from 1; both are zero when the position is the file as a
// whole.
type Position struct {
	File         string
	Line, Column int
}

// String renders the position as "file:line:column", leaving out what is
// unknown.
func (p Position) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// IsZero reports whether the position is unknown.
func (p Position) IsZero() bool { return p == Position{} }

// Problem is one mistake in an inventory file: where it is, which field it
// concerns, and what to do about it. Msg never repeats a secret's value.
type Problem struct {
	Position
	// Field is the path of the key at fault, such as
	// "appliances[0].rules[2].minimal_alert_level"; empty when the problem
	// concerns the file itself.
	Field string
	Msg   string
}

// Error renders the problem as "file:line:column: field: message".
func (p Problem) Error() string {
	if p.Field == "" {
		return p.Position.String() + ": " + p.Msg
	}
	return p.Position.String() + ": " + p.Field + ": " + p.Msg
}

// Errors is every problem found in the inventory files loaded together, in
// the order the files were given and, within a file, by line and column.
// Load, LoadFiles and Parse return it as their error when the content of a
// file is wrong.
type Errors []Problem

// Error renders one problem per line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by the files' load order, then line, then
// column; problems of one place keep the order they were found in.
func sortProblems(ps Errors, files []string) {
	rank := make(map[string]int, len(files))
	for i, f := range files {
		if _, ok := rank[f]; !ok {
			rank[f] = i
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := rank[a.File] - rank[b.File]; c != 0 {
			return c
		}
		if c := a.Line - b.Line; c != 0 {
			return c
		}
		return a.Column - b.Column
	})
}
