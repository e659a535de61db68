//go:build !linux

package forwarder

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// sockopts sets nothing outside Linux: a proxy that vanishes is noticed
// when a write times out or TCP keepalive gives up.
func sockopts(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}

// unacked is not known outside Linux: every written byte counts as
// acknowledged, and the resend window keeps messages for its time only.
func unacked(*net.TCPConn) (int64, error) {
	return 0, errors.ErrUnsupported
}
