package syslog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"<9>Mar  4 10:22:31 sensor-01 " + cefBody,
		"<9>Mar 4 10:22:31 sensor-01 " + cefBody,
		"<9> Mar  4 10:22:31 " + cefBody,
		"<38>Mar  4 10:22:31 gw sshd[4242]: Accepted",
		"<9>mar  4 2023 10:22:31.25 s x",
		"<9>2025-03-04T10:22:31.5+01:00 s x",
		"Mar  4 10:22:31 s " + cefBody,
		cefBody,
		"<165>1 2003-10-11T22:14:15.003Z h evntslog - ID47 [a b=\"3\"] " + bom + "x",
		`<9>1 - h a p m [id a="x\]y" b="q\"r"][id2 x="]"] body`,
		"<9>1 - - - - - -",
		"<9>1 - - - - - [unterminated",
		"<191>Feb 29 00:00:00 h t[: x",
		"<9>",
	} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	p := Parser{Now: fixedNow(now), Location: time.FixedZone("", -7*3600)}
	f.Fuzz(func(t *testing.T, msg string) {
		h, err := p.Parse(msg)
		if h.BodyOffset < 0 || h.BodyOffset > len(msg) || msg[h.BodyOffset:] != h.Body {
			t.Fatalf("Body %q is not msg[%d:] of %q", h.Body, h.BodyOffset, msg)
		}
		if err != nil {
			var he *HeaderError
			if !errors.As(err, &he) || h.Format != FormatNone || h.Body != msg {
				t.Fatalf("error %v with header %+v", err, h)
			}
			return
		}
		if h.Priority != NoPriority && !h.Priority.Valid() {
			t.Fatalf("invalid priority %d", h.Priority)
		}
		if h.Format == FormatNone && (h.Priority != NoPriority || h.Body != msg) {
			t.Fatalf("no header, yet %+v", h)
		}
		for _, s := range []string{h.Hostname, h.AppName, h.ProcID, h.MsgID, h.StructuredData} {
			if s != "" && !strings.Contains(msg[:h.BodyOffset], s) {
				t.Fatalf("field %q is not in the header %q", s, msg[:h.BodyOffset])
			}
		}
		if h.Format == FormatRFC5424 && h.Priority == NoPriority {
			t.Fatalf("RFC 5424 header without priority: %+v", h)
		}
	})
}

// FuzzHeader_Append checks that the parser reads back every header Append
// writes, with the fields Append sanitised.
func FuzzHeader_Append(f *testing.F) {
	f.Add(uint8(1), 9, int64(1741083751), "sensor-01", "", "", "", "")
	f.Add(uint8(1), 13, int64(0), "h", "app", "12", "", "")
	f.Add(uint8(2), 165, int64(1741083751123), "h", "app", "12", "ID1", `[a b="c\]"]`)
	f.Add(uint8(2), 0, int64(-1), "", "", "", "", "")
	f.Add(uint8(1), 9, int64(1741083751), "host:", "a:b", "x]", "", "")
	f.Fuzz(func(t *testing.T, format uint8, pri int, millis int64, host, app, procID, msgID, sd string) {
		now := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
		h := Header{
			Format:   Format(format%2 + 1),
			Priority: Priority(pri),
			Hostname: host, AppName: app, ProcID: procID, MsgID: msgID,
		}
		if millis >= 0 {
			// Years a four-digit layout can carry; BSD stamps are read back
			// near the clock.
			h.Timestamp = time.UnixMilli(millis % 253402300799000).UTC()
		}
		if h.Format == FormatRFC5424 && sd != "" && structuredDataEnd(sd, 0) == len(sd) {
			h.StructuredData = sd
		}
		line := string(h.Append(nil)) + cefBody
		if h.Format == FormatRFC3164 && h.Timestamp.IsZero() {
			// Without a timestamp RFC 3164 reads all after the PRI as the
			// message, and "<9>1 ..." even looks like RFC 5424: nothing
			// to read back.
			return
		}
		got, err := (&Parser{Now: fixedNow(now)}).Parse(line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if got.Body != cefBody {
			t.Fatalf("Parse(%q) body = %q", line, got.Body)
		}
		if got.Format != h.Format {
			t.Fatalf("Parse(%q) format = %v, want %v", line, got.Format, h.Format)
		}
		wantPri := h.Priority
		if !wantPri.Valid() {
			wantPri = PriorityUserAlert
		}
		if got.Priority != wantPri {
			t.Fatalf("Parse(%q) priority = %d, want %d", line, got.Priority, wantPri)
		}
		if h.Format == FormatRFC5424 && !got.Timestamp.Equal(h.Timestamp.Truncate(time.Millisecond)) {
			t.Fatalf("Parse(%q) timestamp = %v, want %v", line, got.Timestamp, h.Timestamp)
		}
		if h.Format == FormatRFC3164 && !h.Timestamp.IsZero() {
			ws, gs := h.Timestamp.Format(time.Stamp), got.Timestamp.Format(time.Stamp)
			if ws != gs {
				t.Fatalf("Parse(%q) timestamp = %s, want %s", line, gs, ws)
			}
		}
		nilHost := host == "" || h.Format == FormatRFC5424 && host == "-"
		if nilHost != (got.Hostname == "") || len(got.Hostname) > len(host) {
			t.Fatalf("Parse(%q) hostname = %q from %q", line, got.Hostname, host)
		}
	})
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"5 hello5 world",
		"a\nb\r\nc\x00",
		"6 hello\n6 world\n",
		"12 abcdefghijkl3 xyz",
		"abcdefghijkl\nxyz\n",
		"10 abc",
		"12345678901 x\n",
		"\n\r\n\x00a\n\n",
		"99999999999999999999 x",
		"9999999999 x",
	} {
		f.Add([]byte(s), uint8(8))
	}
	f.Fuzz(func(t *testing.T, stream []byte, max uint8) {
		limit := int(max%64) + 1
		r := NewReader(bytes.NewReader(stream), limit)
		total := 0
		for calls := 0; ; calls++ {
			if calls > len(stream)+1 {
				t.Fatalf("more than %d results from %d bytes", calls, len(stream))
			}
			msg, err := r.Next()
			if err == io.EOF {
				break
			}
			var tooLarge *FrameTooLargeError
			var truncated *TruncatedError
			switch {
			case errors.As(err, &tooLarge):
				if tooLarge.Length <= int64(limit) {
					t.Fatalf("too large at %d bytes with a limit of %d", tooLarge.Length, limit)
				}
				continue
			case errors.As(err, &truncated):
				if len(truncated.Partial) > r.br.Size() {
					t.Fatalf("partial of %d bytes from a buffer of %d", len(truncated.Partial), r.br.Size())
				}
				if _, err := r.Next(); err != io.EOF {
					t.Fatalf("Next after truncation = %v, want io.EOF", err)
				}
				return
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if len(msg) == 0 || len(msg) > limit {
				t.Fatalf("message of %d bytes with a limit of %d", len(msg), limit)
			}
			if !bytes.Contains(stream, msg) {
				t.Fatalf("message %q not in the stream", msg)
			}
			total += len(msg)
		}
		if total > len(stream) {
			t.Fatalf("read %d bytes of messages from %d", total, len(stream))
		}
	})
}

// FuzzAppendFrame checks that Reader returns what AppendFrame framed, for
// messages that each framing can carry.
func FuzzAppendFrame(f *testing.F) {
	f.Add([]byte("<9>a"), []byte("<9>b\nc"), []byte("12 apples"), uint8(0b101))
	f.Add([]byte(""), []byte("x\r"), []byte("\x00"), uint8(0))
	f.Fuzz(func(t *testing.T, a, b, c []byte, framings uint8) {
		var stream []byte
		var want [][]byte
		for i, msg := range [][]byte{a, b, c} {
			f := NonTransparent
			if framings>>i&1 == 1 {
				f = OctetCounting
			}
			if len(msg) == 0 || len(msg) > 100 {
				continue
			}
			switch f {
			case NonTransparent:
				if bytes.ContainsAny(msg, "\n\x00") || msg[0] >= '0' && msg[0] <= '9' || msg[len(msg)-1] == '\r' {
					continue
				}
			case OctetCounting:
				if n := len(msg); msg[n-1] == '\n' || msg[n-1] == 0 {
					continue
				}
			}
			stream = AppendFrame(stream, f, msg)
			want = append(want, msg)
		}
		r := NewReader(bytes.NewReader(stream), 100)
		for _, w := range want {
			got, err := r.Next()
			if err != nil || !bytes.Equal(got, w) {
				t.Fatalf("Next = %q, %v; want %q (stream %q)", got, err, w, stream)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next at the end = %v, want io.EOF (stream %q)", err, stream)
		}
	})
}
