package transporttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// benchBatch is how many round trips BenchConnVsRaw makes on one side
// before the other side takes its turn.
const benchBatch = 50

// benchWarmUp is how many round trips warm a Conn up (connect, buffers)
// before the timer starts.
const benchWarmUp = 10

// BenchRoundTrips times request/reply round trips of size-byte payloads
// through tr's Conns on cfg: it opens the serving end as cfg.Server, which
// echoes every request until b ends, dials the client end as self, makes
// a few warm-up round trips, and then times b.N round trips, each under a
// deadline of DefaultTimeout as the profiler's client loop gives it. It
// reports the p50 and mean round trip as the metrics p50-ns and mean-ns,
// and counts the bytes of request and reply:
//
//	func BenchmarkRoundTrip(b *testing.B) {
//		cfg := transporttest.LoopbackConfig(b, "")
//		transporttest.BenchRoundTrips(b, mytransport.Transport{}, cfg, "edge", 1024)
//	}
func BenchRoundTrips(b *testing.B, tr network.Transport, cfg *network.Config, self string, size int) {
	b.Helper()
	cli := echoPair(b, tr, cfg, self)
	defer cli.Close()
	payload := make([]byte, size)
	connRTTs(b, cli, payload, benchWarmUp, nil)
	b.SetBytes(int64(2 * size))
	b.ResetTimer()
	rtts := connRTTs(b, cli, payload, b.N, make([]time.Duration, 0, b.N))
	p50, mean := stats(rtts)
	b.ReportMetric(p50, "p50-ns")
	b.ReportMetric(mean, "mean-ns")
}

// BenchBaseline times the raw baseline of the same exchange: it runs
// base.RawServe on cfg as cfg.Server until b ends, and one base.RawPing run
// of b.N round trips of size bytes each way as self. It reports p50-ns and
// mean-ns as BenchRoundTrips does, so that the two compare directly.
func BenchBaseline(b *testing.B, base network.Baseline, cfg *network.Config, self string, size int) {
	b.Helper()
	ServeBaseline(b, base, cfg)
	p := network.Ping{Payload: make([]byte, size), ReplySize: size, Iterations: b.N}
	b.SetBytes(int64(2 * size))
	b.ResetTimer()
	rtts, err := base.RawPing(context.Background(), cfg, self, p)
	if err != nil {
		b.Fatal(err)
	}
	p50, mean := stats(rtts)
	b.ReportMetric(p50, "p50-ns")
	b.ReportMetric(mean, "mean-ns")
}

// BenchConnVsRaw measures a transport's overhead over its raw baseline in
// one run: it alternates batches of round trips of payload through tr's
// Conns on cfg (set up as in BenchRoundTrips) with batches of raw round
// trips, so that both see the same machine load, until each side has made
// at least b.N. raw is one round trip of the baseline, a request of
// len(payload) bytes and its whole reply, timed with
// [network.TimeRoundTrips]; typically it belongs to a raw client the
// transport's own benchmark has connected to a [ServeBaseline] server.
// BenchConnVsRaw reports the p50 round trips as conn-p50-ns and
// raw-p50-ns, and the Conn's overhead as ratio-p50 and ratio-mean (Conn
// over raw).
func BenchConnVsRaw(b *testing.B, tr network.Transport, cfg *network.Config, self string, payload []byte, raw func() error) {
	b.Helper()
	cli := echoPair(b, tr, cfg, self)
	defer cli.Close()
	connRTTs(b, cli, payload, benchWarmUp, nil)
	ctx := context.Background()
	conn := make([]time.Duration, 0, b.N+benchBatch)
	rawRTTs := make([]time.Duration, 0, b.N+benchBatch)
	var err error
	b.ResetTimer()
	for done := 0; done < b.N; done += benchBatch {
		conn = connRTTs(b, cli, payload, benchBatch, conn)
		if rawRTTs, err = network.TimeRoundTrips(ctx, benchBatch, rawRTTs, raw); err != nil {
			b.Fatalf("raw round trip: %v", err)
		}
	}
	b.StopTimer()
	cp50, cmean := stats(conn)
	rp50, rmean := stats(rawRTTs)
	b.ReportMetric(cp50, "conn-p50-ns")
	b.ReportMetric(rp50, "raw-p50-ns")
	b.ReportMetric(cp50/rp50, "ratio-p50")
	b.ReportMetric(cmean/rmean, "ratio-mean")
}

// BenchSide is one way of making a round trip, for [BenchSides]: a name
// for the metrics and one round trip (a request and its whole reply).
type BenchSide struct {
	Name      string
	RoundTrip func() error
}

// BenchSides compares ways of making the same round trip in one run, such
// as a transport with and without its security and the raw baseline: it
// alternates batches of each side's round trips, so that all see the same
// machine load, until each has made at least b.N. It reports each side's
// median round trip as NAME-p50-ns, the ratio of each side's median to
// the first side's as NAME/FIRST-p50, and, from the third side on, to the
// side before as NAME/PREVIOUS-p50 (below, curve/plain-p50: what CURVE
// costs over plain zmq-tcp):
//
//	transporttest.BenchSides(b,
//		transporttest.BenchSide{Name: "raw", RoundTrip: raw.roundTrip},
//		transporttest.BenchSide{Name: "plain", RoundTrip: transporttest.ConnRoundTrip(b, tr, plainCfg, "edge", payload)},
//		transporttest.BenchSide{Name: "curve", RoundTrip: transporttest.ConnRoundTrip(b, tr, curveCfg, "edge", payload)},
//	)
func BenchSides(b *testing.B, sides ...BenchSide) {
	b.Helper()
	ctx := context.Background()
	rtts := make([][]time.Duration, len(sides))
	for i, s := range sides {
		var err error
		if _, err = network.TimeRoundTrips(ctx, benchWarmUp, nil, s.RoundTrip); err != nil {
			b.Fatalf("%s: warm-up: %v", s.Name, err)
		}
		rtts[i] = make([]time.Duration, 0, b.N+benchBatch)
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += benchBatch {
		for i, s := range sides {
			var err error
			if rtts[i], err = network.TimeRoundTrips(ctx, benchBatch, rtts[i], s.RoundTrip); err != nil {
				b.Fatalf("%s round trip: %v", s.Name, err)
			}
		}
	}
	b.StopTimer()
	p50s := make([]float64, len(sides))
	for i, s := range sides {
		p50s[i], _ = stats(rtts[i])
		b.ReportMetric(p50s[i], s.Name+"-p50-ns")
		if i > 0 {
			b.ReportMetric(p50s[i]/p50s[0], s.Name+"/"+sides[0].Name+"-p50")
		}
		if i > 1 {
			b.ReportMetric(p50s[i]/p50s[i-1], s.Name+"/"+sides[i-1].Name+"-p50")
		}
	}
}

// ConnRoundTrip opens tr's serving end on cfg, which echoes every request
// until tb ends, dials the client end as self, and returns one round trip
// of payload through the two, each under a deadline of DefaultTimeout, for
// [BenchSides].
func ConnRoundTrip(tb testing.TB, tr network.Transport, cfg *network.Config, self string, payload []byte) func() error {
	tb.Helper()
	cli := echoPair(tb, tr, cfg, self)
	tb.Cleanup(func() { cli.Close() })
	req := wire.Frame{Kind: wire.Request, Encoding: "bytes", Payload: payload}
	return func() error {
		req.Seq++
		ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		defer cancel()
		req.Times.ClientSend = time.Now().UnixNano()
		if err := cli.Send(ctx, &req); err != nil {
			return err
		}
		rep, err := cli.Recv(ctx)
		if err != nil {
			return err
		}
		if rep.Seq != req.Seq || len(rep.Payload) != len(payload) {
			return fmt.Errorf("reply seq %d with %d bytes to seq %d", rep.Seq, len(rep.Payload), req.Seq)
		}
		return nil
	}
}

// ServeBaseline runs base.RawServe on cfg as cfg.Server in a goroutine
// until tb ends; an error from RawServe then fails tb.
func ServeBaseline(tb testing.TB, base network.Baseline, cfg *network.Config) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- base.RawServe(ctx, cfg, cfg.Server, 0) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			tb.Errorf("RawServe: %v", err)
		}
	})
}

// echoPair opens tr's serving end on cfg, which answers every request with
// a reply of the same payload ([EchoUntilClosed]) until tb ends, and
// returns a client end dialled as self.
func echoPair(tb testing.TB, tr network.Transport, cfg *network.Config, self string) network.Conn {
	tb.Helper()
	srv, err := tr.Listen(context.Background(), cfg, cfg.Server)
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { EchoUntilClosed(srv) })
	tb.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	cli, err := tr.Dial(context.Background(), cfg, self)
	if err != nil {
		tb.Fatal(err)
	}
	return cli
}

// EchoUntilClosed answers every frame the serving end srv receives with a
// reply that carries the frame's sequence number, times, encoding and
// payload back to its peer, until srv is closed; then it returns. Its calls
// have no deadline: only Close ends them. Other errors of Recv and Send
// are passed over, so that a bad message does not stop the echo.
func EchoUntilClosed(srv network.Conn) {
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
		_ = srv.Send(ctx, &reply) // a lost reply is the client's timeout
	}
}

// connRTTs runs n request/reply round trips of payload through cli and
// appends their times to rtts.
func connRTTs(tb testing.TB, cli network.Conn, payload []byte, n int, rtts []time.Duration) []time.Duration {
	req := wire.Frame{Kind: wire.Request, Encoding: "bytes", Payload: payload}
	for range n {
		req.Seq++
		ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		t0 := time.Now()
		req.Times.ClientSend = t0.UnixNano()
		if err := cli.Send(ctx, &req); err != nil {
			tb.Fatal(err)
		}
		rep, err := cli.Recv(ctx)
		rtt := time.Since(t0)
		cancel()
		if err != nil {
			tb.Fatal(err)
		}
		if rep.Seq != req.Seq || len(rep.Payload) != len(payload) {
			tb.Fatalf("reply seq %d with %d bytes to seq %d", rep.Seq, len(rep.Payload), req.Seq)
		}
		rtts = append(rtts, rtt)
	}
	return rtts
}

// stats returns the median and the mean of rtts in nanoseconds.
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
