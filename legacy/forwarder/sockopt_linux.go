package forwarder

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sockopts returns a dialer Control function that makes the kernel give up
// a TCP connection whose sent data stays unacknowledged for longer than
// timeout (TCP_USER_TIMEOUT), so that a proxy that vanished without a word
// is noticed even while writes still fit in the socket buffer.
func sockopts(timeout time.Duration) func(network, address string, c syscall.RawConn) error {
	return func(network, _ string, c syscall.RawConn) error {
		if network != "tcp" && network != "tcp4" && network != "tcp6" {
			return nil
		}
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(timeout.Milliseconds()))
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// unacked returns how many bytes written to c its peer has not yet
// acknowledged (SIOCOUTQ: sent and unacknowledged, plus not yet sent).
func unacked(c *net.TCPConn) (int64, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var ierr error
	err = rc.Control(func(fd uintptr) {
		n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
	})
	if err != nil {
		return 0, err
	}
	return int64(n), ierr
}
