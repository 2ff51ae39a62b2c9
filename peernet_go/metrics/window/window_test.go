package window

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// fakeClock is a manual clock for the window boundaries.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func rec(i int, rtt time.Duration) *metrics.Record {
	return &metrics.Record{Iteration: i, Status: metrics.OK, RTT: rtt, Upload: rtt / 2, Download: rtt / 2, T3: 1}
}

func TestWindows(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var got []Window
	s, err := New(Options{Period: time.Second, Now: clk.now, Emit: func(w Window) error {
		got = append(got, w)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Window 1: RTTs 1..10 ms over 0.9 s.
	for i := 1; i <= 10; i++ {
		if err := s.Write(rec(i, time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		clk.add(100 * time.Millisecond)
	}
	if len(got) != 0 {
		t.Fatalf("%d windows before the period passed", len(got))
	}
	// The 11th write comes 1 s after the first: it closes window 1 and
	// opens window 2.
	s.Write(rec(11, 50*time.Millisecond))
	if len(got) != 1 {
		t.Fatalf("%d windows, want 1", len(got))
	}
	w := got[0]
	if !w.Start.Equal(time.Unix(1000, 0)) || !w.Stop.Equal(time.Unix(1001, 0)) {
		t.Fatalf("window %v–%v", w.Start, w.Stop)
	}
	rtt, ok := w.Result.Stage(metrics.StageRTT)
	if !ok || rtt.Count != 10 || rtt.Min != 0.001 || rtt.Max != 0.01 || math.Abs(rtt.Mean-0.0055) > 1e-12 {
		t.Fatalf("rtt %+v", rtt)
	}
	// population stddev of 1..10 ms
	if want := math.Sqrt(8.25) * 1e-3; math.Abs(rtt.Std-want) > 1e-9 {
		t.Fatalf("std %v, want %v", rtt.Std, want)
	}
	if w.Result.Iterations.OK != 10 {
		t.Fatalf("counts %+v", w.Result.Iterations)
	}

	// Flush before the period: nothing; after: window 2 with one record.
	clk.add(500 * time.Millisecond)
	s.Flush()
	if len(got) != 1 {
		t.Fatal("Flush closed a window before its period")
	}
	clk.add(600 * time.Millisecond)
	s.Flush()
	if len(got) != 2 {
		t.Fatal("Flush did not close a due window")
	}
	if rtt, _ := got[1].Result.Stage(metrics.StageRTT); rtt.Count != 1 || rtt.Max != 0.05 {
		t.Fatalf("window 2 rtt %+v", rtt)
	}
	// Idle: no empty windows.
	clk.add(5 * time.Second)
	s.Flush()
	if err := s.Close(); err != nil || len(got) != 2 {
		t.Fatalf("empty windows were reported: %d (%v)", len(got), err)
	}
	// Close reports a short window.
	s.Write(rec(12, time.Millisecond))
	s.Close()
	if len(got) != 3 {
		t.Fatal("Close did not report the last window")
	}
}

func TestWarmupLeftOut(t *testing.T) {
	var got []Window
	s, _ := New(Options{Emit: func(w Window) error { got = append(got, w); return nil }})
	r := rec(0, time.Millisecond)
	r.Warmup = true
	s.Write(r)
	s.Write(rec(1, 3*time.Millisecond))
	s.Close()
	rtt, _ := got[0].Result.Stage(metrics.StageRTT)
	if rtt.Count != 1 || got[0].Result.Iterations.Warmup != 1 {
		t.Fatalf("rtt %+v counts %+v", rtt, got[0].Result.Iterations)
	}
}

func TestEmitError(t *testing.T) {
	boom := errors.New("publisher gone")
	clk := &fakeClock{t: time.Unix(0, 0)}
	s, _ := New(Options{Now: clk.now, Emit: func(Window) error { return boom }})
	s.Write(rec(0, time.Millisecond))
	clk.add(2 * time.Second)
	if err := s.Write(rec(1, time.Millisecond)); !errors.Is(err, boom) {
		t.Fatalf("Write: %v, want the Emit error", err)
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("no Emit accepted")
	}
	if _, err := New(Options{Period: -1, Emit: func(Window) error { return nil }}); err == nil {
		t.Error("negative Period accepted")
	}
}

func TestLine(t *testing.T) {
	t0 := time.Unix(100, 0)
	sum := metrics.NewSummary(metrics.SummaryOptions{})
	for i := range 10 {
		r := metrics.Record{Iteration: i, Status: metrics.OK, Upload: 60 * time.Microsecond, Download: 55 * time.Microsecond,
			Server: 2 * time.Millisecond, ClockError: 12 * time.Microsecond}
		r.RTT = r.Upload + r.Server + r.Download
		if i == 9 {
			r = metrics.Record{Iteration: i, Status: metrics.Lost}
		}
		sum.Add(&r)
	}
	sum.Add(&metrics.Record{Iteration: 10, Status: metrics.Missed})
	w := Window{Start: t0, Stop: t0.Add(time.Second), Result: sum.Result(), ClockError: 12 * time.Microsecond}
	want := "window 1.0 s: 11 iterations, 9 ok, 1 lost, 1 missed; rtt p50 2.12 ms p99 2.12 ms; upload p50 60.0 µs ± 12.0 µs, download p50 55.0 µs ± 12.0 µs"
	if got := Line(w); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for v, want := range map[float64]string{0: "0 s", 5e-10: "0.50 ns", 0.0009997: "1000 µs", 0.0123: "12.3 ms", -0.000250: "-250 µs", 2.5: "2.500 s"} {
		if got := Seconds(v); got != want {
			t.Errorf("Seconds(%g) = %s, want %s", v, got, want)
		}
	}
}
