// Command relaybench measures how many sensor-style CEF messages a second
// pass through `otbridge relay` over TCP, and through rsyslog configured as
// a plain relay (imtcp to omfwd) in the same run, so the two figures can be
// compared. Everything runs on 127.0.0.1: a sender, the relay under test and
// a receiver that counts what arrives.
//
//	go build -o otbridge ./cmd/otbridge
//	go run ./cmd/relaybench -otbridge ./otbridge -n 1000000
//
// It needs rsyslogd for the comparison; -rsyslogd "" skips it. The relays
// take turns, and the best of -runs of each is reported.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		otbridge = flag.String("otbridge", "./otbridge", "the otbridge binary to measure")
		rsyslogd = flag.String("rsyslogd", "/usr/sbin/rsyslogd", "the rsyslogd binary to compare with; empty to skip")
		n        = flag.Int("n", 1_000_000, "messages to send through each relay")
		conns    = flag.Int("conns", 4, "sender connections")
		runs     = flag.Int("runs", 3, "runs of each relay; the best is reported")
	)
	flag.Parse()
	if err := run(*otbridge, *rsyslogd, *n, *conns, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "relaybench:", err)
		os.Exit(1)
	}
}

// message is a typical Defender for IoT CEF alert with its syslog header,
// about 400 bytes.
const message = `<9>Nov 30 06:17:00 wtp-north-ot01 CEF:0|Microsoft Defender for IoT|wtp-north-ot01|24.1.3|Microsoft Defender for IoT Alert|Modbus Exception|8|msg=Slave 10.20.1.60 answered a Modbus request from 10.20.1.12 with exception code 2 (illegal data address). protocol=Modbus severity=Major type=Protocol Violation UUID=2-1796019420000 start=Nov 30 2026 06:17:00 src_ip=10.20.1.12 dst_ip=10.20.1.60 cat=Illegal Commands`

func run(otbridge, rsyslogd string, n, conns, runs int) error {
	dir, err := os.MkdirTemp("", "relaybench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Printf("%d messages of %d bytes over %d TCP connections, best of %d runs\n", n, len(message), conns, runs)
	relays := []struct {
		name  string
		start starter
	}{
		{"otbridge relay", func(l, f string) (stopper, error) { return startOtbridge(otbridge, dir, l, f) }},
	}
	if rsyslogd != "" {
		relays = append(relays, struct {
			name  string
			start starter
		}{"rsyslog (imtcp -> omfwd)", func(l, f string) (stopper, error) { return startRsyslog(rsyslogd, dir, l, f) }})
	}

	// The relays take turns, run after run, so that a change in the load
	// of the machine weighs on both alike.
	results := map[string]float64{}
	for i := 0; i < runs; i++ {
		for _, r := range relays {
			rate, cpu, err := measure(r.start, n, conns)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			results[r.name] = max(results[r.name], rate)
			fmt.Printf("run %d: %-28s %10.0f messages/s %6.2f µs of CPU a message\n", i+1, r.name, rate,
				float64(cpu.Microseconds())/float64(n))
		}
	}
	for _, r := range relays {
		fmt.Printf("best:   %-28s %10.0f messages/s\n", r.name, results[r.name])
	}
	if len(results) == 2 {
		fmt.Printf("ratio otbridge/rsyslog: %.2f\n", results["otbridge relay"]/results["rsyslog (imtcp -> omfwd)"])
	}
	return nil
}

// starter starts a relay from listen to forward.
type starter func(listen, forward string) (stopper, error)

// stopper stops a relay and returns the CPU time (user and system) its
// process used.
type stopper func() time.Duration

// measure starts a receiver and the relay, sends n messages, and returns
// messages per second from the first byte sent to the last one received,
// and the CPU time the relay's process used from start to stop: unlike the
// rate, the CPU a message costs hardly depends on what else the machine
// runs.
func measure(start starter, n, conns int) (rate float64, cpu time.Duration, err error) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer sink.Close()
	var got atomic.Int64
	done := make(chan struct{})
	go receive(sink, n, &got, done)

	listen, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	stop, err := start(listen, sink.Addr().String())
	if err != nil {
		return 0, 0, err
	}
	stop = sync.OnceValue(stop)
	defer stop()
	if err := waitListening(listen, 10*time.Second); err != nil {
		return 0, 0, err
	}

	began := time.Now()
	if err := send(listen, n, conns); err != nil {
		return 0, 0, err
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		return 0, 0, fmt.Errorf("only %d of %d messages arrived", got.Load(), n)
	}
	rate = float64(n) / time.Since(began).Seconds()
	return rate, stop(), nil
}

// receive counts newline-terminated messages on every connection until n
// have arrived.
func receive(l net.Listener, n int, got *atomic.Int64, done chan struct{}) {
	var once sync.Once
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReaderSize(c, 1<<20)
			for {
				line, err := r.ReadSlice('\n')
				// Empty lines are framing, not messages.
				if len(line) > 1 && line[len(line)-1] == '\n' {
					if got.Add(1) == int64(n) {
						once.Do(func() { close(done) })
					}
				}
				if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
					return
				}
			}
		}()
	}
}

// send writes n messages, newline-framed, over conns connections.
func send(addr string, n, conns int) error {
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := 0; i < conns; i++ {
		count := n / conns
		if i == 0 {
			count += n % conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			w := bufio.NewWriterSize(c, 256<<10)
			line := []byte(message + "\n")
			for j := 0; j < count; j++ {
				if _, err := w.Write(line); err != nil {
					errs <- err
					return
				}
			}
			if err := w.Flush(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func startOtbridge(bin, dir, listen, forward string) (stopper, error) {
	inv := filepath.Join(dir, "inventory.yaml")
	cfg := filepath.Join(dir, "otbridge.yaml")
	if err := os.WriteFile(inv, []byte(`version: 1
appliances:
  - name: wtp-north-ot01
    kind: sensor
    rules:
      - name: sentinel
        minimal_alert_level: Warning
        actions: [{type: sentinel, host: 127.0.0.1, port: 514, timezone: UTC}]
`), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`inventory: [inventory.yaml]
log: {level: warn}
listeners:
  - name: sensors
    address: %s
    transport: tcp
destinations:
  legacy:
    - name: proxy
      address: %s
      transport: tcp
      framing: newline
routing:
  default: {mode: legacy, legacy: [proxy]}
`, listen, forward)), 0o600); err != nil {
		return nil, err
	}
	return startProcess(bin, "relay", "--config", cfg)
}

func startRsyslog(bin, dir, listen, forward string) (stopper, error) {
	_, lport, _ := net.SplitHostPort(listen)
	fhost, fport, _ := net.SplitHostPort(forward)
	work := filepath.Join(dir, "rsyslog")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port=%q ruleset="relay")
template(name="raw" type="string" string="%%rawmsg%%\n")
ruleset(name="relay" queue.type="LinkedList" queue.size="100000") {
  action(type="omfwd" target=%q port=%q protocol="tcp" template="raw")
}
`, work, lport, fhost, fport)), 0o600); err != nil {
		return nil, err
	}
	return startProcess(bin, "-n", "-f", conf, "-i", filepath.Join(work, "rsyslogd.pid"))
}

func startProcess(bin string, args ...string) (stopper, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	return func() time.Duration {
		cancel()
		cmd.Wait()
		if s := stderr.String(); s != "" && os.Getenv("RELAYBENCH_VERBOSE") != "" {
			fmt.Fprintf(os.Stderr, "%s: %s\n", bin, s)
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after %v", addr, timeout)
}
