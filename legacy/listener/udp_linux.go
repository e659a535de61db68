package listener

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
)

// newDatagramReader asks the kernel to report with each datagram how many
// it dropped on the socket (SO_RXQ_OVFL), and falls back to plain reads
// when it cannot.
func newDatagramReader(c *net.UDPConn) datagramReader {
	rc, err := c.SyscallConn()
	if err != nil {
		return plainReader{c}
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
	})
	if err != nil || serr != nil {
		return plainReader{c}
	}
	return &overflowReader{c: c, oob: make([]byte, syscall.CmsgSpace(4))}
}

// overflowReader reads datagrams with the kernel's running count of the
// socket's drops, and reports its growth.
type overflowReader struct {
	c    *net.UDPConn
	oob  []byte
	seen uint32
}

func (r *overflowReader) read(buf []byte) (n int, from netip.AddrPort, lost int64, err error) {
	n, oobn, _, from, err := r.c.ReadMsgUDPAddrPort(buf, r.oob)
	if oobn == 0 {
		return n, from, 0, err
	}
	msgs, perr := syscall.ParseSocketControlMessage(r.oob[:oobn])
	if perr != nil {
		return n, from, 0, err
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_RXQ_OVFL && len(m.Data) >= 4 {
			total := binary.NativeEndian.Uint32(m.Data)
			lost = int64(total - r.seen) // the count wraps at 2^32
			r.seen = total
		}
	}
	return n, from, lost, err
}
