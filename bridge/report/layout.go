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
// than a line, such as a long path, is cut across lines.
func wrap(s string, w int) []string {
	w = max(w, 1)
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for width(word) > w {
			if cur != "" {
				lines = append(lines, cur)
				cur = ""
			}
			head, tail := splitAt(word, w)
			lines = append(lines, head)
			word = tail
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
	// A column narrows down to its floor: the longest word of its title
	// (titles wrap too), and its shrink width or, if it may not wrap, its
	// widest cell.
	floors := make([]int, len(cols))
	for i, c := range cols {
		floors[i] = c.shrink
		if c.shrink == 0 {
			for _, r := range rows {
				floors[i] = max(floors[i], width(r[i]))
			}
		}
		for _, word := range strings.Fields(c.title) {
			floors[i] = max(floors[i], width(word))
		}
	}
	// First the titles of the columns whose cells do not wrap, then the
	// widest column that may wrap, one column at a time.
	for i, c := range cols {
		for c.shrink == 0 && total() > o.width && widths[i] > floors[i] {
			widths[i]--
		}
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
