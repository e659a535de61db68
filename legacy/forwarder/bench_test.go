package forwarder

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/otbridge/otbridge/bridge"
)

// BenchmarkForwarder_tcp measures Handle through Run to a TCP receiver
// that discards what it reads, with sensor-sized messages.
func BenchmarkForwarder_tcp(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()

	cfg := testConfig(ln.Addr().String(), TransportTCP)
	f, err := New(cfg, nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()

	line := sensorLines(1, "bench")[0]
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := f.Handle(context.Background(), &bridge.Message{Raw: line}); err != nil {
			b.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if s := f.Stats(); s.Dropped != 0 {
		b.Fatalf("%d dropped", s.Dropped)
	}
}
