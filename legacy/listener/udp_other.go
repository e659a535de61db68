//go:build !linux

package listener

import "net"

// newDatagramReader reads datagrams; only Linux reports the socket's drops.
func newDatagramReader(c *net.UDPConn) datagramReader { return plainReader{c} }
