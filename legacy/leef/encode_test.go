package leef

import (
	"strings"
	"testing"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name    string
		msg     Message
		want    string
		wantErr string
	}{
		{
			name: "1.0 default delimiter",
			msg: Message{Version: Version1, Vendor: "Microsoft Defender for IoT", Product: "Sensor", ProductVersion: "24.1.3",
				EventID: "Microsoft Defender for IoT Alert", Attributes: []Attribute{{"title", "T"}, {"severity", "Major"}}},
			want: "LEEF:1.0|Microsoft Defender for IoT|Sensor|24.1.3|Microsoft Defender for IoT Alert|title=T\tseverity=Major",
		},
		{
			name: "header escapes",
			msg:  Message{Version: Version1, Vendor: `A|B\C`, Product: "P", ProductVersion: "1", EventID: "E"},
			want: `LEEF:1.0|A\|B\\C|P|1|E|`,
		},
		{
			name: "2.0 printable delimiter",
			msg:  Message{Version: Version2, Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: '^', Attributes: []Attribute{{"a", "x=y"}, {"b", ""}}},
			want: "LEEF:2.0|V|P|1|E|^|a=x=y^b=",
		},
		{
			name: "2.0 tab written in hex",
			msg:  Message{Version: Version2, Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Attributes: []Attribute{{"a", "1"}}},
			want: "LEEF:2.0|V|P|1|E|x09|a=1",
		},
		{
			name: "2.0 pipe delimiter written in hex",
			msg:  Message{Version: Version2, Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: '|', Attributes: []Attribute{{"a", "1"}, {"b", "2"}}},
			want: "LEEF:2.0|V|P|1|E|x7C|a=1|b=2",
		},
		{name: "unknown version", msg: Message{Version: "1.1"}, wantErr: `unsupported version "1.1"`},
		{name: "equals delimiter", msg: Message{Version: Version2, Delimiter: '='}, wantErr: "cannot separate attributes"},
		{name: "newline in header", msg: Message{Version: Version1, Vendor: "a\nb"}, wantErr: "vendor holds a line break"},
		{name: "empty key", msg: Message{Version: Version1, Attributes: []Attribute{{"", "v"}}}, wantErr: "attribute 0 (\"\"): empty key"},
		{name: "equals in key", msg: Message{Version: Version1, Attributes: []Attribute{{"a=b", "v"}}}, wantErr: "key holds '='"},
		{name: "padded key", msg: Message{Version: Version1, Attributes: []Attribute{{" a", "v"}}}, wantErr: "surrounding white space"},
		{name: "delimiter in value", msg: Message{Version: Version1, Attributes: []Attribute{{"a", "x\ty"}}}, wantErr: "holds the delimiter"},
		{name: "newline in value", msg: Message{Version: Version1, Attributes: []Attribute{{"a", "x\ny"}}}, wantErr: "line break or NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("<9>")
			got, err := Append(prefix, &tt.msg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Append() error = %v, want %q", err, tt.wantErr)
				}
				if string(got) != "<9>" {
					t.Errorf("Append() changed dst on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Append() error = %v", err)
			}
			if string(got) != "<9>"+tt.want {
				t.Errorf("Append() = %q, want %q", got, "<9>"+tt.want)
			}

			back, err := Decode(got)
			if err != nil {
				t.Fatalf("Decode(Append()) error = %v", err)
			}
			if !equalMessages(back, &tt.msg) {
				t.Errorf("Decode(Append()) = %#v, want %#v", back, tt.msg)
			}
		})
	}
}

// equalMessages compares two messages, taking a zero delimiter as the
// default and a nil attribute list as an empty one.
func equalMessages(a, b *Message) bool {
	if a.Version != b.Version || a.Vendor != b.Vendor || a.Product != b.Product ||
		a.ProductVersion != b.ProductVersion || a.EventID != b.EventID ||
		a.delimiter() != b.delimiter() || len(a.Attributes) != len(b.Attributes) {
		return false
	}
	for i := range a.Attributes {
		if a.Attributes[i] != b.Attributes[i] {
			return false
		}
	}
	return true
}
