// Package loopback finds free ports on 127.0.0.1, for the runs that put
// both ends on this machine (bench, matrix, sweeps) and for tests.
package loopback

import (
	"fmt"
	"net"
	"strconv"
)

// Host is the loopback address the ports are free on.
const Host = "127.0.0.1"

const tries = 20

// FreePort returns a port of 127.0.0.1 that was free a moment ago for both
// TCP and UDP, so that any transport (and an embedded broker) can listen on
// it.
func FreePort() (int, error) {
	var last error
	for range tries {
		l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.ListenPacket("udp", net.JoinHostPort(Host, strconv.Itoa(port)))
		l.Close()
		if err == nil {
			c.Close()
			return port, nil
		}
		last = err
	}
	return 0, fmt.Errorf("finding a free port: no TCP port in %d tries had its UDP port free: %w", tries, last)
}
