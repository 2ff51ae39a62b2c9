//go:build cgo

package zmq

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
	{"1KiB", 1 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkZMQRoundTrip times request/reply round trips through zmq-tcp
// Conns on loopback (client and echo server in this process).
func BenchmarkZMQRoundTrip(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			transporttest.BenchRoundTrips(b, Transport{}, loopback(b), "edge", sz.size)
		})
	}
}

// BenchmarkRawPair times the raw PAIR ping-pong of the same payloads: the
// baseline of BenchmarkZMQRoundTrip.
func BenchmarkRawPair(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			transporttest.BenchBaseline(b, Transport{}, loopback(b), "edge", sz.size)
		})
	}
}

// BenchmarkConnVsRaw alternates batches of Conn round trips and raw PAIR
// round trips of the same payload, so that both see the same machine load,
// and reports the zmq-tcp Conn's overhead as ratios of p50 and mean.
func BenchmarkConnVsRaw(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			connCfg, rawCfg := loopback(b), loopback(b)
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

// BenchmarkCurveVsPlain measures what CURVE costs: it alternates batches
// of raw PAIR round trips, plain zmq-tcp Conn round trips and CURVE Conn
// round trips of the same payload in one run, and reports plain/raw-p50,
// curve/raw-p50 and curve/plain-p50, CURVE's cost over plain zmq-tcp.
func BenchmarkCurveVsPlain(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			k := newTestKeys(b)
			rawCfg := loopback(b)
			transporttest.ServeBaseline(b, Transport{}, rawCfg)
			payload := make([]byte, sz.size)
			raw, err := Transport{}.dialRaw(context.Background(), rawCfg, "edge", network.Ping{Payload: payload, ReplySize: sz.size})
			if err != nil {
				b.Fatal(err)
			}
			defer raw.close()
			transporttest.BenchSides(b,
				transporttest.BenchSide{Name: "raw", RoundTrip: raw.roundTrip},
				transporttest.BenchSide{Name: "plain", RoundTrip: transporttest.ConnRoundTrip(b, Transport{}, loopback(b), "edge", payload)},
				transporttest.BenchSide{Name: "curve", RoundTrip: transporttest.ConnRoundTrip(b, Transport{}, loopback(b, k.curveLines(k.edgeKey)...), "edge", payload)},
			)
		})
	}
}
