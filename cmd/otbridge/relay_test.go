package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/forwarder"
	"github.com/otbridge/otbridge/legacy/rsyslogtest"
)

// TestRelay runs the relay between a sender and a receiver on loopback and
// checks every message arrives unchanged, alert or not.
func TestRelay(t *testing.T) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	got := make(chan string, 100)
	go func() {
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					got <- sc.Text()
				}
			}()
		}
	}()

	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := free.Addr().String()
	free.Close()

	dir := t.TempDir()
	writeFile(t, dir, "inventory.yaml", `version: 1
appliances:
  - name: wtp-north-ot01
    kind: sensor
    rules:
      - name: sentinel
        minimal_alert_level: Warning
        actions: [{type: sentinel, host: 127.0.0.1, port: 514, timezone: UTC}]
`)
	cfg := writeFile(t, dir, "otbridge.yaml", fmt.Sprintf(`inventory: [inventory.yaml]
listeners:
  - name: sensors
    address: %s
    transport: tcp
    rule: {appliance: wtp-north-ot01, rule: sentinel}
destinations:
  legacy:
    - name: proxy
      address: %s
routing:
  default: {mode: legacy, legacy: [proxy]}
`, listen, sink.Addr()))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		var out strings.Builder
		done <- run(ctx, []string{"relay", "--config", cfg, "--stats-every", "0"}, strings.NewReader(""), &out, &stderr)
	}()

	var c net.Conn
	for i := 0; i < 200; i++ {
		if c, err = net.Dial("tcp", listen); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("relay does not listen: %v", err)
	}
	msgs := []string{
		`<9>Nov 30 06:17:00 wtp-north-ot01 CEF:0|Microsoft Defender for IoT|wtp-north-ot01|24.1.3|Microsoft Defender for IoT Alert|Modbus Exception|8|msg=Slave answered with exception code 2 protocol=Modbus severity=Major type=Protocol Violation`,
		`<14>Nov 30 06:17:01 host app: not an alert, forwarded all the same`,
		"<9>Nov 30 06:17:02 wtp-north-ot01 CEF:0|x|y|1|2|odd \xff bytes|3|a=b",
	}
	for _, m := range msgs {
		fmt.Fprintf(c, "%d %s", len(m), m) // octet counted in, newline out
	}
	c.Close()

	for i, want := range msgs {
		select {
		case line := <-got:
			if line != want {
				t.Errorf("message %d:\n got %q\nwant %q", i, line, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("message %d never arrived; relay log:\n%s", i, stderr.String())
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("relay exited %d; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("relay did not stop")
	}
	if !strings.Contains(stderr.String(), "stopped") || !strings.Contains(stderr.String(), " alerts=1 not_alerts=2") {
		t.Errorf("final counters missing or wrong:\n%s", stderr.String())
	}
}

// TestRelay_rsyslog puts the relay between a sender and a real rsyslogd,
// the proxy of the field, and checks rsyslog wrote exactly the messages
// sent, byte for byte, none missing and none doubled.
func TestRelay_rsyslog(t *testing.T) {
	proxy := rsyslogtest.New(t, rsyslogtest.Options{})

	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := free.Addr().String()
	free.Close()
	dir := t.TempDir()
	writeFile(t, dir, "inventory.yaml", "version: 1\nappliances:\n  - name: wtp-north-ot01\n    kind: sensor\n    rules: []\n")
	cfg := writeFile(t, dir, "otbridge.yaml", fmt.Sprintf(`inventory: [inventory.yaml]
listeners:
  - {name: sensors, address: %s, transport: tcp}
destinations:
  legacy:
    - {name: proxy, address: %s, transport: tcp}
routing:
  default: {mode: legacy, legacy: [proxy]}
`, listen, proxy.TCPAddr))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		var out strings.Builder
		done <- run(ctx, []string{"relay", "--config", cfg, "--stats-every", "0"}, strings.NewReader(""), &out, &stderr)
	}()
	var c net.Conn
	for i := 0; i < 200; i++ {
		if c, err = net.Dial("tcp", listen); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("relay does not listen: %v", err)
	}

	var sent []string
	for i := range 300 {
		m := fmt.Sprintf(`<9>Nov 30 06:17:00 wtp-north-ot01 CEF:0|Microsoft Defender for IoT|wtp-north-ot01|24.1.3|Microsoft Defender for IoT Alert|Modbus Exception|8|msg=Slave 10.20.1.60 answered with exception code 2 protocol=Modbus severity=Major type=Protocol Violation UUID=2-%d src_ip=10.20.1.12 dst_ip=10.20.1.60`, 1796019420000+i)
		sent = append(sent, m)
		if i%2 == 0 {
			fmt.Fprintf(c, "%s\n", m)
		} else {
			fmt.Fprintf(c, "%d %s", len(m), m)
		}
	}
	c.Close()

	proxy.WaitFor(len(sent), 30*time.Second)
	cancel()
	<-done
	got := proxy.Messages()
	if len(got) != len(sent) {
		t.Fatalf("rsyslog wrote %d messages, want %d; relay log:\n%s", len(got), len(sent), stderr.String())
	}
	for i := range sent {
		if string(got[i]) != sent[i] {
			t.Fatalf("message %d:\n got %q\nwant %q", i, got[i], sent[i])
		}
	}
}

func TestFanOut_HandleBatch(t *testing.T) {
	var fo fanOut
	for _, transport := range []string{forwarder.TransportTCP, forwarder.TransportUDP} {
		f, err := forwarder.New(forwarder.Config{Name: transport, Address: "127.0.0.1:514", Transport: transport}, nil, forwarder.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fo = append(fo, f)
	}
	// The tcp forwarder takes both; the udp one cannot carry the second.
	ms := []bridge.Message{
		{Raw: []byte("<9>Nov 30 06:17:00 ot01 fine")},
		{Raw: bytes.Repeat([]byte("a"), forwarder.MaxDatagram+1)},
	}
	errs := fo.HandleBatch(context.Background(), ms)
	if len(errs) != 2 || errs[0] != nil || errs[1] == nil || !strings.Contains(errs[1].Error(), "udp") {
		t.Errorf("HandleBatch = %v, want the second refused for udp", errs)
	}
	if errs := fo.HandleBatch(context.Background(), ms[:1]); errs != nil {
		t.Errorf("HandleBatch of a message both take = %v, want nil", errs)
	}
	if err := fo.Handle(context.Background(), &ms[1]); err == nil {
		t.Error("Handle of a message the udp forwarder refuses = nil")
	}
	// What one forwarder refuses still goes to the others.
	if q := fo[0].Stats().Queued; q != 4 {
		t.Errorf("tcp forwarder queued %d, want 4", q)
	}
}
