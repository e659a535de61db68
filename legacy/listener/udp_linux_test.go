package listener

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

func TestOverflowReader(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	rd := newDatagramReader(c)
	if _, ok := rd.(*overflowReader); !ok {
		t.Fatalf("reader is %T, want the one that counts drops", rd)
	}
	out, err := net.Dial("udp", c.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	// Nobody reads: a tiny buffer overflows. On loopback a send has
	// queued or dropped its datagram when it returns.
	const sent = 200
	payload := make([]byte, 500)
	for range sent {
		if _, err := out.Write(payload); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 1024)
	read, lost := 0, int64(0)
	for {
		// The deadline tells that the queue is empty: nothing more comes.
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, _, n, err := rd.read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		read++
		lost += n
	}
	if read == sent {
		t.Skip("the kernel dropped nothing; cannot check the count")
	}

	// The next datagram carries the socket's drop count. It is told by
	// its size, should the kernel deliver a queued one late.
	if _, err := out.Write(payload[:1]); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		size, _, n, err := rd.read(buf)
		if err != nil {
			t.Fatal(err)
		}
		read++
		lost += n
		if size == 1 {
			break
		}
	}
	if int64(read)+lost != sent+1 {
		t.Errorf("read %d and lost %d of %d datagrams", read, lost, sent+1)
	}
}
