package loopback_test

import (
	"net"
	"strconv"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
)

func TestFreePortIsFreeForBoth(t *testing.T) {
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(loopback.Host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("TCP %s: %v", addr, err)
	}
	defer l.Close()
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("UDP %s: %v", addr, err)
	}
	c.Close()
}
