// Package window cuts a run's stream of records into time windows and
// reports the statistics of every stage over each window: count, mean,
// standard deviation, min, max and percentiles, as [metrics.Summary]
// computes them. The ROS 2 edge node publishes each window as
// statistics_msgs/MetricsMessage, one per stage, the way ROS 2's own topic
// statistics do.
//
// A [Sink] is a metrics.Sink. A window opens with its first record and
// closes once Period has passed: at the first Write or Flush after that
// (run.Client flushes its sinks every second), or at Close. Empty windows
// are not reported.
//
// Usage:
//
//	w, err := window.New(window.Options{Period: time.Second, Emit: func(w window.Window) error {
//		for _, st := range w.Result.Stages {
//			fmt.Println(w.Stop, st.Name, st.Count, st.Mean)
//		}
//		return nil
//	}})
//	if err != nil { ... }
//	res, err := run.Client(ctx, run.ClientOptions{..., Sinks: []metrics.Sink{w}})
package window

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// DefaultPeriod is the window length when Options.Period is zero.
const DefaultPeriod = time.Second

// Window is the statistics of the records of one window.
type Window struct {
	// Start is when the window's first record arrived; Stop when the
	// window closed.
	Start, Stop time.Time
	// Result holds the window's outcome counts and per-stage statistics
	// (warm-up iterations are counted but left out of the statistics).
	Result metrics.Result
	// ClockError is the largest clock error bound of the window's
	// iterations: how far its one-way delays may be off.
	ClockError time.Duration
}

// Options configure a Sink.
type Options struct {
	// Period is the window length. It defaults to DefaultPeriod.
	Period time.Duration
	// Emit receives every closed window, from the goroutine that wrote or
	// flushed the sink. Its error is returned by that Write, Flush or
	// Close. Required.
	Emit func(Window) error
	// SummaryOptions configure each window's summary (the sampling
	// period, for late accounting).
	SummaryOptions metrics.SummaryOptions
	// Now is the clock. It defaults to time.Now.
	Now func() time.Time
}

// Sink is a metrics.Sink that reports per-window statistics. It is safe
// for concurrent use.
type Sink struct {
	o     Options
	mu    sync.Mutex
	sum   *metrics.Summary
	start time.Time
	n     int
	bound time.Duration
}

var (
	_ metrics.Sink    = (*Sink)(nil)
	_ metrics.Flusher = (*Sink)(nil)
)

// New returns a Sink. It fails when Emit is missing or Period is negative.
func New(o Options) (*Sink, error) {
	if o.Emit == nil {
		return nil, errors.New("windowstats: Options.Emit is required")
	}
	if o.Period < 0 {
		return nil, fmt.Errorf("windowstats: Period %v is negative", o.Period)
	}
	if o.Period == 0 {
		o.Period = DefaultPeriod
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sink{o: o}, nil
}

// Write adds r to the current window, first closing the window when its
// period has passed.
func (s *Sink) Write(r *metrics.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	err := s.closeIfDue(now)
	if s.n == 0 {
		s.sum = metrics.NewSummary(s.o.SummaryOptions)
		s.start = now
	}
	s.sum.Add(r)
	s.n++
	if r.Status != metrics.Missed {
		s.bound = max(s.bound, r.ClockError)
	}
	return err
}

// Flush closes the current window when its period has passed.
func (s *Sink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeIfDue(s.o.Now())
}

// Close closes the current window, however short, if it has records.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emit(s.o.Now())
}

func (s *Sink) closeIfDue(now time.Time) error {
	if s.n == 0 || now.Sub(s.start) < s.o.Period {
		return nil
	}
	return s.emit(now)
}

func (s *Sink) emit(now time.Time) error {
	if s.n == 0 {
		return nil
	}
	w := Window{Start: s.start, Stop: now, Result: s.sum.Result(), ClockError: s.bound}
	s.n, s.sum, s.bound = 0, nil, 0
	return s.o.Emit(w)
}
