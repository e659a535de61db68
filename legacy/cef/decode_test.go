package cef

import (
	"errors"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Event
	}{
		{
			name: "header only",
			line: "CEF:0|v|p|1.0|100|name|5|",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1.0", SignatureID: "100", Name: "name", Severity: "5"},
		},
		{
			name: "syslog prefix",
			line: "<9>Mar  4 10:22:31 host CEF:1|v|p|1.0|100|name|5|a=b",
			want: Event{Version: 1, Vendor: "v", Product: "p", DeviceVersion: "1.0", SignatureID: "100", Name: "name", Severity: "5",
				Extensions: Extensions{{"a", "b"}}},
		},
		{
			name: "CEF: inside prefix without version",
			line: "note CEF: x CEF:0|v|p|1|2|n|3|",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3"},
		},
		{
			name: "header escapes",
			line: `CEF:0|a\|b|c\\|d\\\|e|\x|n|\\|`,
			want: Event{Vendor: "a|b", Product: `c\`, DeviceVersion: `d\|e`, SignatureID: `\x`, Name: "n", Severity: `\`},
		},
		{
			name: "values with spaces",
			line: "CEF:0|v|p|1|2|n|3|msg=two words here  src=10.0.0.1 cat=Group A",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"msg", "two words here"}, {"src", "10.0.0.1"}, {"cat", "Group A"}}},
		},
		{
			name: "value escapes",
			line: `CEF:0|v|p|1|2|n|3|a=x\=y\\z\nq\rw\|e\tf b=\\ c=end\`,
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"a", "x=y\\z\nq\rw|e\\tf"}, {"b", `\`}, {"c", `end\`}}},
		},
		{
			name: "backslash before space does not hide a key",
			line: `CEF:0|v|p|1|2|n|3|a=x\ b=y`,
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"a", `x\`}, {"b", "y"}}},
		},
		{
			name: "unescaped equals stays in value",
			line: "CEF:0|v|p|1|2|n|3|msg=a=b c =d e= f x.y=1",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"msg", "a=b c =d"}, {"e", " f"}, {"x.y", "1"}}},
		},
		{
			name: "empty values and trailing spaces",
			line: "CEF:0|v|p|1|2|n|3|   a= b=  c=x   ",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"a", ""}, {"b", ""}, {"c", "x"}}},
		},
		{
			name: "key punctuation",
			line: "CEF:0|v|p|1|2|n|3|src_ip=1 ad.Error_,Code=2 ad.f[0]=3 x-y=4",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"src_ip", "1"}, {"ad.Error_,Code", "2"}, {"ad.f[0]", "3"}, {"x-y", "4"}}},
		},
		{
			name: "trailers trimmed",
			line: "CEF:0|v|p|1|2|n|3|a=b\r\n\x00",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"a", "b"}}},
		},
		{
			name: "pipes in extension",
			line: "CEF:0|v|p|1|2|n|3|a=x|y b=|",
			want: Event{Vendor: "v", Product: "p", DeviceVersion: "1", SignatureID: "2", Name: "n", Severity: "3",
				Extensions: Extensions{{"a", "x|y"}, {"b", "|"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			if err := Parse(tt.line, &ev); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if ev.Extensions == nil {
				ev.Extensions = Extensions{}
			}
			if tt.want.Extensions == nil {
				tt.want.Extensions = Extensions{}
			}
			if !reflect.DeepEqual(ev, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", ev, tt.want)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	tests := []struct {
		line   string
		msg    string
		offset int
	}{
		{"", "", 0},
		{"not cef at all", "", 0},
		{"CEF:x|v|p|1|2|n|3|", "", 0},
		{"CEF:0", "cef header has 0 of 7 fields", 5},
		{"CEF:0|Vendor", "cef header has 1 of 7 fields", 12},
		{"CEF:0|v|p|1|2|n|3", "cef header has 6 of 7 fields", 17},
		{`CEF:0|v|p|1|2|n|3\|`, "cef header has 6 of 7 fields", 19},
		{"CEF:0x|v|p|1|2|n|3|", "cef version is not a number", 4},
		{"CEF:12345|v|p|1|2|n|3|", "cef version is not a number", 4},
		{"CEF:0|v|p|1|2|n|3|no key here", "cef extension has text without a key", 18},
		{"CEF:0|v|p|1|2|n|3| =x", "cef extension has text without a key", 19},
		{"CEF:0|v|p|1|2|n|3|a", "cef extension has text without a key", 18},
		{"CEF:0|v|p|1|2|n|3|a=b\nCEF:0|v|p|1|2|n|3|a=b", "cef event has an unescaped line break", 21},
		{"xx CEF:0|v\r|p|1|2|n|3|", "cef event has an unescaped line break", 10},
	}
	for _, tt := range tests {
		var ev Event
		err := Parse(tt.line, &ev)
		if tt.msg == "" {
			if !errors.Is(err, ErrNotCEF) {
				t.Errorf("Parse(%q) = %v, want ErrNotCEF", tt.line, err)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Msg != tt.msg || se.Offset != tt.offset {
			t.Errorf("Parse(%q) = %v, want %q at byte %d", tt.line, err, tt.msg, tt.offset)
		}
	}
}

func TestParse_reusesExtensions(t *testing.T) {
	ev := Event{Extensions: make(Extensions, 0, 8)}
	line := "CEF:0|v|p|1|2|n|3|a=1 b=2 c=3"
	if n := testing.AllocsPerRun(100, func() { _ = Parse(line, &ev) }); n != 0 {
		t.Errorf("Parse allocates %v times with room for the extensions, want 0", n)
	}
	if err := Parse("CEF:0|v|p|1|2|n|3|", &ev); err != nil || len(ev.Extensions) != 0 {
		t.Errorf("second Parse kept extensions %v (err %v)", ev.Extensions, err)
	}
}

func TestDecode(t *testing.T) {
	line := []byte("CEF:0|v|p|1|2|n|3|a=b")
	ev, err := Decode(line)
	if err != nil {
		t.Fatal(err)
	}
	copy(line, "XXXXXXXXXXXXXXXXXXXXX")
	if ev.Vendor != "v" || ev.Extensions[0].Value != "b" {
		t.Errorf("event changed with the line: %+v", ev)
	}
	if _, err := Decode([]byte("nope")); !errors.Is(err, ErrNotCEF) {
		t.Errorf("Decode(nope) = %v, want ErrNotCEF", err)
	}
}

func TestExtensions_Get(t *testing.T) {
	x := Extensions{{"a", "1"}, {"b", "2"}, {"a", "3"}}
	tests := []struct {
		key  string
		want string
		ok   bool
	}{
		{"a", "3", true},
		{"b", "2", true},
		{"A", "", false},
		{"c", "", false},
	}
	for _, tt := range tests {
		if got, ok := x.Get(tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestExtensions_Map(t *testing.T) {
	got := Extensions{{"a", "1"}, {"b", "2"}, {"a", "3"}}.Map()
	want := map[string]string{"a": "3", "b": "2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Map() = %v, want %v", got, want)
	}
}

func TestSyntaxError_Error(t *testing.T) {
	err := &SyntaxError{Offset: 12, Msg: "cef header has 5 of 7 fields"}
	if got := err.Error(); got != "cef header has 5 of 7 fields at byte 12" {
		t.Errorf("Error() = %q", got)
	}
}
