package leef

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecoder_Decode(t *testing.T) {
	const hdr1 = "LEEF:1.0|Microsoft Defender for IoT|Sensor|24.1.3|Microsoft Defender for IoT Alert|"
	base := func(attrs ...Attribute) *Message {
		return &Message{
			Version: Version1, Vendor: "Microsoft Defender for IoT", Product: "Sensor",
			ProductVersion: "24.1.3", EventID: "Microsoft Defender for IoT Alert",
			Delimiter: '\t', Attributes: attrs,
		}
	}
	v2 := func(delim rune, attrs ...Attribute) *Message {
		return &Message{Version: Version2, Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: delim, Attributes: attrs}
	}

	tests := []struct {
		name    string
		decoder Decoder
		in      string
		want    *Message
		wantErr string
	}{
		{
			name: "1.0 tab separated",
			in:   hdr1 + "title=Unauthorized PLC Programming\tseverity=Major",
			want: base(Attribute{"title", "Unauthorized PLC Programming"}, Attribute{"severity", "Major"}),
		},
		{
			name: "syslog prefix before marker",
			in:   "<9>Jul 15 10:12:13 sensor-a " + hdr1 + "severity=Minor",
			want: base(Attribute{"severity", "Minor"}),
		},
		{
			name: "trailing delimiter and line ending",
			in:   hdr1 + "a=1\tb=2\t\r\n",
			want: base(Attribute{"a", "1"}, Attribute{"b", "2"}),
		},
		{
			name: "trailing NUL",
			in:   hdr1 + "a=1\x00",
			want: base(Attribute{"a", "1"}),
		},
		{
			name: "empty and blank attributes skipped",
			in:   hdr1 + "a=1\t\t \tb=2",
			want: base(Attribute{"a", "1"}, Attribute{"b", "2"}),
		},
		{
			name: "value holds equals signs",
			in:   hdr1 + "msg=function=0x1D a=b\tk=",
			want: base(Attribute{"msg", "function=0x1D a=b"}, Attribute{"k", ""}),
		},
		{
			name: "keys trimmed values verbatim",
			in:   hdr1 + " title = a b \tx=y",
			want: base(Attribute{"title", " a b "}, Attribute{"x", "y"}),
		},
		{
			name: "segment without equals joins previous value",
			in:   hdr1 + "msg=first\tsecond\tk=v",
			want: base(Attribute{"msg", "first\tsecond"}, Attribute{"k", "v"}),
		},
		{
			name: "leading segment without equals is a bare key",
			in:   hdr1 + "orphan\tk=v",
			want: base(Attribute{"orphan", ""}, Attribute{"k", "v"}),
		},
		{
			name: "duplicate keys kept in order",
			in:   hdr1 + "k=1\tk=2",
			want: base(Attribute{"k", "1"}, Attribute{"k", "2"}),
		},
		{
			name: "escaped pipe and backslash in header",
			in:   `LEEF:1.0|A\|B|C\\|D\x|E|k=v|w`,
			want: &Message{Version: Version1, Vendor: "A|B", Product: `C\`, ProductVersion: `D\x`, EventID: "E", Delimiter: '\t',
				Attributes: []Attribute{{"k", "v|w"}}},
		},
		{
			name: "no attributes",
			in:   hdr1,
			want: base(),
		},
		{
			name: "event id without closing pipe",
			in:   "LEEF:1.0|V|P|1|E\n",
			want: &Message{Version: Version1, Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: '\t'},
		},
		{
			name: "short version numbers",
			in:   "LEEF:1|V|P|1|E|",
			want: &Message{Version: Version1, Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: '\t'},
		},
		{
			name: "empty header fields",
			in:   "LEEF:1.0|||||k=v",
			want: &Message{Version: Version1, Delimiter: '\t', Attributes: []Attribute{{"k", "v"}}},
		},
		{
			name: "2.0 caret delimiter",
			in:   "LEEF:2.0|V|P|1|E|^|a=1^b=x|y^",
			want: v2('^', Attribute{"a", "1"}, Attribute{"b", "x|y"}),
		},
		{
			name: "2.0 hex delimiter x09",
			in:   "LEEF:2.0|V|P|1|E|x09|a=1\tb=2",
			want: v2('\t', Attribute{"a", "1"}, Attribute{"b", "2"}),
		},
		{
			name: "2.0 hex delimiter 0x5E upper case",
			in:   "LEEF:2.0|V|P|1|E|0X5e|a=1^b=2",
			want: v2('^', Attribute{"a", "1"}, Attribute{"b", "2"}),
		},
		{
			name: "2.0 hex delimiter for a pipe",
			in:   "LEEF:2.0|V|P|1|E|x7C|a=1|b=2",
			want: v2('|', Attribute{"a", "1"}, Attribute{"b", "2"}),
		},
		{
			name: "2.0 empty delimiter field means tab",
			in:   "LEEF:2.0|V|P|1|E||a=1\tb=2",
			want: v2('\t', Attribute{"a", "1"}, Attribute{"b", "2"}),
		},
		{
			name: "2.0 without delimiter field",
			in:   "LEEF:2.0|V|P|1|E|a=1\tb=x|y",
			want: v2('\t', Attribute{"a", "1"}, Attribute{"b", "x|y"}),
		},
		{
			name: "2.0 header only",
			in:   "LEEF:2.0|V|P|1|E|",
			want: v2('\t'),
		},
		{
			name:    "1.0 delimiter from decoder",
			decoder: Decoder{Delimiter: '^'},
			in:      "LEEF:1.0|V|P|1|E|a=1^b=2",
			want:    &Message{Version: Version1, Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: '^', Attributes: []Attribute{{"a", "1"}, {"b", "2"}}},
		},
		{
			name:    "2.0 declared delimiter beats decoder",
			decoder: Decoder{Delimiter: ';'},
			in:      "LEEF:2.0|V|P|1|E|^|a=1^b=2",
			want:    v2('^', Attribute{"a", "1"}, Attribute{"b", "2"}),
		},
		{name: "no marker", in: "CEF:0|a|b|c|d|e|f|", wantErr: "no LEEF: marker"},
		{name: "header too short", in: "LEEF:1.0|V|P|", wantErr: "leef header has 3 of 5 fields"},
		{name: "header cut after version", in: "LEEF:2.0", wantErr: "leef header has 0 of 5 fields"},
		{name: "unterminated event id with attributes", in: "LEEF:1.0|V|P|1|E\tk=v", wantErr: "leef header has 4 of 5 fields"},
		{name: "unknown version", in: "LEEF:3.0|V|P|1|E|", wantErr: `unsupported leef version "3.0"`},
		{name: "unknown version without pipe", in: "LEEF:x", wantErr: `unsupported leef version "x"`},
		{name: "2.0 bad delimiter field", in: "LEEF:2.0|V|P|1|E|abc|k=v", wantErr: `leef delimiter "abc" is neither`},
		{name: "2.0 hex too long", in: "LEEF:2.0|V|P|1|E|x12345|k=v", wantErr: `leef delimiter "x12345" is neither`},
		{name: "2.0 delimiter is equals", in: "LEEF:2.0|V|P|1|E|x3D|k=v", wantErr: `leef delimiter "x3D" cannot separate`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.decoder.Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode() =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestDecode_notLEEF(t *testing.T) {
	_, err := Decode([]byte("<9>Jul 15 10:12:13 host CEF:0|x|y|z|a|b|1|"))
	if !errors.Is(err, ErrNotLEEF) {
		t.Fatalf("Decode() error = %v, want ErrNotLEEF", err)
	}
}

func TestMessage_Get(t *testing.T) {
	m := &Message{Attributes: []Attribute{{"a", "1"}, {"b", ""}, {"a", "2"}}}
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"a", "1", true},
		{"b", "", true},
		{"A", "", false},
		{"c", "", false},
	}
	for _, tt := range tests {
		if got := m.Get(tt.key); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if got, ok := m.Lookup(tt.key); got != tt.want || ok != tt.wantOK {
			t.Errorf("Lookup(%q) = %q, %v, want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestMessage_Map(t *testing.T) {
	m := &Message{Attributes: []Attribute{{"a", "1"}, {"b", ""}, {"a", "2"}}}
	want := map[string]string{"a": "1", "b": ""}
	if got := m.Map(); !reflect.DeepEqual(got, want) {
		t.Errorf("Map() = %v, want %v", got, want)
	}
}
