//go:build cgo

package zmq

import (
	"context"
	"errors"
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
	{"1KiB", 1 << 10},
	{"1MiB", 1 << 20},
}

// echoServer answers every request on a zmq-tcp server Conn with a reply of
// the same payload, until the benchmark ends.
func echoServer(b *testing.B, cfg *network.Config) {
	srv := listen(b, cfg)
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

// connRTTs runs n request/reply round trips through a zmq-tcp Conn.
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

// BenchmarkZMQRoundTrip times request/reply round trips through zmq-tcp
// Conns on loopback (client and echo server in this process).
func BenchmarkZMQRoundTrip(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			cfg := loopback(b, "")
			echoServer(b, cfg)
			cli := dial(b, cfg)
			defer cli.Close()
			payload := make([]byte, sz.size)
			connRTTs(b, cli, payload, 10, nil) // connect and warm up
			b.SetBytes(int64(2 * sz.size))
			b.ResetTimer()
			rtts := connRTTs(b, cli, payload, b.N, make([]time.Duration, 0, b.N))
			p50, mean := stats(rtts)
			b.ReportMetric(p50, "p50-ns")
			b.ReportMetric(mean, "mean-ns")
		})
	}
}

// BenchmarkRawPair times the raw PAIR ping-pong of the same payloads: the
// baseline of BenchmarkZMQRoundTrip.
func BenchmarkRawPair(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			cfg := loopback(b, "")
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

// BenchmarkConnVsRaw alternates batches of Conn round trips and raw PAIR
// round trips of the same payload, so that both see the same machine load,
// and reports the zmq-tcp Conn's overhead as ratios of p50 and mean.
func BenchmarkConnVsRaw(b *testing.B) {
	const batch = 50
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			connCfg, rawCfg := loopback(b, ""), loopback(b, "")
			echoServer(b, connCfg)
			rawServer(b, rawCfg)
			cli := dial(b, connCfg)
			defer cli.Close()
			payload := make([]byte, sz.size)
			ctx := context.Background()
			raw, err := Transport{}.dialRaw(ctx, rawCfg, "edge", network.Ping{Payload: payload, ReplySize: sz.size})
			if err != nil {
				b.Fatal(err)
			}
			defer raw.close()
			connRTTs(b, cli, payload, 10, nil) // connect and warm up
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
