package transporttest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
	"github.com/peernet/peernet_go/peernet_go/network"
)

// FreePort returns a port of 127.0.0.1 that was free a moment ago for both
// TCP and UDP, so that any transport (and an embedded broker) can listen
// on it. It fails tb when no such port turns up.
func FreePort(tb testing.TB) int {
	tb.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		tb.Fatalf("transporttest: %v", err)
	}
	return port
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
