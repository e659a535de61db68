package syslog

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fixedNow returns a clock that always reads t.
func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

const cefBody = "CEF:0|Microsoft Defender for IoT|sensor-01|24.1.3|Microsoft Defender for IoT Alert|Unauthorized PLC Programming|8|msg=x"

func TestParser_Parse(t *testing.T) {
	march := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	plusOne := time.FixedZone("", 3600)
	tests := []struct {
		name string
		now  time.Time
		loc  *time.Location
		msg  string
		want Header
	}{
		{
			name: "defender sample",
			msg:  "<9>Mar  4 10:22:31 sensor-01 " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "sensor-01", Body: cefBody, BodyOffset: 29},
		},
		{
			name: "day not padded",
			msg:  "<9>Mar 4 10:22:31 sensor-01 " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "sensor-01", Body: cefBody, BodyOffset: 28},
		},
		{
			name: "day zero padded",
			msg:  "<9>Mar 04 10:22:31 sensor-01 " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "sensor-01", Body: cefBody, BodyOffset: 29},
		},
		{
			name: "space after pri",
			msg:  "<9> Mar  4 10:22:31 sensor-01 " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "sensor-01", Body: cefBody, BodyOffset: 30},
		},
		{
			name: "no hostname before cef",
			msg:  "<9>Mar  4 10:22:31 " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Body: cefBody, BodyOffset: 19},
		},
		{
			name: "tag with pid",
			msg:  "<38>Mar  4 10:22:31 gw sshd[4242]: Accepted publickey",
			want: Header{Format: FormatRFC3164, Priority: 38, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "gw", AppName: "sshd", ProcID: "4242", Body: "Accepted publickey", BodyOffset: 35},
		},
		{
			name: "tag without hostname",
			msg:  "<13>Mar  4 10:22:31 otbridge: started",
			want: Header{Format: FormatRFC3164, Priority: 13, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				AppName: "otbridge", Body: "started", BodyOffset: 30},
		},
		{
			name: "no tag",
			msg:  "<13>Mar  4 10:22:31 gw hello world",
			want: Header{Format: FormatRFC3164, Priority: 13, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "gw", Body: "hello world", BodyOffset: 23},
		},
		{
			name: "ipv6 hostname",
			msg:  "<9>Mar  4 10:22:31 fe80::1 " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "fe80::1", Body: cefBody, BodyOffset: 27},
		},
		{
			name: "december read in january",
			now:  time.Date(2025, 1, 1, 0, 0, 30, 0, time.UTC),
			msg:  "<9>Dec 31 23:59:50 s " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2024, 12, 31, 23, 59, 50, 0, time.UTC),
				Hostname: "s", Body: cefBody, BodyOffset: 21},
		},
		{
			name: "january read in december",
			now:  time.Date(2024, 12, 31, 23, 59, 50, 0, time.UTC),
			msg:  "<9>Jan  1 00:00:05 s " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 1, 1, 0, 0, 5, 0, time.UTC),
				Hostname: "s", Body: cefBody, BodyOffset: 21},
		},
		{
			name: "year and fraction",
			msg:  "<9>mar  4 2023 10:22:31.25 s " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2023, 3, 4, 10, 22, 31, 250e6, time.UTC),
				Hostname: "s", Body: cefBody, BodyOffset: 29},
		},
		{
			name: "location",
			loc:  plusOne,
			msg:  "<9>Mar  4 10:22:31 s " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, plusOne),
				Hostname: "s", Body: cefBody, BodyOffset: 21},
		},
		{
			name: "iso timestamp",
			msg:  "<9>2025-03-04T10:22:31.5+01:00 s " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Timestamp: time.Date(2025, 3, 4, 9, 22, 31, 500e6, time.UTC),
				Hostname: "s", Body: cefBody, BodyOffset: 33},
		},
		{
			name: "no pri but bsd timestamp",
			msg:  "Mar  4 10:22:31 s " + cefBody,
			want: Header{Format: FormatRFC3164, Priority: NoPriority, Timestamp: time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC),
				Hostname: "s", Body: cefBody, BodyOffset: 18},
		},
		{
			name: "plain cef",
			msg:  cefBody,
			want: Header{Format: FormatNone, Priority: NoPriority, Body: cefBody},
		},
		{
			name: "text before cef",
			msg:  "Syslogdate Sysloghost " + cefBody,
			want: Header{Format: FormatNone, Priority: NoPriority, Body: "Syslogdate Sysloghost " + cefBody},
		},
		{
			name: "empty",
			msg:  "",
			want: Header{Format: FormatNone, Priority: NoPriority},
		},
		{
			name: "pri without timestamp",
			msg:  "<9>" + cefBody,
			want: Header{Format: FormatRFC3164, Priority: 9, Body: cefBody, BodyOffset: 3},
		},
		{
			name: "pri only",
			msg:  "<0>",
			want: Header{Format: FormatRFC3164, Priority: 0, BodyOffset: 3},
		},
		{
			name: "rfc5424 example",
			msg: "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 " +
				`[exampleSDID@32473 iut="3" eventSource="Application"] ` + bom + "An application event",
			want: Header{Format: FormatRFC5424, Priority: 165, Timestamp: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC),
				Hostname: "mymachine.example.com", AppName: "evntslog", MsgID: "ID47",
				StructuredData: `[exampleSDID@32473 iut="3" eventSource="Application"]`,
				Body:           "An application event", BodyOffset: 127},
		},
		{
			name: "rfc5424 nil values",
			msg:  "<9>1 - - - - - -",
			want: Header{Format: FormatRFC5424, Priority: 9, BodyOffset: 16},
		},
		{
			name: "rfc5424 escaped structured data",
			msg:  `<9>1 - h a p m [id a="x\]y" b="q\"r" c="s\\"][id2 x="]"] ` + cefBody,
			want: Header{Format: FormatRFC5424, Priority: 9, Hostname: "h", AppName: "a", ProcID: "p", MsgID: "m",
				StructuredData: `[id a="x\]y" b="q\"r" c="s\\"][id2 x="]"]`, Body: cefBody, BodyOffset: 57},
		},
		{
			name: "rfc5424 offset and micros",
			msg:  "<9>1 2025-03-04T10:22:31.123456+05:30 sensor-01 - - - - " + cefBody,
			want: Header{Format: FormatRFC5424, Priority: 9, Timestamp: time.Date(2025, 3, 4, 4, 52, 31, 123456e3, time.UTC),
				Hostname: "sensor-01", Body: cefBody, BodyOffset: 56},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = march
			}
			p := Parser{Location: tt.loc, Now: fixedNow(now)}
			got, err := p.Parse(tt.msg)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			assertHeader(t, got, tt.want)
			if !strings.HasSuffix(tt.msg, got.Body) || tt.msg[got.BodyOffset:] != got.Body {
				t.Errorf("Body %q is not msg[%d:]", got.Body, got.BodyOffset)
			}
		})
	}
}

func assertHeader(t *testing.T, got, want Header) {
	t.Helper()
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", got.Timestamp, want.Timestamp)
	}
	if want.Timestamp.Location() != time.UTC && got.Timestamp.Location() != want.Timestamp.Location() {
		t.Errorf("Timestamp location = %v, want %v", got.Timestamp.Location(), want.Timestamp.Location())
	}
	got.Timestamp, want.Timestamp = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestParser_ParseErrors(t *testing.T) {
	tests := []struct {
		msg    string
		reason string
	}{
		{"<192>Mar  4 10:22:31 s x", "malformed priority"},
		{"<9", "malformed priority"},
		{"<>x", "malformed priority"},
		{"<1234>x", "malformed priority"},
		{"<9x>x", "malformed priority"},
		{"<9>1 2025-13-04T10:22:31Z h a p m - x", "malformed timestamp"},
		{"<9>1 2025-03-04T10:22:31 h a", "message ends before app name"},
		{"<9>1  h a p m - x", "empty timestamp"},
		{"<9>1 - - - - - [id a=\"b\"", "unterminated structured data"},
		{"<9>1 - - - - - -x", "no space after structured data"},
		{"<9>1 - - - - x y", "missing structured data"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			h, err := Parse(tt.msg)
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("Parse error = %v, want *HeaderError", err)
			}
			if he.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", he.Reason, tt.reason)
			}
			if h.Format != FormatNone || h.Body != tt.msg || h.Priority != NoPriority {
				t.Errorf("header on error = %+v, want FormatNone with the whole message as body", h)
			}
		})
	}
}

func TestParser_ParseAllocs(t *testing.T) {
	p := Parser{}
	for _, msg := range []string{
		"<9>Mar  4 10:22:31 sensor-01 " + cefBody,
		"<9>1 2025-03-04T10:22:31.123+01:00 sensor-01 app 12 ID1 [a b=\"c\"] " + cefBody,
	} {
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Parse(msg) }); n != 0 {
			t.Errorf("Parse(%.30q...) allocates %v times, want 0", msg, n)
		}
	}
}

func TestPriority(t *testing.T) {
	p := MakePriority(FacilityUser, SeverityAlert)
	if p != PriorityUserAlert || PriorityUserAlert != 9 {
		t.Fatalf("MakePriority(user, alert) = %d, want 9", p)
	}
	if p.Facility() != FacilityUser || p.Severity() != SeverityAlert {
		t.Errorf("9 splits into %d/%d, want 1/1", p.Facility(), p.Severity())
	}
	if p := MakePriority(FacilityLocal7, SeverityDebug); p != 191 || !p.Valid() {
		t.Errorf("local7.debug = %d, want valid 191", p)
	}
	if NoPriority.Valid() || Priority(192).Valid() {
		t.Error("NoPriority and 192 must be invalid")
	}
}

func TestParseRFC3339(t *testing.T) {
	plusOne := time.FixedZone("", 3600)
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
		ok   bool
	}{
		{"2025-03-04T10:22:31Z", nil, time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC), true},
		{"2025-03-04t10:22:31z", nil, time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC), true},
		{"2025-03-04 10:22:31", plusOne, time.Date(2025, 3, 4, 10, 22, 31, 0, plusOne), true},
		{"2025-03-04T10:22:31.123456789123-0230", nil, time.Date(2025, 3, 4, 12, 52, 31, 123456789, time.UTC), true},
		{"2025-03-04T10:22:31+01", nil, time.Date(2025, 3, 4, 9, 22, 31, 0, time.UTC), true},
		{"2025-03-04T10:22:31+05:45", nil, time.Date(2025, 3, 4, 4, 37, 31, 0, time.UTC), true},
		{"2025-03-04T10:22:31+00:07", nil, time.Date(2025, 3, 4, 10, 15, 31, 0, time.UTC), true},
		{"2025-03-04T10:22:31.", nil, time.Time{}, false},
		{"2025-03-04T10:22:31+1", nil, time.Time{}, false},
		{"2025-03-04T10:22:31 ", nil, time.Time{}, false},
		{"2025-00-04T10:22:31Z", nil, time.Time{}, false},
		{"2025-03-04T24:22:31Z", nil, time.Time{}, false},
		{"2025-03-04X10:22:31Z", nil, time.Time{}, false},
		{"25-03-04T10:22:31Z", nil, time.Time{}, false},
		{"", nil, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseRFC3339(tt.in, tt.loc)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseRFC3339(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && tt.loc != nil && got.Location() != tt.loc {
			t.Errorf("ParseRFC3339(%q) location = %v, want %v", tt.in, got.Location(), tt.loc)
		}
	}
}

func TestParseRFC3339_offsetKept(t *testing.T) {
	got, ok := ParseRFC3339("2025-03-04T10:22:31+05:30", nil)
	if !ok {
		t.Fatal("not parsed")
	}
	if _, off := got.Zone(); off != 5*3600+30*60 {
		t.Errorf("offset = %d, want 19800", off)
	}
	if got.Hour() != 10 {
		t.Errorf("clock hour = %d, want 10 in the sender's offset", got.Hour())
	}
}

func TestParseStamp(t *testing.T) {
	now := fixedNow(time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC))
	plusOne := time.FixedZone("", 3600)
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
		n    int
		ok   bool
	}{
		{"Mar  4 10:22:31", nil, time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC), 15, true},
		{"Mar 4 10:22:31 host", nil, time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC), 14, true},
		{"MAR 04 2019 10:22:31.5 UTC", plusOne, time.Date(2019, 3, 4, 10, 22, 31, 5e8, plusOne), 22, true},
		{"Dec 31 23:59:59", nil, time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), 15, true},
		{"Mar 32 10:22:31", nil, time.Time{}, 0, false},
		{"Mar  4 24:22:31", nil, time.Time{}, 0, false},
		{"Mar  4 10:22", nil, time.Time{}, 0, false},
		{"Mar  4 10:22:31.", nil, time.Time{}, 0, false},
		{"Foo  4 10:22:31", nil, time.Time{}, 0, false},
		{"Mar-04 10:22:31", nil, time.Time{}, 0, false},
	}
	for _, tt := range tests {
		got, n, ok := ParseStamp(tt.in, tt.loc, now)
		if ok != tt.ok || n != tt.n || !got.Equal(tt.want) {
			t.Errorf("ParseStamp(%q) = %v, %d, %v; want %v, %d, %v", tt.in, got, n, ok, tt.want, tt.n, tt.ok)
		}
	}
	if _, _, ok := ParseStamp("Mar 04 2019 10:22:31", nil, func() time.Time { panic("clock read for a dated stamp") }); !ok {
		t.Error("dated stamp not read")
	}
}

func TestNearestYear(t *testing.T) {
	tests := []struct {
		stamp, now time.Time
		want       time.Time
	}{
		{time.Date(0, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC), time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC)},
		{time.Date(0, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC)},
		{time.Date(0, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(0, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		{time.Date(0, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := NearestYear(tt.stamp, tt.now); !got.Equal(tt.want) {
			t.Errorf("NearestYear(%v, %v) = %v, want %v", tt.stamp, tt.now, got, tt.want)
		}
	}
}

func TestHeader_Append(t *testing.T) {
	ts := time.Date(2025, 3, 4, 10, 22, 31, 123e6, time.FixedZone("", 3600))
	tests := []struct {
		name string
		h    Header
		want string
	}{
		{"rfc3164 sensor", Header{Format: FormatRFC3164, Priority: PriorityUserAlert, Timestamp: ts, Hostname: "sensor-01"},
			"<9>Mar  4 10:22:31 sensor-01 "},
		{"rfc3164 tag", Header{Format: FormatRFC3164, Priority: 13, Timestamp: ts.AddDate(0, 0, 10), Hostname: "h", AppName: "otbridge", ProcID: "7"},
			"<13>Mar 14 10:22:31 h otbridge[7]: "},
		{"rfc3164 bare", Header{Format: FormatRFC3164, Priority: 0}, "<0>"},
		{"rfc3164 unsafe names", Header{Format: FormatRFC3164, Priority: NoPriority, Timestamp: ts, Hostname: "my host:", AppName: "a:b[c]"},
			"<9>Mar  4 10:22:31 my_host_ a_b_c_: "},
		{"rfc5424", Header{Format: FormatRFC5424, Priority: 165, Timestamp: ts, Hostname: "h", AppName: "app", ProcID: "12", MsgID: "ID1",
			StructuredData: `[a b="c"]`}, `<165>1 2025-03-04T10:22:31.123+01:00 h app 12 ID1 [a b="c"] `},
		{"rfc5424 nil", Header{Format: FormatRFC5424, Priority: 9}, "<9>1 - - - - - - "},
		{"none", Header{Format: FormatNone, Priority: 9, Hostname: "h"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.h.Append([]byte("x")))
			if got != "x"+tt.want {
				t.Errorf("Append = %q, want %q", got, "x"+tt.want)
			}
		})
	}
}

func TestHeader_AppendRoundTrip(t *testing.T) {
	ts := time.Date(2025, 3, 4, 10, 22, 31, 0, time.UTC)
	p := Parser{Now: fixedNow(ts)}
	for _, h := range []Header{
		{Format: FormatRFC3164, Priority: 9, Timestamp: ts, Hostname: "sensor-01"},
		{Format: FormatRFC3164, Priority: 30, Timestamp: ts, Hostname: "10.0.0.1", AppName: "cef", ProcID: "1"},
		{Format: FormatRFC5424, Priority: 9, Timestamp: ts, Hostname: "sensor-01", AppName: "a", ProcID: "b", MsgID: "c", StructuredData: `[x y="\]"]`},
		{Format: FormatRFC5424, Priority: 0},
	} {
		msg := string(h.Append(nil)) + cefBody
		got, err := p.Parse(msg)
		if err != nil {
			t.Fatalf("Parse(%q): %v", msg, err)
		}
		want := h
		want.Body, want.BodyOffset = cefBody, len(msg)-len(cefBody)
		assertHeader(t, got, want)
	}
}
