package listener

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// maxDatagram is more than any UDP payload.
const maxDatagram = 1 << 16

// serveUDP drains the socket into a bounded queue that one worker hands to
// the Handler, until ctx ends. The worker hands on what is queued before
// Serve returns.
func (l *Listener) serveUDP(ctx context.Context) error {
	queue := make(chan *bridge.Message, l.cfg.UDPQueue)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m := range queue {
			l.handle(ctx, m)
		}
	})
	defer wg.Wait()
	defer close(queue)

	// One byte over the limit tells an oversized datagram.
	buf := make([]byte, min(l.cfg.MaxMessageSize+1, maxDatagram))
	rd := newDatagramReader(l.udp)
	dec := l.decoder()
	var backoff time.Duration
	for {
		n, from, lost, err := rd.read(buf)
		if lost > 0 {
			l.stats.socketOverflow.Add(lost)
			l.warn.Log(slog.LevelError, "socket_overflow", "datagrams dropped: the socket's receive buffer was full",
				"lost", lost, "dropped", l.stats.socketOverflow.Load(), "udp_read_buffer", l.cfg.UDPReadBuffer)
		}
		if err != nil {
			// Only Serve and Close close the socket.
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// A datagram socket has no connection to lose: the error is
			// about one datagram or passes (memory). Wait a little, so an
			// error that repeats does not spin.
			backoff = min(max(2*backoff, time.Millisecond), time.Second)
			l.warn.Log(slog.LevelWarn, "read", "cannot read datagram", "error", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		if n == 0 {
			continue // an empty datagram carries no message
		}
		peer := netip.AddrPortFrom(from.Addr().Unmap(), from.Port()).String()
		if n > l.cfg.MaxMessageSize {
			l.tooLarge(peer, int64(n))
			continue
		}

		m := l.message(dec, append([]byte(nil), buf[:n]...), peer)
		select {
		case queue <- m:
		default:
			l.stats.queueFull.Add(1)
			l.warn.Log(slog.LevelError, "queue_full", "datagram dropped: the consumer is busy and udp_queue is full",
				"peer", peer, "udp_queue", l.cfg.UDPQueue, "dropped", l.stats.queueFull.Load())
		}
	}
}

// datagramReader reads one datagram into buf, with the number of datagrams
// the kernel dropped on the socket since the last read, where the system
// tells.
type datagramReader interface {
	read(buf []byte) (n int, from netip.AddrPort, lost int64, err error)
}

// plainReader reads datagrams and knows of no drops.
type plainReader struct{ c *net.UDPConn }

func (r plainReader) read(buf []byte) (int, netip.AddrPort, int64, error) {
	n, from, err := r.c.ReadFromUDPAddrPort(buf)
	return n, from, 0, err
}
