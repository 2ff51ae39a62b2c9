package udp

import (
	"context"
	"errors"
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

// benchConfig returns a loopback config on a free port.
func benchConfig(b *testing.B) *network.Config {
	b.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return network.Loopback(port - 1)
}

// echoServer answers every request on a udp server Conn with a reply of
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

// connRTTs runs n request/reply round trips through a udp Conn, each with
// a deadline as the profiler's client loop gives it.
func connRTTs(b *testing.B, cli network.Conn, payload []byte, n int, rtts []time.Duration) []time.Duration {
	req := wire.Frame{Kind: wire.Request, Encoding: "bytes", Payload: payload}
	for range n {
		req.Seq++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t0 := time.Now()
		req.Times.ClientSend = t0.UnixNano()
		if err := cli.Send(ctx, &req); err != nil {
			b.Fatal(err)
		}
		rep, err := cli.Recv(ctx)
		rtt := time.Since(t0)
		cancel()
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

// BenchmarkUDPRoundTrip times request/reply round trips through udp Conns
// on loopback (client and echo server in this process).
func BenchmarkUDPRoundTrip(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			cfg := benchConfig(b)
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

// BenchmarkRawUDP times the bare Go UDP ping-pong of the same payloads:
// the baseline of BenchmarkUDPRoundTrip.
func BenchmarkRawUDP(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			cfg := benchConfig(b)
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

// BenchmarkConnVsRaw alternates batches of Conn round trips and raw UDP
// round trips of the same payload, so that both see the same machine load,
// and reports the Conn's overhead as ratios of p50 and mean.
func BenchmarkConnVsRaw(b *testing.B) {
	const batch = 50
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			connCfg, rawCfg := benchConfig(b), benchConfig(b)
			echoServer(b, connCfg)
			rawServer(b, rawCfg)
			ctx := context.Background()
			cli, err := Transport{}.Dial(ctx, connCfg, "edge")
			if err != nil {
				b.Fatal(err)
			}
			defer cli.Close()
			payload := make([]byte, sz.size)
			raw, err := Transport{}.dialRaw(ctx, rawCfg, "edge", network.Ping{Payload: payload, ReplySize: sz.size})
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
