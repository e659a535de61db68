package cef

import (
	"reflect"
	"testing"
)

func TestEvent_Append(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{
			name: "empty",
			ev:   Event{},
			want: "CEF:0|||||||",
		},
		{
			name: "header escapes",
			ev: Event{Version: 1, Vendor: `a|b`, Product: `c\d`, DeviceVersion: "e\r\nf", SignatureID: "g\rh",
				Name: "i\nj=k", Severity: " 10\n"},
			want: `CEF:1|a\|b|c\\d|e f|g h|i j=k|10|`,
		},
		{
			name: "value escapes",
			ev: Event{Extensions: Extensions{
				{"a", "x=y"}, {"b", `back\slash`}, {"c", "l1\nl2\r\nl3\rl4"}, {"d", "p|q"}, {"e", ""},
			}},
			want: `CEF:0|||||||a=x\=y b=back\\slash c=l1\nl2\nl3\nl4 d=p|q e=`,
		},
		{
			name: "keys sanitised",
			ev:   Event{Extensions: Extensions{{" src ip ", "1"}, {"=@!", "dropped"}, {"ad.f[0]", "2"}}},
			want: "CEF:0|||||||srcip=1 ad.f[0]=2",
		},
		{
			name: "first key dropped",
			ev:   Event{Extensions: Extensions{{"", "x"}, {"a", "1"}}},
			want: "CEF:0|||||||a=1",
		},
		{
			name: "negative version",
			ev:   Event{Version: -3},
			want: "CEF:0|||||||",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.ev.Append([]byte("<9>"))); got != "<9>"+tt.want {
				t.Errorf("Append = %q, want %q", got, "<9>"+tt.want)
			}
			if got := tt.ev.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvent_AppendRoundTrip(t *testing.T) {
	ev := Event{
		Version: 0, Vendor: "Microsoft Defender for IoT", Product: `plant|1\a`, DeviceVersion: "24.1.3",
		SignatureID: DefenderSignatureID, Name: "Title with = and | and \\", Severity: "8",
		Extensions: Extensions{
			{"msg", "a message: key=value pairs, a\\path and\nlines"},
			{"empty", ""},
			{"spaces", "  leading spaces kept"},
			{"looks", "like src=1.2.3.4 inside"},
		},
	}
	var got Event
	if err := Parse(ev.String(), &got); err != nil {
		t.Fatalf("Parse(%q): %v", ev.String(), err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, ev)
	}
}
