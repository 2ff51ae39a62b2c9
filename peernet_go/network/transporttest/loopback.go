package transporttest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// freePortTries bounds how many TCP ports FreePort tries before it gives up
// finding one whose UDP port is free too.
const freePortTries = 20

// FreePort returns a port of 127.0.0.1 that was free a moment ago for both
// TCP and UDP, so that any transport (and an embedded broker) can listen
// on it. It fails tb when no such port turns up.
func FreePort(tb testing.TB) int {
	tb.Helper()
	var last error
	for range freePortTries {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("transporttest: free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			c.Close()
			return port
		}
		last = err
	}
	tb.Fatalf("transporttest: free port: no TCP port in %d tries had its UDP port free: %v", freePortTries, last)
	return 0
}

// LoopbackConfig returns a network config of two devices on 127.0.0.1,
// "edge" and "cloud", the server being "cloud", whose server port is free
// (see FreePort). The lines, if any, form the transport section named
// section, one YAML line each:
//
//	cfg := transporttest.LoopbackConfig(t, "udp", "payload_size: 1400", "max_frame: 65536")
//
// With no lines the config has no transport section and section is unused.
// The document goes through network.ParseConfig, so a bad line fails tb
// with the parser's message.
func LoopbackConfig(tb testing.TB, section string, lines ...string) *network.Config {
	tb.Helper()
	doc := fmt.Sprintf("devices:\n  edge: 127.0.0.1\n  cloud: 127.0.0.1\nserver: cloud\nstart_port: %d\n", FreePort(tb)-1)
	if len(lines) > 0 {
		doc += section + ":\n  " + strings.Join(lines, "\n  ") + "\n"
	}
	cfg, err := network.ParseConfig([]byte(doc))
	if err != nil {
		tb.Fatalf("transporttest: loopback config: %v", err)
	}
	return cfg
}
