package inventory

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// walker validates one file's node tree by hand, so that it can report
// every problem with its position instead of stopping at the first, and
// collects what it finds.
type walker struct {
	file  string
	probs Errors
}

// path resolves a file reference written in the inventory: a relative path
// is taken from the directory of the inventory file, so that the inventory
// means the same whatever the working directory.
func (w *walker) path(s string) string {
	if s == "" || filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(filepath.Dir(w.file), s)
}

func (w *walker) pos(n *yaml.Node) Position {
	return Position{File: w.file, Line: n.Line, Column: n.Column}
}

// maxProblems bounds the problems reported for one file: enough for any
// honest mistake, and a hostile file cannot make the listing huge.
const maxProblems = 500

// full reports whether the file has used up its problems, so that the
// work of wording another can be skipped.
func (w *walker) full() bool { return len(w.probs) > maxProblems }

// report records a problem at node n, or at the file when n is nil. Past
// maxProblems it records one last problem saying so and drops the rest.
func (w *walker) report(n *yaml.Node, field, format string, args ...any) {
	switch {
	case len(w.probs) > maxProblems:
		return
	case len(w.probs) == maxProblems:
		w.probs = append(w.probs, Problem{
			Position: Position{File: w.file},
			Msg:      fmt.Sprintf("more than %d problems: fix these and load the file again to see the rest", maxProblems),
		})
		return
	}
	p := Problem{Position: Position{File: w.file}, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	w.probs = append(w.probs, p)
}

func (w *walker) fileProblem(msg string) { w.report(nil, "", "%s", msg) }

// missing reports a required key that is absent from mapping f.
func (w *walker) missing(f *fields, key, todo string) {
	w.report(f.node, f.field(key), "missing: %s", todo)
}

// fields is a mapping's entries by key.
type fields struct {
	node *yaml.Node
	path string
	keys []*yaml.Node
	vals map[string]*yaml.Node
	kns  map[string]*yaml.Node
}

// key returns the key node of key, nil when the key is absent.
func (f *fields) key(key string) *yaml.Node { return f.kns[key] }

// get returns the value of key, nil when the key is absent.
func (f *fields) get(key string) *yaml.Node { return f.vals[key] }

// field returns the path of key inside the mapping. A key that is not a
// plain name is quoted (`headers["X Bad"]`), and cut when long.
func (f *fields) field(key string) string {
	plain := key != "" && len(key) <= 64 && !strings.ContainsFunc(key, func(r rune) bool {
		return !(r == '-' || r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	})
	switch {
	case !plain:
		return f.path + "[" + short(key) + "]"
	case f.path == "":
		return key
	}
	return f.path + "." + key
}

// fields reads a mapping. It reports keys that are given twice, keys that
// are not plain names, and keys that hold a secret inline, and leaves the
// latter out so that nothing reads their values. It returns nil, having
// reported why, when n is not a mapping; what names the expected mapping
// ("a rule").
func (w *walker) fields(n *yaml.Node, path, what string) *fields {
	if !w.notAlias(n, path) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		w.report(n, path, "want %s (a mapping of keys to values), got %s", what, describe(n))
		return nil
	}

	f := &fields{
		node: n,
		path: path,
		vals: make(map[string]*yaml.Node, len(n.Content)/2),
		kns:  make(map[string]*yaml.Node, len(n.Content)/2),
	}
	first := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind == yaml.AliasNode:
			w.report(k, path, "YAML aliases are not supported: write the key out")
			continue
		case k.Tag == "!!merge":
			w.report(k, path, "YAML merge keys (<<) are not supported: write the keys out in full")
			continue
		case k.Kind != yaml.ScalarNode || isNull(k):
			w.report(k, path, "want a key name, got %s", describe(k))
			continue
		}

		key := k.Value
		if prev, ok := first[key]; ok {
			w.report(k, f.field(key), "given twice (first at line %d): keep one", prev.Line)
			continue
		}
		first[key] = k
		if looksSecret(key) {
			w.report(k, f.field(key), "inline secret: put it in a file and name the file with %s instead", short(key+"_file"))
			continue
		}
		f.keys = append(f.keys, k)
		f.vals[key] = v
		f.kns[key] = k
	}
	return f
}

// allow reports every key of f that is not in allowed. explain, when not
// nil, may give a more helpful message for a key; it returns "" to fall
// back on the list of allowed keys.
func (w *walker) allow(f *fields, allowed []string, explain func(key string) string) {
	for _, k := range f.keys {
		if slices.Contains(allowed, k.Value) || w.full() {
			continue
		}
		msg := ""
		if explain != nil {
			msg = explain(k.Value)
		}
		if msg == "" {
			msg = unknownKey(k.Value, allowed)
		}
		w.report(k, f.field(k.Value), "%s", msg)
	}
}

// unknownKey words the problem of a key outside allowed, suggesting the
// closest allowed key when one is near.
func unknownKey(key string, allowed []string) string {
	list := strings.Join(allowed, ", ")
	best, bestDist := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(key), a); d < bestDist {
			best, bestDist = a, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %s: did you mean %q? (allowed keys: %s)", short(key), best, list)
	}
	return fmt.Sprintf("unknown key %s (allowed keys: %s)", short(key), list)
}

// editDistance is the Levenshtein distance between a and b, by bytes; long
// keys are not compared, they are never near an allowed key.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// notAlias reports an alias node. Aliases are refused rather than followed:
// the format has no use for them, and refusing them rules out alias bombs.
func (w *walker) notAlias(n *yaml.Node, path string) bool {
	if n.Kind == yaml.AliasNode {
		w.report(n, path, "YAML aliases (*%s) are not supported: write the value out in full", cut(n.Value))
		return false
	}
	return true
}

// scalar reports n unless it is a single value; want words what is expected.
func (w *walker) scalar(n *yaml.Node, path, want string) bool {
	if !w.notAlias(n, path) {
		return false
	}
	if n.Kind != yaml.ScalarNode {
		w.report(n, path, "want %s, got %s", want, describe(n))
		return false
	}
	return true
}

// maxText bounds a single value; the longest real ones are URLs.
const maxText = 4096

// text reads a single value as text, trimmed of surrounding space. Numbers
// are accepted as their text; booleans are not, to catch a value given in
// the wrong place. An absent key or null gives "".
func (w *walker) text(n *yaml.Node, path string) (string, bool) {
	if n == nil || isNull(n) {
		return "", true
	}
	if !w.scalar(n, path, "a string") {
		return "", false
	}
	switch n.Tag {
	case "!!str", "!!int", "!!float", "!!timestamp":
	case "!!bool":
		w.report(n, path, "want a string, got a boolean: quote the value if it is meant as text")
		return "", false
	default:
		w.report(n, path, "want a string, got %s", describe(n))
		return "", false
	}

	s := strings.TrimSpace(n.Value)
	if len(s) > maxText {
		w.report(n, path, "value is %d bytes long, over the limit of %d", len(s), maxText)
		return "", false
	}
	if msg := secretValue(s); msg != "" {
		w.report(n, path, "%s", msg)
		return "", false
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		w.report(n, path, "contains a line break or other control character: write the value on one line")
		return "", false
	}
	return s, true
}

// required reads a string that must be given and must not be empty; todo
// says what to write. The node is nil when a problem was reported.
func (w *walker) required(f *fields, key, todo string) (string, *yaml.Node) {
	n := f.get(key)
	if n == nil {
		w.missing(f, key, todo)
		return "", nil
	}
	s, ok := w.text(n, f.field(key))
	if !ok {
		return "", nil
	}
	if s == "" {
		w.report(n, f.field(key), "empty: %s", todo)
		return "", nil
	}
	return s, n
}

// boolean reads true or false.
func (w *walker) boolean(n *yaml.Node, path string) (v, ok bool) {
	if !w.scalar(n, path, "true or false") {
		return false, false
	}
	if n.Tag != "!!bool" {
		w.report(n, path, "want true or false, got %s", describe(n))
		return false, false
	}
	v, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		w.report(n, path, "want true or false, got %s", describe(n))
		return false, false
	}
	return v, true
}

// integer reads a whole number.
func (w *walker) integer(n *yaml.Node, path string) (int64, bool) {
	if !w.scalar(n, path, "a whole number") {
		return 0, false
	}
	if n.Tag != "!!int" {
		w.report(n, path, "want a whole number, got %s", describe(n))
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		w.report(n, path, "number out of range")
		return 0, false
	}
	return v, true
}

// list reads a sequence; what names its items ("protocols"). An absent key
// or null gives an empty list.
func (w *walker) list(n *yaml.Node, path, what string) ([]*yaml.Node, bool) {
	if n == nil || isNull(n) {
		return nil, true
	}
	if !w.notAlias(n, path) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		w.report(n, path, "want a list of %s, got %s: write it as [a, b] or one \"- item\" per line", what, describe(n))
		return nil, false
	}
	return n.Content, true
}

// item is one entry of a list of strings.
type item struct {
	value string
	node  *yaml.Node
	path  string
}

// texts reads a list of non-empty strings without repeats (ignoring case),
// leaving out the entries it reports.
func (w *walker) texts(n *yaml.Node, path, what string) []item {
	nodes, _ := w.list(n, path, what)
	var out []item
	seen := make(map[string]int, len(nodes))
	for i, node := range nodes {
		it := item{node: node, path: fmt.Sprintf("%s[%d]", path, i)}
		s, ok := w.text(node, it.path)
		switch {
		case !ok:
			continue
		case s == "":
			w.report(node, it.path, "empty entry: remove it")
			continue
		}
		if line, dup := seen[strings.ToLower(s)]; dup {
			w.report(node, it.path, "%s listed twice (first at line %d): remove one", short(s), line)
			continue
		}
		seen[strings.ToLower(s)] = node.Line
		it.value = s
		out = append(out, it)
	}
	return out
}

// values returns the items' strings, nil for none.
func values(items []item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.value)
	}
	return out
}

// describe names what a node holds, for "want X, got Y" messages. It never
// includes the node's value, which may be a secret.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.Tag {
	case "!!null":
		return "nothing (null)"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "a whole number"
	case "!!float":
		return "a decimal number"
	case "!!str":
		return "a string"
	case "!!timestamp":
		return "a date"
	case "!!binary":
		return "binary data"
	}
	return "a value tagged " + short(n.Tag)
}

// short quotes s for a message, cut to a length a reader can take in.
func short(s string) string {
	if c := cut(s); c != s {
		return strconv.Quote(c) + "..."
	}
	return strconv.Quote(s)
}

// cut shortens s to 64 characters.
func cut(s string) string {
	const limit = 64
	if r := []rune(s); len(r) > limit {
		return string(r[:limit])
	}
	return s
}
