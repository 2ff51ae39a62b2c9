package mqtt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
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

// benchBroker starts one embedded broker for a benchmark and returns a
// config whose ends all use it as an existing broker at qos.
func benchBroker(b *testing.B, qos int) *network.Config {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	o := &Options{}
	if err := o.Initialize(); err != nil {
		b.Fatal(err)
	}
	br, err := startBroker(addr, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	doc := fmt.Sprintf("devices:\n  edge: 127.0.0.1\n  cloud: 127.0.0.1\nserver: cloud\nmqtt:\n  broker: tcp://%s\n  qos: %d\n", addr, qos)
	cfg, err := network.ParseConfig([]byte(doc))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// echoServer answers every request on an mqtt server Conn with a reply of
// the same payload, until the benchmark ends.
func echoServer(b *testing.B, cfg *network.Config) {
	b.Helper()
	srv, err := Transport{}.Listen(context.Background(), cfg, "cloud")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx := context.Background()
		var reply wire.Frame
		for {
			f, err := srv.Recv(ctx)
			if errors.Is(err, network.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			reply = wire.Frame{Kind: wire.Reply, Seq: f.Seq, Times: f.Times, Encoding: f.Encoding, Payload: f.Payload, Peer: f.Peer}
			srv.Send(ctx, &reply)
		}
	})
	b.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
}

// rawServer runs RawServe until the benchmark ends.
func rawServer(b *testing.B, cfg *network.Config) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Transport{}.RawServe(ctx, cfg, "cloud") }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
}

// connRTTs runs n request/reply round trips through an mqtt Conn.
func connRTTs(b *testing.B, cli network.Conn, payload []byte, n int, rtts []time.Duration) []time.Duration {
	ctx := context.Background()
	req := wire.Frame{Kind: wire.Request, Encoding: "bytes", Payload: payload}
	for range n {
		req.Seq++
		t0 := time.Now()
		req.Times.ClientSend = t0.UnixNano()
		if err := cli.Send(ctx, &req); err != nil {
			b.Fatal(err)
		}
		rep, err := cli.Recv(ctx)
		rtt := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Seq != req.Seq || len(rep.Payload) != len(payload) {
			b.Fatalf("reply seq %d with %d bytes to seq %d", rep.Seq, len(rep.Payload), req.Seq)
		}
		rtts = append(rtts, rtt)
	}
	return rtts
}

func stats(rtts []time.Duration) (p50, mean float64) {
	if len(rtts) == 0 {
		return 0, 0
	}
	s := slices.Clone(rtts)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return float64(s[len(s)/2]), float64(sum) / float64(len(s))
}

// BenchmarkMQTTRoundTrip times request/reply round trips through mqtt
// Conns and an embedded broker on loopback, at QoS 0 and 1.
func BenchmarkMQTTRoundTrip(b *testing.B) {
	for _, qos := range []int{0, 1} {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("QoS%d/%s", qos, sz.name), func(b *testing.B) {
				cfg := benchBroker(b, qos)
				echoServer(b, cfg)
				cli, err := Transport{}.Dial(context.Background(), cfg, "edge")
				if err != nil {
					b.Fatal(err)
				}
				defer cli.Close()
				payload := make([]byte, sz.size)
				connRTTs(b, cli, payload, 10, nil)
				b.SetBytes(int64(2 * sz.size))
				b.ResetTimer()
				rtts := connRTTs(b, cli, payload, b.N, make([]time.Duration, 0, b.N))
				p50, mean := stats(rtts)
				b.ReportMetric(p50, "p50-ns")
				b.ReportMetric(mean, "mean-ns")
			})
		}
	}
}

// BenchmarkRawPaho times the bare paho ping-pong of the same payloads: the
// baseline of BenchmarkMQTTRoundTrip.
func BenchmarkRawPaho(b *testing.B) {
	for _, qos := range []int{0, 1} {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("QoS%d/%s", qos, sz.name), func(b *testing.B) {
				cfg := benchBroker(b, qos)
				rawServer(b, cfg)
				p := network.Ping{Payload: make([]byte, sz.size), ReplySize: sz.size, Iterations: b.N}
				b.SetBytes(int64(2 * sz.size))
				b.ResetTimer()
				rtts, err := Transport{}.RawPing(context.Background(), cfg, "edge", p)
				if err != nil {
					b.Fatal(err)
				}
				p50, mean := stats(rtts)
				b.ReportMetric(p50, "p50-ns")
				b.ReportMetric(mean, "mean-ns")
			})
		}
	}
}

// BenchmarkConnVsRaw alternates batches of Conn round trips and bare paho
// round trips of the same payload through one embedded broker, so that
// both see the same broker and the same machine load, and reports the
// Conn's overhead as ratios of p50 and mean.
func BenchmarkConnVsRaw(b *testing.B) {
	const batch = 50
	for _, qos := range []int{0, 1} {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("QoS%d/%s", qos, sz.name), func(b *testing.B) {
				cfg := benchBroker(b, qos)
				echoServer(b, cfg)
				rawServer(b, cfg)
				ctx := context.Background()
				cli, err := Transport{}.Dial(ctx, cfg, "edge")
				if err != nil {
					b.Fatal(err)
				}
				defer cli.Close()
				payload := make([]byte, sz.size)
				raw, err := Transport{}.dialRaw(ctx, cfg, "edge", network.Ping{Payload: payload, ReplySize: sz.size})
				if err != nil {
					b.Fatal(err)
				}
				defer raw.close()
				connRTTs(b, cli, payload, 10, nil) // warm up
				conn := make([]time.Duration, 0, b.N+batch)
				rawRTTs := make([]time.Duration, 0, b.N+batch)
				b.ResetTimer()
				for done := 0; done < b.N; done += batch {
					conn = connRTTs(b, cli, payload, batch, conn)
					if rawRTTs, err = raw.ping(ctx, payload, batch, rawRTTs); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				cp50, cmean := stats(conn)
				rp50, rmean := stats(rawRTTs)
				b.ReportMetric(cp50, "conn-p50-ns")
				b.ReportMetric(rp50, "raw-p50-ns")
				b.ReportMetric(cp50/rp50, "ratio-p50")
				b.ReportMetric(cmean/rmean, "ratio-mean")
			})
		}
	}
}
