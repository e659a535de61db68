package rsyslogtest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

const waitLong = 30 * time.Second

func octet(msg string) string { return strconv.Itoa(len(msg)) + " " + msg }

func send(t *testing.T, network, addr string, conf *tls.Config, data ...string) {
	t.Helper()
	var c net.Conn
	var err error
	if conf != nil {
		c, err = tls.Dial("tcp", addr, conf)
	} else {
		c, err = net.Dial(network, addr)
	}
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	defer c.Close()
	for _, d := range data {
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatalf("write to %s: %v", addr, err)
		}
	}
	if tc, ok := c.(*tls.Conn); ok {
		// An orderly close, so that rsyslog reads everything.
		_ = tc.CloseWrite()
	}
}

func sorted(msgs [][]byte) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m)
	}
	slices.Sort(out)
	return out
}

func TestProxy_Messages(t *testing.T) {
	p := New(t, Options{})
	client, err := p.Certs.ClientTLS(false)
	if err != nil {
		t.Fatal(err)
	}

	cef := "<9>Nov 30 06:17:00 ot01 CEF:0|Microsoft Defender for IoT|ot01|24.1.3|Microsoft Defender for IoT Alert|Modbus Exception|8|msg=a\\=b src_ip=10.0.0.1"
	odd := "<9>quote \" backslash \\ slash / tab \t bell \a latin \xc3\xa9 invalid \xff end"
	withLF := "<9>first line\nsecond line"

	send(t, "udp", p.UDPAddr, nil, cef+" udp")
	send(t, "tcp", p.TCPAddr, nil, cef+" tcp-newline\n", octet(cef+" tcp-octet"), octet(odd), octet(withLF), octet("<9>counted LF\n"))
	send(t, "tcp", p.TLSAddr, client, cef+" tls-newline\n", octet(cef+" tls-octet"))

	want := []string{
		cef + " udp",
		cef + " tcp-newline",
		cef + " tcp-octet",
		odd,
		withLF,
		"<9>counted LF", // rsyslog drops one trailing LF
		cef + " tls-newline",
		cef + " tls-octet",
	}
	p.WaitFor(len(want), waitLong)
	p.Stop()
	got := sorted(p.Messages())
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rsyslog wrote\n%q\nwant\n%q", got, want)
	}
}

func TestProxy_Restart(t *testing.T) {
	p := New(t, Options{})
	send(t, "tcp", p.TCPAddr, nil, "<9>before\n")
	p.WaitFor(1, waitLong)

	p.Stop()
	if p.Running() {
		t.Fatal("Running after Stop")
	}
	if c, err := net.Dial("tcp", p.TCPAddr); err == nil {
		c.Close()
		t.Fatalf("%s accepts a connection while rsyslogd is stopped", p.TCPAddr)
	}

	p.Start()
	send(t, "tcp", p.TCPAddr, nil, "<9>after\n")
	got := p.WaitFor(2, waitLong)
	if want := [][]byte{[]byte("<9>before"), []byte("<9>after")}; !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("messages %q, want %q", got, want)
	}
}

func TestProxy_RequireClientCert(t *testing.T) {
	p := New(t, Options{RequireClientCert: true})
	anon, err := p.Certs.ClientTLS(false)
	if err != nil {
		t.Fatal(err)
	}
	withCert, err := p.Certs.ClientTLS(true)
	if err != nil {
		t.Fatal(err)
	}

	// With TLS 1.3 the client's handshake ends before the server checks
	// the client: the write succeeds and rsyslog drops the connection.
	c, err := tls.Dial("tcp", p.TLSAddr, anon)
	if err == nil {
		_, _ = c.Write([]byte("<9>without certificate\n"))
		_ = c.CloseWrite()
		buf := make([]byte, 1)
		_, _ = c.Read(buf) // wait for the server's verdict
		c.Close()
	}
	send(t, "tcp", p.TLSAddr, withCert, "<9>with certificate\n")
	p.WaitFor(1, waitLong)
	p.Stop()
	if got := sorted(p.Messages()); !slices.Equal(got, []string{"<9>with certificate"}) {
		t.Errorf("messages %q, want only the one sent with a certificate", got)
	}
}

// fakeTB records Skip and Fatal, and ends the goroutine as testing.T does.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func TestNew_missingBinary(t *testing.T) {
	for _, tc := range []struct {
		require              string
		wantSkip, wantFailed bool
	}{
		{"", true, false},
		{"1", false, true},
	} {
		t.Run("require="+tc.require, func(t *testing.T) {
			t.Setenv(RequireEnv, tc.require)
			f := &fakeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				New(f, Options{Binary: "/nonexistent/rsyslogd"})
			}()
			<-done
			if f.skipped != tc.wantSkip || f.failed != tc.wantFailed {
				t.Errorf("skipped %v, failed %v; want %v, %v (%s)", f.skipped, f.failed, tc.wantSkip, tc.wantFailed, f.msg)
			}
			if !bytes.Contains([]byte(f.msg), []byte("install rsyslog")) {
				t.Errorf("message %q does not say what to install", f.msg)
			}
		})
	}
}

func TestUnescapeJSON(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: `plain`, want: "plain"},
		{in: `a\"b\\c\/d`, want: `a"b\c/d`},
		{in: `\n\r\t\b\f`, want: "\n\r\t\b\f"},
		{in: `\u0001\u00e9`, want: "\x01\u00e9"},
		{in: "raw \xff byte", want: "raw \xff byte"},
		{in: `end\`, bad: true},
		{in: `\u00`, bad: true},
		{in: `\x41`, bad: true},
	} {
		got, err := unescapeJSON([]byte(tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("unescapeJSON(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("unescapeJSON(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
