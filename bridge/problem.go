package bridge

import "fmt"

// FieldProblem is one invalid setting of an adapter's configuration: the
// key, relative to the adapter's entry (such as "tls.key_file"), and what
// is wrong with what to do about it. The caller adds the file, line and
// the entry's own path.
type FieldProblem struct {
	Field string
	Msg   string
}

// FieldProblems collects the problems of one validation.
type FieldProblems []FieldProblem

// Add records a problem of the field, the message formatted as fmt.Sprintf
// does.
func (ps *FieldProblems) Add(field, format string, args ...any) {
	*ps = append(*ps, FieldProblem{Field: field, Msg: fmt.Sprintf(format, args...)})
}
