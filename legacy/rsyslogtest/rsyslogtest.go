// Package rsyslogtest runs a real rsyslogd on 127.0.0.1 as the legacy CEF
// proxy, for tests that must show that what otbridge forwards is what
// rsyslog would have received from the sensor itself.
//
// The daemon gets a private configuration, work directory and pid file
// under the test's temporary directory, loads only the inputs it needs
// (imudp, imtcp in plain and TLS mode; never imuxsock, so the system's
// /dev/log stays untouched) and handles its own diagnostics
// (processInternalMessages), which go to a log file that is shown when a
// test fails. Every input writes every message it receives, as rsyslog
// stored it (the rawmsg property), to one file, which Messages reads.
//
// What rsyslog does to a message on the way, and the file therefore shows:
//
//   - Framing: the TCP inputs take newline-terminated and octet-counted
//     messages, deciding for each message: one that starts with a digit is
//     octet-counted. A newline-terminated fragment that ends the stream is
//     kept as a message; an incomplete octet-counted one is dropped.
//   - One trailing LF is stripped (an octet-counted message that counts it,
//     a UDP datagram that ends with it); a CR before it stays. An LF inside
//     an octet-counted message stays.
//   - rsyslog escapes control characters on receipt by default; the helper
//     turns that off so that the file holds the bytes as received.
//
// The file holds one message per line, escaped as a JSON string by
// rsyslog's template so that an LF inside a message survives; Messages
// undoes the escaping and returns the exact bytes.
package rsyslogtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// RequireEnv names the environment variable that, set to 1, turns a
// missing rsyslogd from a skipped test into a failed one.
const RequireEnv = "OTBRIDGE_REQUIRE_INTEGRATION"

// ConfigName is the file name of every configuration the helper writes,
// so that a daemon left behind can be found by its command line.
const ConfigName = "otbridge-rsyslogtest.conf"

// Options configure a Proxy.
type Options struct {
	// Binary is the rsyslogd to run. Default rsyslogd on PATH, else
	// /usr/sbin/rsyslogd.
	Binary string
	// RequireClientCert makes the TLS input demand a client certificate
	// signed by the test CA (gtls auth mode x509/certvalid). Default: the
	// TLS input authenticates no client (anon), as the Sentinel proxy does.
	RequireClientCert bool
}

// Proxy is one rsyslogd acting as the CEF proxy. It keeps its addresses
// across Stop and Start.
type Proxy struct {
	// UDPAddr, TCPAddr and TLSAddr are the inputs, host:port on 127.0.0.1.
	UDPAddr string
	TCPAddr string
	TLSAddr string
	// Certs are the test PKI; the TLS input presents Certs.ServerCertFile.
	Certs Certs

	t    testing.TB
	bin  string
	opts Options
	dir  string
	conf string
	out  string // what the inputs received
	diag string // rsyslogd's own messages

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	logs bytes.Buffer  // stdout and stderr of every run
}

// New starts rsyslogd and stops it when the test ends. Without rsyslogd it
// skips the test, or fails it when RequireEnv is 1.
func New(t testing.TB, opts Options) *Proxy {
	t.Helper()
	bin, err := findBinary(opts.Binary)
	if err != nil {
		msg := fmt.Sprintf("rsyslogtest: no rsyslogd (%v): install rsyslog and rsyslog-gnutls to run the CEF proxy tests", err)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatal(msg + "; " + RequireEnv + "=1 requires them")
		}
		t.Skip(msg)
	}

	dir := t.TempDir()
	certs, err := WriteCerts(dir)
	if err != nil {
		t.Fatalf("rsyslogtest: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "work"), 0o700); err != nil {
		t.Fatalf("rsyslogtest: %v", err)
	}
	p := &Proxy{
		Certs: certs,
		t:     t,
		bin:   bin,
		opts:  opts,
		dir:   dir,
		conf:  filepath.Join(dir, ConfigName),
		out:   filepath.Join(dir, "received.log"),
		diag:  filepath.Join(dir, "rsyslogd.log"),
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("rsyslogtest: rsyslogd's output:\n%s", p.Logs())
		}
	})

	// A free port can be taken by someone else before rsyslogd binds it:
	// try fresh ones a few times.
	for attempt := 1; ; attempt++ {
		if err := p.choosePorts(); err != nil {
			t.Fatalf("rsyslogtest: %v", err)
		}
		err := p.start()
		if err == nil {
			return p
		}
		if attempt == 3 {
			t.Fatalf("rsyslogtest: %v\n%s", err, p.Logs())
		}
		t.Logf("rsyslogtest: %v; trying other ports", err)
		p.Stop()
	}
}

func findBinary(bin string) (string, error) {
	if bin != "" {
		return exec.LookPath(bin)
	}
	if path, err := exec.LookPath("rsyslogd"); err == nil {
		return path, nil
	}
	return exec.LookPath("/usr/sbin/rsyslogd")
}

// choosePorts picks free ports on 127.0.0.1 and writes the configuration.
func (p *Proxy) choosePorts() error {
	var ports [3]int
	for i := range ports {
		var addr net.Addr
		if i == 0 {
			c, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("choose a udp port: %w", err)
			}
			addr = c.LocalAddr()
			c.Close()
		} else {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("choose a tcp port: %w", err)
			}
			addr = l.Addr()
			l.Close()
		}
		_, port, _ := net.SplitHostPort(addr.String())
		ports[i], _ = strconv.Atoi(port)
	}
	p.UDPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	p.TCPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	p.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
	return os.WriteFile(p.conf, []byte(p.config(ports)), 0o600)
}

// config returns rsyslogd's configuration.
func (p *Proxy) config(ports [3]int) string {
	auth := "anon"
	if p.opts.RequireClientCert {
		auth = "x509/certvalid"
	}
	q := strconv.Quote
	var b strings.Builder
	fmt.Fprintf(&b, "global(\n")
	fmt.Fprintf(&b, "  workDirectory=%s\n", q(filepath.Join(p.dir, "work")))
	fmt.Fprintf(&b, "  processInternalMessages=\"on\"\n")
	fmt.Fprintf(&b, "  maxMessageSize=\"64k\"\n")
	fmt.Fprintf(&b, "  net.enableDNS=\"off\"\n")
	fmt.Fprintf(&b, "  parser.escapeControlCharactersOnReceive=\"off\"\n")
	fmt.Fprintf(&b, "  defaultNetstreamDriverCAFile=%s\n", q(p.Certs.CAFile))
	fmt.Fprintf(&b, "  defaultNetstreamDriverCertFile=%s\n", q(p.Certs.ServerCertFile))
	fmt.Fprintf(&b, "  defaultNetstreamDriverKeyFile=%s\n", q(p.Certs.ServerKeyFile))
	fmt.Fprintf(&b, ")\n")
	// Give the queue time to reach the file when the daemon stops.
	fmt.Fprintf(&b, "main_queue(queue.timeoutShutdown=\"10000\")\n")
	fmt.Fprintf(&b, "module(load=\"imudp\")\n")
	fmt.Fprintf(&b, "module(load=\"imtcp\" maxSessions=\"1000\")\n")
	fmt.Fprintf(&b, "template(name=\"otbridge_rawmsg\" type=\"string\" string=\"%%rawmsg:::json%%\\n\")\n")
	fmt.Fprintf(&b, "ruleset(name=\"proxy\") {\n")
	fmt.Fprintf(&b, "  action(type=\"omfile\" file=%s template=\"otbridge_rawmsg\")\n", q(p.out))
	fmt.Fprintf(&b, "}\n")
	// A socket buffer that holds a burst of datagrams while rsyslogd is
	// busy elsewhere.
	fmt.Fprintf(&b, "input(type=\"imudp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"proxy\" rcvbufSize=\"4m\")\n", ports[0])
	fmt.Fprintf(&b, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"proxy\" supportOctetCountedFraming=\"on\")\n", ports[1])
	fmt.Fprintf(&b, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"proxy\" supportOctetCountedFraming=\"on\"\n", ports[2])
	fmt.Fprintf(&b, "  streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=%s)\n", q(auth))
	// Everything else, rsyslogd's own messages, goes to its log.
	fmt.Fprintf(&b, "action(type=\"omfile\" file=%s)\n", q(p.diag))
	return b.String()
}

// Start starts rsyslogd again after Stop, on the same addresses, and waits
// until its inputs listen. It fails the test if they do not.
func (p *Proxy) Start() {
	p.t.Helper()
	if err := p.start(); err != nil {
		p.t.Fatalf("rsyslogtest: %v", err)
	}
}

func (p *Proxy) start() error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return errors.New("rsyslogd is already running")
	}
	pidFile := filepath.Join(p.dir, "work", "rsyslogd.pid")
	_ = os.Remove(pidFile)
	cmd := exec.Command(p.bin, "-n", "-f", p.conf, "-i", pidFile)
	cmd.Dir = p.dir
	cmd.Env = environ()
	cmd.Stdout, cmd.Stderr = &lockedWriter{p}, &lockedWriter{p}
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("start rsyslogd: %w", err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		close(done)
	}()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			p.forget(cmd)
			return fmt.Errorf("rsyslogd exited at start: %s\n%s", cmd.ProcessState, p.Logs())
		default:
		}
		ok, err := p.listening(cmd.Process.Pid)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rsyslogd does not listen on %s, %s and %s after 30s", p.UDPAddr, p.TCPAddr, p.TLSAddr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// environ is the test's environment without what would tie rsyslogd to a
// service manager.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES":
			continue
		}
		env = append(env, kv)
	}
	return env
}

type lockedWriter struct{ p *Proxy }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.logs.Write(b)
}

// Stop stops rsyslogd (SIGTERM; SIGKILL after 15s) and waits for it to
// exit. Messages that reach its inputs while it is stopped are refused or
// lost, as with a proxy that is down. Stop does nothing when rsyslogd is
// not running.
func (p *Proxy) Stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	p.forget(cmd)
}

func (p *Proxy) forget(cmd *exec.Cmd) {
	p.mu.Lock()
	if p.cmd == cmd {
		p.cmd, p.done = nil, nil
	}
	p.mu.Unlock()
}

// Restart stops and starts rsyslogd.
func (p *Proxy) Restart() {
	p.t.Helper()
	p.Stop()
	p.Start()
}

// Running reports whether rsyslogd runs.
func (p *Proxy) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Logs returns what rsyslogd printed and logged about itself.
func (p *Proxy) Logs() string {
	p.mu.Lock()
	out := p.logs.String()
	p.mu.Unlock()
	diag, _ := os.ReadFile(p.diag)
	return "--- stdout and stderr\n" + out + "--- " + filepath.Base(p.diag) + "\n" + string(diag)
}

// Messages returns the messages rsyslogd has written so far, from every
// input, in the order it wrote them: each as rsyslog stored it, without
// framing. rsyslogd writes a batch at a time, so call WaitFor, or Stop
// first, to see everything sent.
func (p *Proxy) Messages() [][]byte {
	p.t.Helper()
	msgs, err := readMessages(p.out)
	if err != nil {
		p.t.Fatalf("rsyslogtest: %v", err)
	}
	return msgs
}

// WaitFor waits until rsyslogd has written at least n messages and returns
// them. It fails the test if that takes longer than timeout.
func (p *Proxy) WaitFor(n int, timeout time.Duration) [][]byte {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := p.Messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("rsyslogtest: %d of %d messages arrived within %v\n%s", len(msgs), n, timeout, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readMessages reads the file the inputs write: one JSON-escaped message
// per line. A last line without its LF is still being written and is left
// out.
func readMessages(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read received messages: %w", err)
	}
	var msgs [][]byte
	for n := 1; len(b) > 0; n++ {
		line, rest, ok := bytes.Cut(b, []byte{'\n'})
		if !ok {
			break
		}
		msg, err := unescapeJSON(line)
		if err != nil {
			return nil, fmt.Errorf("read received messages: %s line %d: %w", filepath.Base(path), n, err)
		}
		msgs = append(msgs, msg)
		b = rest
	}
	return msgs, nil
}

// unescapeJSON undoes rsyslog's json property option: the escapes of a
// JSON string, without quotes around it. Bytes that are not escaped,
// invalid UTF-8 included, are kept as they are.
func unescapeJSON(s []byte) ([]byte, error) {
	if bytes.IndexByte(s, '\\') < 0 {
		return bytes.Clone(s), nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, errors.New("escape at the end of the line")
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(s) {
				return nil, errors.New("short \\u escape")
			}
			r, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 16)
			if err != nil {
				return nil, fmt.Errorf("bad \\u escape %q", s[i+1:i+5])
			}
			out = utf8.AppendRune(out, rune(r))
			i += 4
		default:
			return nil, fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return out, nil
}

// listening reports whether the process pid holds the three sockets of
// the inputs, bound and listening. It reads /proc/net; where there is none
// it dials the TCP inputs instead.
func (p *Proxy) listening(pid int) (bool, error) {
	inodes, err := socketInodes(pid)
	if err != nil {
		return p.dialable(), nil
	}
	for _, in := range []struct {
		table, addr string
		state       string
	}{
		{"/proc/net/udp", p.UDPAddr, "07"}, // UDP sockets show TCP_CLOSE
		{"/proc/net/tcp", p.TCPAddr, "0A"}, // TCP_LISTEN
		{"/proc/net/tcp", p.TLSAddr, "0A"},
	} {
		ok, err := holds(in.table, in.addr, in.state, inodes)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func (p *Proxy) dialable() bool {
	for _, addr := range []string{p.TCPAddr, p.TLSAddr} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// socketInodes returns the inodes of the sockets pid has open.
func socketInodes(pid int) (map[string]bool, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		if in, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(in, "]")] = true
		}
	}
	return inodes, nil
}

// holds reports whether a line of table (/proc/net/tcp or udp) shows a
// socket bound to addr, an IPv4 host:port, in state with one of inodes.
func holds(table, addr, state string, inodes map[string]bool) (bool, error) {
	host, port, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host).To4()
	n, _ := strconv.Atoi(port)
	// /proc/net shows the address as a 32-bit number in host byte order,
	// in hex, and the port in hex.
	little := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], n)
	big := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[0], ip[1], ip[2], ip[3], n)

	f, err := os.Open(table)
	if err != nil {
		return false, fmt.Errorf("read sockets: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || (fields[1] != little && fields[1] != big) || fields[3] != state {
			continue
		}
		if inodes[fields[9]] {
			return true, nil
		}
	}
	return false, sc.Err()
}
