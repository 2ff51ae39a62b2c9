package run

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/memnet"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// memServe serves o on n's loopback config until the test ends.
func memServe(t *testing.T, n *memnet.Network, cfg *network.Config, o ServerOptions) {
	t.Helper()
	conn, err := n.Listen(context.Background(), cfg, cfg.Server)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	o.Conn = conn
	go func() {
		defer close(done)
		if _, err := Serve(ctx, o); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done; conn.Close() })
}

// records collects every record of a run.
type records struct {
	mu   sync.Mutex
	recs []metrics.Record
}

func (r *records) Write(rec *metrics.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, *rec)
	return nil
}

func (r *records) Close() error { return nil }

func (r *records) all() []metrics.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

// memClient runs a client against n and returns its result and records.
func memClient(t *testing.T, n *memnet.Network, cfg *network.Config, o ClientOptions) (Result, []metrics.Record) {
	t.Helper()
	conn, err := n.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if o.Sensor == nil {
		o.Sensor = randomSensor(t, "512")
	}
	var rec records
	o.Conn = conn
	o.Sinks = append(o.Sinks, &rec)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Client(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return res, rec.all()
}

func echoEngine() *inference.Engine { return inference.NewEngine(inference.Echo{}) }

// TestOneWayDelaysAcrossSkewedClocks checks the clock correction against a
// link whose one-way delays are known (3 ms up, 1 ms down) and a server
// clock 250 ms ahead: every record's upload + server + download is its rtt,
// upload and download each lie within their bound of the truth, and the
// offset found is within its bound of 250 ms. A correction applied with the
// wrong sign fails it by half a second.
func TestOneWayDelaysAcrossSkewedClocks(t *testing.T) {
	const up, down, skew = 3 * time.Millisecond, time.Millisecond, 250 * time.Millisecond
	n := memnet.New(memnet.Options{Up: up, Down: down})
	cfg := network.Loopback(5550)
	cli := clock.New(0)
	memServe(t, n, cfg, ServerOptions{Engine: echoEngine(), Clock: cli.WithSkew(skew)})
	res, recs := memClient(t, n, cfg, ClientOptions{Iterations: 100, Clock: cli, ClockInterval: 100 * time.Millisecond})
	if res.OK != 100 {
		t.Fatalf("result %+v", res)
	}
	for _, r := range recs {
		if r.Upload+r.Server+r.Download != r.RTT {
			t.Fatalf("iteration %d: upload %v + server %v + download %v != rtt %v", r.Iteration, r.Upload, r.Server, r.Download, r.RTT)
		}
		if d := r.ClockOffset - skew; d > r.ClockError || -d > r.ClockError {
			t.Fatalf("iteration %d: offset %v ± %v, the truth is %v", r.Iteration, r.ClockOffset, r.ClockError, skew)
		}
		// The server's clock is the client's plus skew exactly, so each
		// record's true delays follow from its own timestamps; the link
		// makes them at least the configured ones.
		truthUp, truthDown := time.Duration(r.T1-r.T0)-skew, time.Duration(r.T3-r.T2)+skew
		if truthUp < up || truthDown < down {
			t.Fatalf("iteration %d: the link took %v up and %v down, less than configured", r.Iteration, truthUp, truthDown)
		}
		if d := r.Upload - truthUp; d > r.ClockError || -d > r.ClockError {
			t.Fatalf("iteration %d: upload %v ± %v, the truth is %v", r.Iteration, r.Upload, r.ClockError, truthUp)
		}
		if d := r.Download - truthDown; d > r.ClockError || -d > r.ClockError {
			t.Fatalf("iteration %d: download %v ± %v, the truth is %v", r.Iteration, r.Download, r.ClockError, truthDown)
		}
	}
	if d := res.Clock.Offset - skew; !res.Clock.Known || d > res.Clock.Bound || -d > res.Clock.Bound {
		t.Fatalf("estimate %+v, the truth is %v", res.Clock, skew)
	}
}

// TestOneWayDelaysNeverBelowZero gives the opening probes an asymmetric
// path (6 ms up, 0.1 ms down), so the offset they find is off by about
// 3 ms within its bound, then reverses the asymmetry for the data (0.1 ms
// up, 12 ms down: slower, so no exchange improves the estimate). That
// estimate makes every upload about −3 ms; the exchanges' own timestamps
// keep the offset where causality allows it.
func TestOneWayDelaysNeverBelowZero(t *testing.T) {
	n := memnet.New(memnet.Options{Up: 6 * time.Millisecond, Down: 100 * time.Microsecond})
	cfg := network.Loopback(5550)
	cli := clock.New(0)
	memServe(t, n, cfg, ServerOptions{Engine: echoEngine(), Clock: cli.WithSkew(-40 * time.Millisecond)})
	var once sync.Once
	_, recs := memClient(t, n, cfg, ClientOptions{
		Iterations: 50, Clock: cli, ClockInterval: -1, // probe only before the run
		OnClock: func(clock.Estimate) {
			once.Do(func() { n.SetDelays(100*time.Microsecond, 12*time.Millisecond) })
		},
	})
	for _, r := range recs[1:] { // the first may still have the old delays
		if r.Status != metrics.OK {
			t.Fatalf("iteration %d: %v %s", r.Iteration, r.Status, r.Err)
		}
		if r.Upload < 0 || r.Download < 0 {
			t.Fatalf("iteration %d: upload %v, download %v: a one-way delay below zero", r.Iteration, r.Upload, r.Download)
		}
		if d := r.ClockOffset + 40*time.Millisecond; d > r.ClockError || -d > r.ClockError {
			t.Fatalf("iteration %d: offset %v ± %v, the truth is -40ms", r.Iteration, r.ClockOffset, r.ClockError)
		}
	}
}

// TestSameClock: when both ends read one clock, the offset is known exactly
// and no probe is needed.
func TestSameClock(t *testing.T) {
	n := memnet.New(memnet.Options{Up: time.Millisecond, Down: time.Millisecond})
	cfg := network.Loopback(5550)
	cli := clock.New(0)
	const skew = 7 * time.Millisecond
	memServe(t, n, cfg, ServerOptions{Engine: echoEngine(), Clock: cli.WithSkew(skew)})
	res, recs := memClient(t, n, cfg, ClientOptions{
		Iterations: 30, Clock: cli, ClockMode: clock.Mode{Name: clock.ModeSameClock}, SameClockOffset: skew,
	})
	if !res.Clock.Known || res.Clock.Offset != skew || res.Clock.Bound != 0 || res.Clock.Probes != 0 {
		t.Fatalf("estimate %+v", res.Clock)
	}
	for _, r := range recs {
		if r.ClockOffset != skew || r.ClockError != 0 || r.Upload < time.Millisecond || r.Download < time.Millisecond {
			t.Fatalf("iteration %d: offset %v ± %v, upload %v, download %v", r.Iteration, r.ClockOffset, r.ClockError, r.Upload, r.Download)
		}
	}
}

// TestQueueIsNotUpload runs four clients against one worker whose model
// takes 2 ms (and twice as many against two workers, and four against one
// worker taking batches of up to four): the requests wait for the worker,
// and that wait is the queue stage; the upload stays what it is for one
// client alone.
func TestQueueIsNotUpload(t *testing.T) {
	for _, tc := range []struct {
		name    string
		engines int
		batch   int
	}{{"one-worker", 1, 1}, {"two-workers", 2, 1}, {"batch-4", 1, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			const up = 500 * time.Microsecond
			n := memnet.New(memnet.Options{Up: up, Down: 100 * time.Microsecond})
			cfg := network.Loopback(5550)
			var engines []*inference.Engine
			for range tc.engines {
				m, err := inference.NewDummy(inference.DummyOptions{Inference: 2 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				engines = append(engines, inference.NewEngine(m))
			}
			memServe(t, n, cfg, ServerOptions{Engines: engines, MaxBatch: tc.batch})
			// One client alone: what the link's upload is on this machine.
			var alone []float64
			_, recs := memClient(t, n, cfg, ClientOptions{Iterations: 100, ClockMode: clock.Mode{Name: clock.ModeSameClock}})
			for _, r := range recs {
				alone = append(alone, r.Upload.Seconds())
			}
			clients := 2 * tc.engines * 2 // twice as many as workers, at least four
			var wg sync.WaitGroup
			uploads, queues := make([][]float64, clients), make([][]float64, clients)
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, recs := memClient(t, n, cfg, ClientOptions{
						Iterations: 100, ClockMode: clock.Mode{Name: clock.ModeSameClock},
					})
					for _, r := range recs {
						uploads[i] = append(uploads[i], r.Upload.Seconds())
						queues[i] = append(queues[i], r.Queue.Seconds())
					}
				}()
			}
			wg.Wait()
			up50, q50 := median(slices.Concat(uploads...)), median(slices.Concat(queues...))
			t.Logf("%d clients, %d workers, batch %d: upload p50 %.3f ms (alone %.3f ms), queue p50 %.3f ms",
				clients, tc.engines, tc.batch, up50*1e3, median(alone)*1e3, q50*1e3)
			if up50 > 2*median(alone) {
				t.Errorf("upload p50 %.3f ms, want within 2× the %.3f ms of one client alone: the wait for a worker counted as upload",
					up50*1e3, median(alone)*1e3)
			}
			if q50 < 0.001 {
				t.Errorf("queue p50 %.3f ms, want ≥ 1 ms with twice as many clients as workers", q50*1e3)
			}
		})
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestOutageIsMissed takes the link down for a second in a 100 Hz run: the
// slots that pass while the client cannot send are iterations with status
// missed, every slot is counted once, and the latency from the schedule
// shows the stall that the rtt of the iterations that got through does not.
func TestOutageIsMissed(t *testing.T) {
	n := memnet.New(memnet.Options{})
	cfg := network.Loopback(5550)
	memServe(t, n, cfg, ServerOptions{Engine: echoEngine()})
	const slots = 300
	outage := metrics.SinkFunc(func(r *metrics.Record) error {
		if r.Iteration == 50 {
			n.SetDropping(true)
			time.AfterFunc(time.Second, func() { n.SetDropping(false) })
		}
		return nil
	})
	res, recs := memClient(t, n, cfg, ClientOptions{
		Iterations: slots, Rate: 100, Timeout: 200 * time.Millisecond, Sinks: []metrics.Sink{outage},
		ClockMode: clock.Mode{Name: clock.ModeSameClock},
	})
	if res.Iterations != slots || res.OK+res.Lost+res.Errors+res.Missed != slots || len(recs) != slots {
		t.Fatalf("result %+v, %d records: want every one of %d slots once", res, len(recs), slots)
	}
	if res.Missed < 60 || res.Lost < 3 {
		t.Fatalf("result %+v: a 1 s outage at 100 Hz with a 200 ms timeout should miss about 95 slots and lose 5", res)
	}
	var fromSchedule, rtts []float64
	for i, r := range recs {
		if r.Iteration != i {
			t.Fatalf("record %d is iteration %d", i, r.Iteration)
		}
		if r.LatencyFromSchedule > 0 {
			fromSchedule = append(fromSchedule, r.LatencyFromSchedule.Seconds())
		}
		if r.Status == metrics.OK {
			rtts = append(rtts, r.RTT.Seconds())
			if r.LatencyFromSchedule < r.RTT {
				t.Fatalf("iteration %d: latency from schedule %v below its rtt %v", i, r.LatencyFromSchedule, r.RTT)
			}
		}
	}
	slices.Sort(fromSchedule)
	slices.Sort(rtts)
	p99 := func(v []float64) float64 { return v[len(v)*99/100] }
	if p99(fromSchedule) < 0.1 || p99(rtts) > 0.05 {
		t.Fatalf("latency from schedule p99 %.3f s, rtt p99 %.3f s: the stall should show in the first only", p99(fromSchedule), p99(rtts))
	}
}

// failingSensor fails every sample.
type failingSensor struct{}

func (failingSensor) Sample(context.Context) (sensor.Sample, error) {
	return sensor.Sample{}, errors.New("camera unplugged")
}

func (failingSensor) Close() error { return nil }

// TestBrokenSensorStopsTheRun: after MaxErrors iterations in a row fail,
// the run ends with ErrFailing and the first error.
func TestBrokenSensorStopsTheRun(t *testing.T) {
	n := memnet.New(memnet.Options{})
	cfg := network.Loopback(5550)
	memServe(t, n, cfg, ServerOptions{Engine: echoEngine()})
	conn, err := n.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rec records
	res, err := Client(context.Background(), ClientOptions{
		Conn: conn, Sensor: failingSensor{}, Iterations: 1000, MaxErrors: 7, Sinks: []metrics.Sink{&rec},
	})
	if !errors.Is(err, ErrFailing) || res.Errors != 7 || len(rec.all()) != 7 {
		t.Fatalf("error %v, result %+v, %d records: want ErrFailing after 7", err, res, len(rec.all()))
	}
	if want := "camera unplugged"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name the first failure %q", err, want)
	}
}

// TestOversizeSampleIsAnError: a sample over MaxFrame is never sent.
func TestOversizeSampleIsAnError(t *testing.T) {
	n := memnet.New(memnet.Options{})
	cfg := network.Loopback(5550)
	memServe(t, n, cfg, ServerOptions{Engine: echoEngine()})
	conn, err := n.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, err := Client(context.Background(), ClientOptions{
		Conn: conn, Sensor: randomSensor(t, "2000"), Iterations: 5, MaxFrame: 1000,
	})
	if !errors.Is(err, ErrFailing) && res.Errors != 5 {
		t.Fatalf("error %v, result %+v: want every iteration an error", err, res)
	}
	if res.OK != 0 {
		t.Fatalf("result %+v: a 2000-byte sample went through a 1000-byte max frame", res)
	}
}
