package forwarder

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/otbridge/otbridge/bridge"
)

// BenchmarkForwarder_tcp measures Handle, and HandleBatch with batches of
// 128 as a listener's connection hands them on, through Run to a TCP
// receiver that discards what it reads, with sensor-sized messages. One op
// is one message.
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
	line := sensorLines(1, "bench")[0]

	run := func(b *testing.B, handle func(f *Forwarder, n int) int) {
		f, err := New(testConfig(ln.Addr().String(), TransportTCP), nil, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- f.Run(ctx) }()

		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		b.ResetTimer()
		for n := b.N; n > 0; {
			n -= handle(f, n)
		}
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if s := f.Stats(); s.Dropped != 0 {
			b.Fatalf("%d dropped", s.Dropped)
		}
	}

	b.Run("Handle", func(b *testing.B) {
		run(b, func(f *Forwarder, _ int) int {
			if err := f.Handle(context.Background(), &bridge.Message{Raw: line}); err != nil {
				b.Fatal(err)
			}
			return 1
		})
	})
	b.Run("HandleBatch", func(b *testing.B) {
		ms := make([]bridge.Message, 128)
		for i := range ms {
			ms[i].Raw = line
		}
		run(b, func(f *Forwarder, n int) int {
			k := min(n, len(ms))
			if errs := f.HandleBatch(context.Background(), ms[:k]); errs != nil {
				b.Fatal(errs)
			}
			return k
		})
	})
}
