package udp

import (
	"context"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
)

var benchSizes = []struct {
	name string
	size int
}{
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkUDPRoundTrip times request/reply round trips through udp Conns
// on loopback (client and echo server in this process).
func BenchmarkUDPRoundTrip(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			transporttest.BenchRoundTrips(b, Transport{}, transporttest.LoopbackConfig(b, ""), "edge", sz.size)
		})
	}
}

// BenchmarkRawUDP times the bare Go UDP ping-pong of the same payloads:
// the baseline of BenchmarkUDPRoundTrip.
func BenchmarkRawUDP(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			transporttest.BenchBaseline(b, Transport{}, transporttest.LoopbackConfig(b, ""), "edge", sz.size)
		})
	}
}

// BenchmarkConnVsRaw alternates batches of Conn round trips and raw UDP
// round trips of the same payload, so that both see the same machine load,
// and reports the Conn's overhead as ratios of p50 and mean.
func BenchmarkConnVsRaw(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			connCfg, rawCfg := transporttest.LoopbackConfig(b, ""), transporttest.LoopbackConfig(b, "")
			transporttest.ServeBaseline(b, Transport{}, rawCfg)
			payload := make([]byte, sz.size)
			raw, err := Transport{}.dialRaw(context.Background(), rawCfg, "edge", network.Ping{Payload: payload, ReplySize: sz.size})
			if err != nil {
				b.Fatal(err)
			}
			defer raw.close()
			transporttest.BenchConnVsRaw(b, Transport{}, connCfg, "edge", payload, raw.roundTrip)
		})
	}
}

// BenchmarkHMACVsPlain measures what authenticated datagrams cost: it
// alternates batches of raw UDP round trips, plain udp Conn round trips
// and Conn round trips with a pre-shared key, of the same payload, in one
// run, and reports plain/raw-p50, hmac/raw-p50 and hmac/plain-p50, the
// cost of the tags over plain udp.
func BenchmarkHMACVsPlain(b *testing.B) {
	for _, sz := range benchSizes {
		if sz.name != "1KiB" && sz.name != "1MiB" {
			continue
		}
		b.Run(sz.name, func(b *testing.B) {
			rawCfg := transporttest.LoopbackConfig(b, "")
			transporttest.ServeBaseline(b, Transport{}, rawCfg)
			payload := make([]byte, sz.size)
			raw, err := Transport{}.dialRaw(context.Background(), rawCfg, "edge", network.Ping{Payload: payload, ReplySize: sz.size})
			if err != nil {
				b.Fatal(err)
			}
			defer raw.close()
			transporttest.BenchSides(b,
				transporttest.BenchSide{Name: "raw", RoundTrip: raw.roundTrip},
				transporttest.BenchSide{Name: "plain", RoundTrip: transporttest.ConnRoundTrip(b, Transport{}, transporttest.LoopbackConfig(b, ""), "edge", payload)},
				transporttest.BenchSide{Name: "hmac", RoundTrip: transporttest.ConnRoundTrip(b, Transport{}, transporttest.LoopbackConfig(b, "udp", "key: "+string(testKey)), "edge", payload)},
			)
		})
	}
}
