package run

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/zmq"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

func loopbackConfig(t *testing.T) *network.Config {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return network.Loopback(port - 1)
}

// serve runs a zmq-tcp server with the given options until the test ends.
func serve(t *testing.T, cfg *network.Config, o ServerOptions) {
	t.Helper()
	srv, err := StartServer(context.Background(), zmq.Transport{}, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := srv.Stop(); err != nil {
			t.Error(err)
		}
	})
}

func randomSensor(t *testing.T, size string) sensor.Sensor {
	t.Helper()
	s, err := sensor.Open(context.Background(), sensor.Options{Type: "random-bytes", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func runClient(t *testing.T, cfg *network.Config, o ClientOptions) (Result, *metrics.Summary) {
	t.Helper()
	conn, err := zmq.Transport{}.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sum := metrics.NewSummary(metrics.SummaryOptions{})
	o.Conn = conn
	o.Sinks = append(o.Sinks, sum)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Client(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return res, sum
}

// ntpServer answers SNTP requests on loopback with this machine's clock
// shifted by skew, and returns its address.
func ntpServer(t *testing.T, skew time.Duration) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 {
				continue
			}
			recv := time.Now().Add(skew)
			var rep [48]byte
			rep[0] = 0<<6 | 4<<3 | 4 // no leap warning, version 4, server
			rep[1] = 1               // stratum 1
			rep[2], rep[3] = 4, 0xec // poll, precision
			copy(rep[12:16], "TEST")
			putNTPTime(rep[16:], recv.Add(-time.Second)) // reference time
			copy(rep[24:32], buf[40:48])                 // origin = client's transmit time
			putNTPTime(rep[32:], recv)
			putNTPTime(rep[40:], time.Now().Add(skew))
			pc.WriteTo(rep[:], addr)
		}
	}()
	return pc.LocalAddr().String()
}

func putNTPTime(b []byte, t time.Time) {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	binary.BigEndian.PutUint32(b, uint32(secs))
	binary.BigEndian.PutUint32(b[4:], uint32(frac))
}

func TestClientServerCounts(t *testing.T) {
	cfg := loopbackConfig(t)
	serve(t, cfg, ServerOptions{Engine: inference.NewEngine(inference.Echo{})})
	res, sum := runClient(t, cfg, ClientOptions{Sensor: randomSensor(t, "100:5000"), Iterations: 300, Warmup: 10})
	c := sum.Counts()
	if res.Iterations != 300 || res.OK != 300 || c.Total != 300 || c.Warmup != 10 || c.OK != 290 {
		t.Fatalf("result %+v, counts %+v", res, c)
	}
	if !res.Clock.Known || res.Clock.Probes < DefaultClockProbes {
		t.Errorf("clock %+v", res.Clock)
	}
	if res.ServerHost == "" {
		t.Error("the server's host name was not reported")
	}
}

// TestNTPMode has both ends query the same NTP server (a loopback one); the
// server's clock is skewed by 40 ms, which the combined offsets reveal.
func TestNTPMode(t *testing.T) {
	addr := ntpServer(t, 3*time.Second) // the NTP server's own error cancels out
	cfg := loopbackConfig(t)
	serve(t, cfg, ServerOptions{Engine: inference.NewEngine(inference.Echo{}), Clock: clock.New(40 * time.Millisecond)})
	mode, err := clock.ParseMode("ntp:" + addr)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := runClient(t, cfg, ClientOptions{Sensor: randomSensor(t, "64"), Iterations: 20, ClockMode: mode})
	est := res.Clock
	if !est.Known || est.Mode != mode.String() {
		t.Fatalf("estimate %+v", est)
	}
	if d := est.Offset - 40*time.Millisecond; d > est.Bound || -d > est.Bound || est.Bound > 10*time.Millisecond {
		t.Errorf("offset %v ± %v, want 40ms", est.Offset, est.Bound)
	}
}

// TestQueuedServer serves two clients with two workers and a slow model:
// requests wait in the queue, and the wait shows as the queue stage.
func TestQueuedServer(t *testing.T) {
	cfg := loopbackConfig(t)
	slow := func() *inference.Engine {
		m, err := inference.NewDummy(inference.DummyOptions{Inference: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return inference.NewEngine(m)
	}
	serve(t, cfg, ServerOptions{Engines: []*inference.Engine{slow(), slow()}, MaxBatch: 1})
	var wg sync.WaitGroup
	sums := make([]*metrics.Summary, 3)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, sum := runClient(t, cfg, ClientOptions{Sensor: randomSensor(t, "256"), Iterations: 60})
			if res.OK != 60 {
				t.Errorf("client %d: %+v", i, res)
			}
			sums[i] = sum
		}()
	}
	wg.Wait()
	var queued float64
	for _, s := range sums {
		if q, ok := s.Quantile(metrics.StageQueue, 0.9); ok {
			queued = max(queued, q)
		}
		if inf, _ := s.Quantile(metrics.StageInference, 0.5); inf < 0.005 {
			t.Errorf("inference p50 %v s, want ≥ 5 ms", inf)
		}
	}
	// Three clients on two workers: some requests wait about a whole inference.
	if queued < 0.002 {
		t.Errorf("queue p90 %v s: three clients on two workers should wait", queued)
	}
}
