package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Both syntaxes end up as one yaml.Node tree, so a single validator with
// line numbers serves both. JSON does not go through the YAML parser even
// though JSON is YAML in theory: yaml.v3 refuses valid JSON such as "\/"
// escapes, surrogate pairs and keys over 1024 characters. encoding/json
// reads it instead, and jsonTree rebuilds the positions.

var bom = []byte("\xef\xbb\xbf")

const emptyFile = "file is empty: an inventory starts with \"version: 1\" and lists its appliances"

// tree parses data into a document node. It reports a problem and returns
// nil when the file is empty or is not valid YAML or JSON.
func (w *walker) tree(data []byte) *yaml.Node {
	data = bytes.TrimPrefix(data, bom)
	if len(bytes.TrimSpace(data)) == 0 {
		w.fileProblem(emptyFile)
		return nil
	}

	isJSON := strings.EqualFold(filepath.Ext(w.file), ".json")
	if first := bytes.TrimLeft(data, " \t\r\n"); isJSON || first[0] == '{' || first[0] == '[' {
		root, err := jsonTree(data)
		var deep *depthError
		switch {
		case err == nil:
			return root
		case isJSON || errors.As(err, &deep):
			w.jsonProblem(data, err)
			return nil
		}
		// Not JSON after all: YAML flow style also starts with a brace.
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			w.fileProblem(emptyFile)
		} else {
			w.yamlProblem(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		w.yamlProblem(err)
		return nil
	default:
		w.report(&next, "", "file holds more than one YAML document: keep one document per file and load the files together")
		return nil
	}
	if len(root.Content) == 0 || isNull(root.Content[0]) {
		w.fileProblem(emptyFile)
		return nil
	}
	return &root
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a yaml.v3 syntax error, which carries at most a line
// number inside its text, into a problem.
func (w *walker) yamlProblem(err error) {
	msg := err.Error()
	p := Problem{Position: Position{File: w.file}}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.Msg = "invalid YAML: " + msg
	w.probs = append(w.probs, p)
}

// jsonProblem reports a JSON syntax error at the offending character.
func (w *walker) jsonProblem(data []byte, err error) {
	p := Problem{Position: Position{File: w.file}, Msg: "invalid JSON: " + err.Error()}
	var se *json.SyntaxError
	var deep *depthError
	if errors.As(err, &deep) {
		p.Line, p.Column = deep.line, deep.column
		p.Msg = deep.Error()
	} else if errors.As(err, &se) {
		p.Line, p.Column = lineCol(data, max(se.Offset-1, 0))
		p.Msg = "invalid JSON: " + strings.TrimPrefix(se.Error(), "json: ")
	} else if errors.Is(err, io.ErrUnexpectedEOF) {
		p.Line, p.Column = lineCol(data, int64(len(data)))
		p.Msg = "invalid JSON: unexpected end of file"
	}
	w.probs = append(w.probs, p)
}

// maxJSONDepth bounds how deeply a JSON file may nest. The inventory format
// needs eight levels; the bound keeps a hostile file from building a tree
// of millions of nested nodes.
const maxJSONDepth = 64

// jsonTree parses a JSON document into yaml.Node form, with each node's line
// and column, keeping duplicate keys so that the validator can report them.
func jsonTree(data []byte) (*yaml.Node, error) {
	// Unmarshal checks the whole document and gives exact error offsets,
	// which the token reader below does not.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	lines := newCursor(data)
	doc := &yaml.Node{Kind: yaml.DocumentNode, Line: 1, Column: 1}
	stack := []*yaml.Node{doc}
	for {
		start := skipJSONSpace(data, dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}

		n := &yaml.Node{}
		n.Line, n.Column = lines.lineCol(start)
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '}', ']':
				stack = stack[:len(stack)-1]
				continue
			case '{':
				n.Kind, n.Tag, n.Style = yaml.MappingNode, "!!map", yaml.FlowStyle
			case '[':
				n.Kind, n.Tag, n.Style = yaml.SequenceNode, "!!seq", yaml.FlowStyle
			}
		case string:
			n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", t, yaml.DoubleQuotedStyle
		case json.Number:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!float", t.String()
			if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				n.Tag = "!!int"
			}
		case bool:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", strconv.FormatBool(t)
		case nil:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
		}

		top := stack[len(stack)-1]
		top.Content = append(top.Content, n)
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			if len(stack) > maxJSONDepth {
				return nil, &depthError{line: n.Line, column: n.Column}
			}
			stack = append(stack, n)
		}
	}
	return doc, nil
}

// depthError is a JSON document nested deeper than maxJSONDepth.
type depthError struct{ line, column int }

func (e *depthError) Error() string {
	return "JSON nested more than " + strconv.Itoa(maxJSONDepth) + " levels deep: an inventory needs eight at most"
}

// skipJSONSpace returns the offset of the next token at or after off,
// skipping white space and the separators the token reader consumes
// silently.
func skipJSONSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// cursor turns byte offsets into lines and columns, columns counting
// characters as yaml.v3 does. It walks forward from the last offset asked
// for, so a pass over a document in order costs one scan of it.
type cursor struct {
	data      []byte
	off       int64
	line, col int
}

func newCursor(data []byte) *cursor { return &cursor{data: data, line: 1, col: 1} }

func (c *cursor) lineCol(target int64) (line, col int) {
	target = min(max(target, 0), int64(len(c.data)))
	if target < c.off {
		c.off, c.line, c.col = 0, 1, 1
	}
	for c.off < target {
		r, size := utf8.DecodeRune(c.data[c.off:])
		c.off += int64(size)
		if r == '\n' {
			c.line, c.col = c.line+1, 1
		} else {
			c.col++
		}
	}
	return c.line, c.col
}

// lineCol is cursor.lineCol for a single lookup.
func lineCol(data []byte, off int64) (line, col int) {
	return newCursor(data).lineCol(off)
}

// isNull reports whether n is an explicit or implicit YAML null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
