package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll drains r and renders every result: a message as its text, an
// error as "!too-large(N)", "!truncated(partial)" or "!error(text)".
func readAll(r *Reader) []string {
	var out []string
	for i := 0; i < 1000; i++ {
		msg, err := r.Next()
		var tooLarge *FrameTooLargeError
		var truncated *TruncatedError
		switch {
		case err == io.EOF:
			return out
		case errors.As(err, &tooLarge):
			out = append(out, fmt.Sprintf("!too-large(%d)", tooLarge.Length))
		case errors.As(err, &truncated):
			out = append(out, fmt.Sprintf("!truncated(%s)", truncated.Partial))
		case err != nil:
			return append(out, "!error("+err.Error()+")")
		default:
			out = append(out, string(msg))
		}
	}
	return append(out, "!endless")
}

func TestReader_Next(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		input string
		want  []string
	}{
		{"empty stream", 0, "", nil},
		{"octet counted", 0, "5 hello5 world", []string{"hello", "world"}},
		{"newline terminated", 0, "a\nb\r\nc\x00", []string{"a", "b", "c"}},
		{"mixed framings", 0, "3 abc<9>x y\n4 defg", []string{"abc", "<9>x y", "defg"}},
		{"count includes LF", 0, "6 hello\n6 world\n", []string{"hello", "world"}},
		{"count includes CRLF", 0, "7 hello\r\n", []string{"hello"}},
		{"LF after count", 0, "5 hello\n5 world\r\n", []string{"hello", "world"}},
		{"empty lines skipped", 0, "\n\r\n\x00a\n\n", []string{"a"}},
		{"digits without space", 0, "123abc\n", []string{"123abc"}},
		{"too many digits", 0, "12345678901 x\n", []string{"12345678901 x"}},
		{"count with embedded LF", 0, "6 a\nb\r\ncd\n", []string{"a\nb\r\nc", "d"}},
		{"octet over limit", 8, "12 abcdefghijkl3 xyz", []string{"!too-large(12)", "xyz"}},
		{"line over limit", 8, "abcdefghijkl\nxyz\n", []string{"!too-large(12)", "xyz"}},
		{"line over limit by far", 4, strings.Repeat("x", 100) + "\n<1>\n", []string{"!too-large(100)", "<1>"}},
		{"line at limit with CRLF", 5, "hello\r\nabc\n", []string{"hello", "abc"}},
		{"line one over limit", 5, "hello!\nabc\n", []string{"!too-large(6)", "abc"}},
		{"line one over limit with CR", 5, "hello!\r\nabc\n", []string{"!too-large(6)", "abc"}},
		{"long line with CR", 4, "abcdefgh\r\nabc\n", []string{"!too-large(8)", "abc"}},
		{"octet at limit", 5, "5 hello", []string{"hello"}},
		{"truncated octet frame", 0, "10 abc", []string{"!truncated(abc)"}},
		{"truncated count", 0, "<1>a\n12", []string{"<1>a", "!truncated(12)"}},
		{"unterminated line", 0, "<9>x\n<9>last", []string{"<9>x", "!truncated(<9>last)"}},
		{"over limit then EOF", 8, "100 abc", []string{"!truncated()"}},
		{"long line then EOF", 4, "abcdefgh", []string{"!truncated()"}},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"data+err": iotest.DataErrReader,
		"half":     iotest.HalfReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				r := NewReader(wrap(strings.NewReader(tt.input)), tt.max)
				got := readAll(r)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("frames = %q, want %q", got, tt.want)
				}
				if _, err := r.Next(); err != io.EOF {
					t.Errorf("Next after the end = %v, want io.EOF", err)
				}
			})
		}
	}
}

func TestReader_Framing(t *testing.T) {
	r := NewReader(strings.NewReader("3 abc<9>x\n"), 0)
	want := []Framing{OctetCounting, NonTransparent}
	for _, f := range want {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if r.Framing() != f {
			t.Errorf("Framing = %v, want %v", r.Framing(), f)
		}
	}
}

func TestReader_NextError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("<9>a\n<9>b"), iotest.ErrReader(boom)), 0)
	if msg, err := r.Next(); err != nil || string(msg) != "<9>a" {
		t.Fatalf("first Next = %q, %v", msg, err)
	}
	for range 2 {
		if _, err := r.Next(); !errors.Is(err, boom) {
			t.Errorf("Next = %v, want the reader's error, every time", err)
		}
	}
}

func TestTruncatedError_Is(t *testing.T) {
	var err error = &TruncatedError{Framing: OctetCounting, Partial: []byte("ab")}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("TruncatedError does not match io.ErrUnexpectedEOF")
	}
	if got := err.Error(); got != "syslog stream ended inside a octet-counting frame after 2 bytes" {
		t.Errorf("Error() = %q", got)
	}
}

func TestReader_bounded(t *testing.T) {
	const max = 1000
	r := NewReader(strings.NewReader(""), max)
	if size := r.br.Size(); size > max+frameSlack {
		t.Errorf("buffer of %d bytes for a limit of %d", size, max)
	}
}

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		f    Framing
		msg  string
		want string
	}{
		{OctetCounting, "<9>hello", "8 <9>hello"},
		{OctetCounting, "", "0 "},
		{NonTransparent, "<9>hello", "<9>hello\n"},
	}
	for _, tt := range tests {
		if got := string(AppendFrame([]byte("x"), tt.f, []byte(tt.msg))); got != "x"+tt.want {
			t.Errorf("AppendFrame(%v, %q) = %q, want %q", tt.f, tt.msg, got, "x"+tt.want)
		}
	}
}

func TestWriter_WriteMessage(t *testing.T) {
	var buf bytes.Buffer
	msgs := []string{"<9>one", "<9>two\nlines", "<9>three"}
	w := NewWriter(&buf, OctetCounting)
	for _, m := range msgs {
		if err := w.WriteMessage([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	w = NewWriter(&buf, NonTransparent)
	if err := w.WriteMessage([]byte("<9>four")); err != nil {
		t.Fatal(err)
	}
	got := readAll(NewReader(&buf, 0))
	want := append(msgs, "<9>four")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read back %q, want %q", got, want)
	}
}

func TestIndexTrailer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", -1},
		{"abc", -1},
		{"\n", 0},
		{"\x00", 0},
		{"ab\ncd", 2},
		{"ab\x00cd\n", 2},
		{"abc\n\x00", 3},
		{strings.Repeat("x", 1000) + "\x00", 1000},
	} {
		if got := indexTrailer([]byte(tc.in)); got != tc.want {
			t.Errorf("indexTrailer(%.20q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
