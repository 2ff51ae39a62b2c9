//go:build !linux

package transporttest

import (
	"context"
	"net"
	"testing"
)

// LAN is an address of this machine that is not loopback, for tests of
// what a transport does when other machines can reach it (see [LANAddr]).
type LAN struct {
	// IP is the address to bind.
	IP string
	// Far is where a peer dials from.
	Far string
	// Dial opens a TCP or UDP connection to address from the far side.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// LANAddr skips t: network namespaces are Linux's.
func LANAddr(t testing.TB) LAN {
	t.Helper()
	t.Skip("transporttest: LANAddr needs Linux network namespaces")
	return LAN{}
}
