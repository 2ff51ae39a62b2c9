package transporttest

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestLANAddr(t *testing.T) {
	lan := LANAddr(t)
	if ip := net.ParseIP(lan.IP); ip == nil || ip.IsLoopback() {
		t.Fatalf("LANAddr gave %q", lan.IP)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(lan.IP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := lan.Dial(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	host, _, _ := net.SplitHostPort(s.RemoteAddr().String())
	if host != lan.Far {
		t.Errorf("peer came from %s, want %s", host, lan.Far)
	}
	t.Logf("bound %s, dialled from %s", lan.IP, host)
}
