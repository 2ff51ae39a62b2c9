package mqtt

import (
	"context"
	"fmt"
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

// benchQoS are the QoS levels every benchmark runs at.
var benchQoS = []int{0, 1}

// benchBroker starts one embedded broker for a benchmark and returns a
// config whose ends all use it as an existing broker at qos.
func benchBroker(b *testing.B, qos int) *network.Config {
	b.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", transporttest.FreePort(b))
	o := &Options{}
	if err := o.Initialize(); err != nil {
		b.Fatal(err)
	}
	br, err := startBroker(addr, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	return transporttest.LoopbackConfig(b, "mqtt", "broker: tcp://"+addr, fmt.Sprintf("qos: %d", qos))
}

// benchEach runs bench as a sub-benchmark QoS<q>/<size> for every QoS
// level and payload size, each with a broker of its own.
func benchEach(b *testing.B, bench func(b *testing.B, cfg *network.Config, size int)) {
	for _, qos := range benchQoS {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("QoS%d/%s", qos, sz.name), func(b *testing.B) {
				bench(b, benchBroker(b, qos), sz.size)
			})
		}
	}
}

// BenchmarkMQTTRoundTrip times request/reply round trips through mqtt
// Conns and an embedded broker on loopback, at QoS 0 and 1.
func BenchmarkMQTTRoundTrip(b *testing.B) {
	benchEach(b, func(b *testing.B, cfg *network.Config, size int) {
		transporttest.BenchRoundTrips(b, Transport{}, cfg, "edge", size)
	})
}

// BenchmarkRawPaho times the bare paho ping-pong of the same payloads: the
// baseline of BenchmarkMQTTRoundTrip.
func BenchmarkRawPaho(b *testing.B) {
	benchEach(b, func(b *testing.B, cfg *network.Config, size int) {
		transporttest.BenchBaseline(b, Transport{}, cfg, "edge", size)
	})
}

// BenchmarkConnVsRaw alternates batches of Conn round trips and bare paho
// round trips of the same payload through one embedded broker, so that
// both see the same broker and the same machine load, and reports the
// Conn's overhead as ratios of p50 and mean.
func BenchmarkConnVsRaw(b *testing.B) {
	benchEach(b, func(b *testing.B, cfg *network.Config, size int) {
		transporttest.ServeBaseline(b, Transport{}, cfg)
		payload := make([]byte, size)
		raw, err := Transport{}.dialRaw(context.Background(), cfg, "edge", network.Ping{Payload: payload, ReplySize: size})
		if err != nil {
			b.Fatal(err)
		}
		defer raw.close()
		transporttest.BenchConnVsRaw(b, Transport{}, cfg, "edge", payload, raw.roundTrip)
	})
}
