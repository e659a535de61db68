package report

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// The ANSI styles of the text report.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
)

// width is the number of columns s takes on a terminal: its runes, less
// the ANSI styles. Wide (East Asian) characters count as one column.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			if end := strings.IndexByte(s[i:], 'm'); end >= 0 {
				i += end + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// wrap breaks s at spaces into lines of at most w columns. A word longer
// than a line, such as a long path, is broken after a hyphen or a slash
// where it can be, else anywhere.
func wrap(s string, w int) []string {
	w = max(w, 1)
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		if width(word) > w {
			if cur != "" {
				lines = append(lines, cur)
			}
			pieces := breakWord(word, w)
			lines = append(lines, pieces[:len(pieces)-1]...)
			cur = pieces[len(pieces)-1]
			continue
		}
		switch {
		case cur == "":
			cur = word
		case width(cur)+1+width(word) <= w:
			cur += " " + word
		default:
			lines = append(lines, cur)
			cur = word
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// wordBreaks are where breakWord prefers to break a word: after them.
const wordBreaks = "-/"

// breakWord cuts a word into pieces of at most w columns, each ending
// after a hyphen or a slash where one is near enough.
func breakWord(word string, w int) []string {
	var out []string
	for width(word) > w {
		head, _ := splitAt(word, w)
		if i := strings.LastIndexAny(head, wordBreaks); i > 0 {
			head = head[:i+1]
		}
		out = append(out, head)
		word = word[len(head):]
	}
	return append(out, word)
}

// longest is the width of the widest of the parts of s that split gives.
func longest(s string, split func(string) []string) int {
	n := 0
	for _, part := range split(s) {
		n = max(n, width(part))
	}
	return n
}

// pieces splits s into words and the words after their hyphens and
// slashes: the narrowest a cell gets before a word is cut anywhere.
func pieces(s string) []string {
	var out []string
	for _, word := range strings.Fields(s) {
		for {
			i := strings.IndexAny(word, wordBreaks)
			if i < 0 || i == len(word)-1 {
				break
			}
			out = append(out, word[:i+1])
			word = word[i+1:]
		}
		out = append(out, word)
	}
	return out
}

// splitAt splits s after its first n runes.
func splitAt(s string, n int) (string, string) {
	for i := range s {
		if n == 0 {
			return s[:i], s[i:]
		}
		n--
	}
	return s, ""
}

// cut shortens s to w columns, ending it with an ellipsis when it is cut.
func cut(s string, w int) (string, bool) {
	if width(s) <= w {
		return s, false
	}
	head, _ := splitAt(s, max(w-1, 0))
	return head + "…", true
}

// textOut gathers the lines of a text report.
type textOut struct {
	b     bytes.Buffer
	color bool
	width int
}

// line writes one line, without trailing spaces.
func (o *textOut) line(s string) {
	o.b.WriteString(strings.TrimRight(s, " "))
	o.b.WriteByte('\n')
}

// para writes s wrapped to the report's width: the first line starts with
// first, the others with rest (usually spaces as wide as first).
func (o *textOut) para(first, rest, s string) {
	w := o.width - max(width(first), width(rest))
	for i, l := range wrap(s, w) {
		if i == 0 {
			o.line(first + l)
		} else {
			o.line(rest + l)
		}
	}
}

// field writes a labelled paragraph: the label padded to labelWidth after
// indent, the value wrapped beside it.
func (o *textOut) field(indent, label string, labelWidth int, value string) {
	first := indent + pad(label, labelWidth)
	o.para(first, strings.Repeat(" ", width(first)), value)
}

// style wraps s in an ANSI style when colour is on.
func (o *textOut) style(code, s string) string {
	if !o.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// pad fills s with spaces to w columns.
func pad(s string, w int) string {
	if n := w - width(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// column is one column of a text table.
type column struct {
	title string
	// right aligns the column's cells to the right (numbers).
	right bool
	// shrink, if not zero, lets the column's cells wrap when the table
	// is wider than the report, down to shrink columns; the cells of a
	// column with shrink zero never wrap.
	shrink int
}

// tableGap separates the columns of a table.
const tableGap = "  "

// table writes rows under a header row, aligned, after indent. When the
// table is wider than the report, the widest shrinkable column narrows
// first and its cells wrap.
func (o *textOut) table(indent string, cols []column, rows [][]string) {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = width(c.title)
		for _, r := range rows {
			widths[i] = max(widths[i], width(r[i]))
		}
	}
	total := func() int {
		n := width(indent) + width(tableGap)*(len(cols)-1)
		for _, w := range widths {
			n += w
		}
		return n
	}
	// A column narrows to its floor: the longest word of its title
	// (titles wrap too) and, if its cells may not wrap, its widest cell.
	// First the columns whose cells do not wrap narrow their titles; then
	// the widest column that may wrap narrows, one column at a time:
	// down to its longest word, then to its longest piece of a word
	// (broken after a hyphen), then to its shrink width.
	floor := func(i int, part func(string) []string) int {
		n := longest(cols[i].title, strings.Fields)
		if cols[i].shrink == 0 {
			part = func(s string) []string { return []string{s} }
		}
		for _, r := range rows {
			n = max(n, longest(r[i], part))
		}
		return max(n, cols[i].shrink)
	}
	for i, c := range cols {
		if c.shrink > 0 {
			continue
		}
		for f := floor(i, nil); total() > o.width && widths[i] > f; {
			widths[i]--
		}
	}
	hard := func(string) []string { return nil }
	for _, part := range []func(string) []string{strings.Fields, pieces, hard} {
		floors := make([]int, len(cols))
		for i := range cols {
			floors[i] = floor(i, part)
		}
		for total() > o.width {
			widest := -1
			for i := range cols {
				if widths[i] > floors[i] && (widest < 0 || widths[i] > widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
		}
	}

	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.title
	}
	o.row(indent, cols, widths, header, ansiBold)
	// When a row takes several lines, a blank line between the rows
	// shows where each ends.
	spaced := false
	for _, r := range rows {
		for i, c := range r {
			spaced = spaced || width(c) > widths[i]
		}
	}
	for i, r := range rows {
		if spaced && i > 0 {
			o.line("")
		}
		o.row(indent, cols, widths, r, "")
	}
}

// row writes one table row, over several lines when a cell wraps.
func (o *textOut) row(indent string, cols []column, widths []int, cells []string, code string) {
	wrapped := make([][]string, len(cells))
	height := 1
	for i, c := range cells {
		wrapped[i] = []string{c}
		if width(c) > widths[i] {
			wrapped[i] = wrap(c, widths[i])
		}
		height = max(height, len(wrapped[i]))
	}
	for l := range height {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range cols {
			if i > 0 {
				b.WriteString(tableGap)
			}
			s := ""
			if l < len(wrapped[i]) {
				s = wrapped[i][l]
			}
			fill := strings.Repeat(" ", max(widths[i]-width(s), 0))
			if c.right {
				b.WriteString(fill + o.style(code, s))
			} else {
				b.WriteString(o.style(code, s) + fill)
			}
		}
		o.line(b.String())
	}
}
