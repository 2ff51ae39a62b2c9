package run

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/memnet"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

func TestParseBudget(t *testing.T) {
	for in, want := range map[string]Budget{
		"p99=50ms":        {metrics.StageLatencyFromSchedule, 0.99, 50 * time.Millisecond},
		"p99.9=0.2s":      {metrics.StageLatencyFromSchedule, 0.999, 200 * time.Millisecond},
		"upload:p50=10ms": {metrics.StageUpload, 0.5, 10 * time.Millisecond},
	} {
		got, err := ParseBudget(in)
		if err != nil || got.Stage != want.Stage || got.Limit != want.Limit || math.Abs(got.Quantile-want.Quantile) > 1e-12 {
			t.Errorf("ParseBudget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if back, err := ParseBudget(got.String()); err != nil || back != got {
			t.Errorf("%q does not read back: %+v, %v", got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "p99", "99=50ms", "p0=1s", "p100=1s", "p99=-1s", "p99=soon", "warp:p99=1s", "px=1s"} {
		if _, err := ParseBudget(bad); err == nil {
			t.Errorf("ParseBudget(%q) accepted", bad)
		}
	}
}

func TestBetween(t *testing.T) {
	for _, tc := range []struct {
		lo, hi, want load
		ok           bool
	}{
		{load{4, 50}, load{8, 50}, load{6, 50}, true},
		{load{4, 50}, load{5, 50}, load{}, false},
		{load{2, 10}, load{2, 40}, load{2, 20}, true},
		{load{2, 100}, load{2, 104}, load{}, false},
	} {
		got, ok := between(tc.lo, tc.hi)
		if ok != tc.ok || got != tc.want {
			t.Errorf("between(%v, %v) = %v, %v; want %v, %v", tc.lo, tc.hi, got, ok, tc.want, tc.ok)
		}
	}
}

func TestStable(t *testing.T) {
	o := SweepOptions{StableWindows: 3, Tolerance: 0.1, Budget: Budget{Limit: 100 * time.Millisecond}}
	w := func(rate, q float64) window { return window{rate: rate, q: q} }
	for _, tc := range []struct {
		ws   []window
		want bool
	}{
		{[]window{w(100, 0.01), w(100, 0.011)}, false},                           // too few
		{[]window{w(50, 0.5), w(100, 0.01), w(104, 0.011), w(99, 0.0105)}, true}, // the first does not count
		{[]window{w(100, 0.01), w(120, 0.01), w(100, 0.01)}, false},              // rate moves 20 %
		{[]window{w(100, 0.010), w(100, 0.018), w(100, 0.012)}, true},            // p99 moves 8 ms of a 100 ms budget
		{[]window{w(100, 0.05), w(100, 0.07), w(100, 0.09)}, false},              // and here 40 ms
	} {
		if got := o.stable(tc.ws); got != tc.want {
			t.Errorf("stable(%v) = %v, want %v", tc.ws, got, tc.want)
		}
	}
}

// failAfter is a sensor that fails from its nth sample on.
type failAfter struct {
	sensor.Sensor
	n int
}

func (f *failAfter) Sample(ctx context.Context) (sensor.Sample, error) {
	if f.n--; f.n < 0 {
		return sensor.Sample{}, errors.New("lens cap on")
	}
	return f.Sensor.Sample(ctx)
}

// TestSweepFindsTheKnee sweeps 1, 2, 4 and 8 edges at 20 Hz against one
// worker taking 10 ms (100 Hz at most) over an in-memory link: 1, 2 and 4
// edges meet a 100 ms p99, 8 do not, and the queue is what gives. One edge
// of the last step breaks its sensor: it is reported and the others go on.
func TestSweepFindsTheKnee(t *testing.T) {
	n := memnet.New(memnet.Options{Up: 200 * time.Microsecond, Down: 200 * time.Microsecond})
	names := FleetNames("edge", 16)
	cfg := network.Loopback(5550).WithEdges("127.0.0.1", names...)
	m, err := inference.NewDummy(inference.DummyOptions{Inference: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	memServe(t, n, cfg, ServerOptions{Engine: inference.NewEngine(m)})
	var steps []SweepStep
	res, err := Sweep(context.Background(), SweepOptions{
		Fleet: FleetOptions{
			Transport: n.Transport(), Config: cfg,
			Client: ClientOptions{ClockMode: clock.Mode{Name: clock.ModeSameClock}, MaxErrors: 5},
			OpenSensor: func(ctx context.Context, i int) (sensor.Sensor, error) {
				s, err := sensor.Open(ctx, sensor.Options{Type: "random-bytes", Size: "256"})
				if err == nil && i == 7 {
					s = &failAfter{Sensor: s, n: 30}
				}
				return s, err
			},
		},
		Edges: []int{1, 2, 4, 8}, Rates: []float64{20},
		Budget: Budget{Quantile: 0.99, Limit: 100 * time.Millisecond}, MaxLoss: 0.01,
		Window: time.Second, WindowIterations: 15,
		Step: func(st SweepStep) { steps = append(steps, st) }, Log: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 4 || len(steps) != 4 || res.Knee != 2 || res.Over != 3 {
		t.Fatalf("%d steps, knee %d, over %d: want 4 steps, knee at 4 edges (2), over at 8 (3)", len(res.Steps), res.Knee, res.Over)
	}
	for i, st := range res.Steps[:3] {
		if !st.Stable || !st.Meets || st.Achieved < 0.95*st.Offered {
			t.Errorf("step %d: %+v", i, st.Row())
		}
	}
	last := res.Steps[3]
	if last.Meets || !strings.Contains(strings.Join(last.Disconnected, ","), "edge-7") {
		t.Errorf("last step: meets %v, disconnected %v: want a failure and edge-7 reported", last.Meets, last.Disconnected)
	}
	q := func(st SweepStep) float64 { s, _ := st.Result.Stage(metrics.StageQueue); return s.P99 }
	if q(last) <= q(res.Steps[0]) {
		t.Errorf("queue p99 %g at 8 edges, %g at 1: the queue should rise", q(last), q(res.Steps[0]))
	}
	rows := make([]report.SweepRow, len(res.Steps))
	for i, st := range res.Steps {
		rows[i] = st.Row()
	}
	v := report.SweepVerdict(rows, res.Knee, res.Over, "memnet, dummy:infer=10ms, 1 worker", metrics.StageLatencyFromSchedule, 0.99, 0.1, true)
	if !strings.Contains(v, "4 edges × 20 Hz meet p99 ≤ 100 ms") || !strings.Contains(v, "at 8 edges") {
		t.Errorf("verdict %q", v)
	}
	t.Log(v)
}

// TestSweepEdgesThatCannotConnect: a step whose edges never reach the
// server fails with an error naming them.
func TestSweepEdgesThatCannotConnect(t *testing.T) {
	n := memnet.New(memnet.Options{})
	cfg := network.Loopback(5550).WithEdges("127.0.0.1", FleetNames("edge", 2)...) // nobody listens
	_, err := Sweep(context.Background(), SweepOptions{
		Fleet: FleetOptions{
			Transport: n.Transport(), Config: cfg,
			Client: ClientOptions{Connect: 300 * time.Millisecond, Timeout: 100 * time.Millisecond},
			OpenSensor: func(ctx context.Context, i int) (sensor.Sensor, error) {
				return sensor.Open(ctx, sensor.Options{Type: "random-bytes", Size: "16"})
			},
		},
		Edges: []int{2}, Rates: []float64{10}, Budget: Budget{Quantile: 0.99, Limit: time.Second},
		Window: 100 * time.Millisecond, WindowIterations: 1,
	})
	if !errors.Is(err, ErrEdgesDown) || !strings.Contains(err.Error(), "edge-0, edge-1") {
		t.Fatalf("error %v: want ErrEdgesDown naming edge-0 and edge-1", err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
