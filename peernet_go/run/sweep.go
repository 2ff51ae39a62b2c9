package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// Defaults of SweepOptions.
const (
	DefaultWindow           = 2 * time.Second
	DefaultWindowIterations = 50
	DefaultStableWindows    = 3
	DefaultTolerance        = 0.10
	DefaultMaxWindows       = 10
)

// Search strategies of a sweep.
const (
	// SearchLinear runs the steps in the order given and stops after the
	// first that fails the budget.
	SearchLinear = "linear"
	// SearchBisect steps up the same way, then halves the interval
	// between the last step that met the budget and the first that did
	// not, as ros2_benchmark's peak-throughput search does.
	SearchBisect = "bisect"
)

// Budget is what a step must meet: a quantile of a stage at most Limit.
type Budget struct {
	// Stage is the stage the quantile is of; it defaults to
	// latency-from-schedule, the end-to-end latency a robot sees at a
	// fixed rate.
	Stage string
	// Quantile is in (0, 1), e.g. 0.99.
	Quantile float64
	// Limit is the most the quantile may be.
	Limit time.Duration
}

// String writes the budget as ParseBudget reads it.
func (b Budget) String() string {
	s := "p" + strconv.FormatFloat(b.Quantile*100, 'f', -1, 64) + "=" + b.Limit.String()
	if b.Stage != "" && b.Stage != metrics.StageLatencyFromSchedule {
		s = b.Stage + ":" + s
	}
	return s
}

// ParseBudget reads "p99=50ms", "p99.9=0.2s" or "upload:p50=10ms".
func ParseBudget(s string) (Budget, error) {
	b := Budget{Stage: metrics.StageLatencyFromSchedule}
	rest := s
	if stage, q, ok := strings.Cut(s, ":"); ok {
		if !slices.Contains(metrics.StageNames(), stage) {
			return Budget{}, fmt.Errorf("budget %q: unknown stage %q", s, stage)
		}
		b.Stage, rest = stage, q
	}
	q, limit, ok := strings.Cut(rest, "=")
	p, perr := strconv.ParseFloat(strings.TrimPrefix(q, "p"), 64)
	d, derr := time.ParseDuration(limit)
	if !ok || !strings.HasPrefix(q, "p") || perr != nil || derr != nil || p <= 0 || p >= 100 || d <= 0 {
		return Budget{}, fmt.Errorf("budget %q: want pNN=DURATION, e.g. p99=50ms (or STAGE:p99=50ms)", s)
	}
	b.Quantile, b.Limit = p/100, d
	return b, nil
}

// SweepOptions configure a capacity sweep: steps of a fleet run with more
// edges, or a higher rate, each until it is stable, to find the most load
// that meets a latency budget.
type SweepOptions struct {
	// Fleet is what every step runs: its Names and Client.Rate are set
	// per step, Client.Iterations is ignored (a step runs until it is
	// stable). Its Config must know the names NamePrefix-0 … (see
	// network.Config.WithEdges).
	Fleet FleetOptions
	// NamePrefix names the edges of every step.
	NamePrefix string
	// Edges and Rates are the steps: edge counts at Rates[0] Hz each, or
	// rates (Hz per edge) with Edges[0] edges. One of them has a single
	// value.
	Edges []int
	Rates []float64
	// Budget and MaxLoss are what a step must meet: the budget's quantile,
	// and at most MaxLoss of the scheduled slots lost, failed or missed.
	Budget  Budget
	MaxLoss float64
	// A window lasts at least Window and WindowIterations records (they
	// default to DefaultWindow and DefaultWindowIterations). A step is
	// stable when its last StableWindows windows (default 3) agree within
	// Tolerance (default 10 %) on the achieved rate and the budget's
	// quantile; it gives up after MaxWindows (default 10) windows.
	Window           time.Duration
	WindowIterations int
	StableWindows    int
	Tolerance        float64
	MaxWindows       int
	// Search is SearchLinear (the default) or SearchBisect.
	Search string
	// Step, if set, is called with every step as it ends.
	Step func(SweepStep)
	// Log, if set, receives a line per window and per step.
	Log io.Writer
}

// SweepStep is one step of a sweep.
type SweepStep struct {
	// Index counts the steps run, from 0; Edges and Rate (per edge, Hz)
	// are the load, Offered = Edges × Rate.
	Index   int
	Edges   int
	Rate    float64
	Offered float64
	// Achieved is the rate of replies in the stable windows (per second,
	// all edges).
	Achieved float64
	// Summary pools the windows the step counts (the last StableWindows),
	// Result is its statistics; Windows how many windows it ran.
	Summary *metrics.Summary
	Result  metrics.Result
	Windows int
	// Stable says whether the counted windows agreed; Meets whether the
	// step met the budget (a step that is not stable does not); Why says
	// what it missed.
	Stable, Meets bool
	Why           string
	// Loss is the share of the counted windows' slots that were lost,
	// failed or missed.
	Loss float64
	// Edge results; Disconnected names the edges that stopped before the
	// step ended.
	EdgeResults  []EdgeResult
	Disconnected []string
	// CPU is this process's CPU time during the counted windows, per
	// second of them (1 = one core busy), and MaxRSS its peak resident
	// memory so far, in bytes. ServerCPU and ServerRSS are the server
	// process's, over the step, as it reported them (0 when not known; an
	// in-process server is in CPU).
	CPU, ServerCPU    float64
	MaxRSS, ServerRSS int64
	// Elapsed is the step's length.
	Elapsed time.Duration
}

// SweepResult is a whole sweep.
type SweepResult struct {
	// Steps in the order they ran.
	Steps []SweepStep
	// Knee is the index in Steps of the highest load that met the budget,
	// or -1 when none did; Over that of the lowest load above it that did
	// not, or -1.
	Knee, Over int
}

func (o *SweepOptions) defaults() error {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.WindowIterations <= 0 {
		o.WindowIterations = DefaultWindowIterations
	}
	if o.StableWindows <= 0 {
		o.StableWindows = DefaultStableWindows
	}
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.MaxWindows <= 0 {
		o.MaxWindows = DefaultMaxWindows
	}
	o.MaxWindows = max(o.MaxWindows, o.StableWindows)
	if o.Search == "" {
		o.Search = SearchLinear
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.NamePrefix == "" {
		o.NamePrefix = "edge"
	}
	switch {
	case len(o.Edges) == 0 || len(o.Rates) == 0:
		return errors.New("sweep: no steps: give edges and rates")
	case len(o.Edges) > 1 && len(o.Rates) > 1:
		return errors.New("sweep: sweep edges or rates, not both")
	case o.Search != SearchLinear && o.Search != SearchBisect:
		return fmt.Errorf("sweep: search %q: want %s or %s", o.Search, SearchLinear, SearchBisect)
	case o.Budget.Quantile <= 0 || o.Budget.Quantile >= 1 || o.Budget.Limit <= 0:
		return errors.New("sweep: no budget")
	case o.MaxLoss < 0 || o.MaxLoss > 1:
		return fmt.Errorf("sweep: max loss %g: want a share in [0, 1]", o.MaxLoss)
	}
	for _, e := range o.Edges {
		if e < 1 {
			return fmt.Errorf("sweep: %d edges: want at least 1", e)
		}
	}
	for _, r := range o.Rates {
		if !(r > 0) || math.IsInf(r, 0) {
			return fmt.Errorf("sweep: rate %g: want a positive rate", r)
		}
	}
	if o.Budget.Stage == "" {
		o.Budget.Stage = metrics.StageLatencyFromSchedule
	}
	return nil
}

// load is one step's load.
type load struct {
	edges int
	rate  float64
}

func (l load) offered() float64 { return float64(l.edges) * l.rate }

// Sweep runs the steps, each until it is stable, and finds the knee: the
// highest load that meets the budget. A step whose edges cannot all reach
// the server ends the sweep with that error; an edge that stops during a
// step is reported in the step and the others go on.
func Sweep(ctx context.Context, o SweepOptions) (SweepResult, error) {
	res := SweepResult{Knee: -1, Over: -1}
	if err := o.defaults(); err != nil {
		return res, err
	}
	var loads []load
	for _, e := range o.Edges {
		for _, r := range o.Rates {
			loads = append(loads, load{e, r})
		}
	}
	slices.SortStableFunc(loads, func(a, b load) int {
		return cmpFloat(a.offered(), b.offered())
	})
	run := func(l load) (SweepStep, error) {
		st, err := o.step(ctx, len(res.Steps), l)
		if err != nil {
			return st, err
		}
		res.Steps = append(res.Steps, st)
		if o.Step != nil {
			o.Step(st)
		}
		return st, nil
	}
	var pass, fail = -1, -1 // indexes into res.Steps
	for _, l := range loads {
		st, err := run(l)
		if err != nil {
			return res, err
		}
		if st.Meets {
			pass = len(res.Steps) - 1
			continue
		}
		fail = len(res.Steps) - 1
		break
	}
	if o.Search == SearchBisect && pass >= 0 && fail >= 0 {
		for range 8 {
			lo, hi := res.Steps[pass], res.Steps[fail]
			mid, ok := between(load{lo.Edges, lo.Rate}, load{hi.Edges, hi.Rate})
			if !ok || ctx.Err() != nil {
				break
			}
			st, err := run(mid)
			if err != nil {
				return res, err
			}
			if st.Meets {
				pass = len(res.Steps) - 1
			} else {
				fail = len(res.Steps) - 1
			}
		}
	}
	res.Knee, res.Over = pass, fail
	return res, ctx.Err()
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// between returns the load halfway between lo and hi: the middle edge
// count, or the geometric middle of two rates; false when they are as
// close as a sweep resolves (adjacent edge counts, rates within 5 %).
func between(lo, hi load) (load, bool) {
	if lo.edges != hi.edges {
		if hi.edges-lo.edges < 2 {
			return load{}, false
		}
		return load{(lo.edges + hi.edges) / 2, lo.rate}, true
	}
	if hi.rate/lo.rate < 1.05 {
		return load{}, false
	}
	return load{lo.edges, math.Round(math.Sqrt(lo.rate*hi.rate)*100) / 100}, true
}

// windowed collects a step's records into windows.
type windowed struct {
	mu      sync.Mutex
	cur     *metrics.Summary
	n       int
	period  time.Duration
	started time.Time
}

func (w *windowed) Write(r *metrics.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cur.Add(r)
	w.n++
	return nil
}

func (w *windowed) Close() error { return nil }

// cut closes the current window when it has lasted d and holds n records,
// and returns it with its length.
func (w *windowed) cut(d time.Duration, n int) (*metrics.Summary, time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	el := time.Since(w.started)
	if el < d || w.n < n {
		return nil, 0, false
	}
	s := w.cur
	w.cur, w.n, w.started = metrics.NewSummary(metrics.SummaryOptions{Period: w.period}), 0, time.Now()
	return s, el, true
}

// window is a closed window.
type window struct {
	sum  *metrics.Summary
	dur  time.Duration
	rate float64 // replies per second
	q    float64 // the budget's quantile, seconds
}

// step runs one load until it is stable or gives up.
func (o *SweepOptions) step(ctx context.Context, index int, l load) (SweepStep, error) {
	st := SweepStep{Index: index, Edges: l.edges, Rate: l.rate, Offered: l.offered()}
	period := time.Duration(float64(time.Second) / l.rate)
	w := &windowed{period: period, cur: metrics.NewSummary(metrics.SummaryOptions{Period: period}), started: time.Now()}
	f := o.Fleet
	f.Names = FleetNames(o.NamePrefix, l.edges)
	f.Client.Rate, f.Client.Iterations = l.rate, 0
	f.Shared = append(append([]metrics.Sink(nil), f.Shared...), w)
	fmt.Fprintf(o.Log, "sweep: step %d: %d edges × %g Hz = %g Hz offered\n", index, l.edges, l.rate, l.offered())

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	var fleetErr error
	start := time.Now()
	go func() {
		defer close(done)
		st.EdgeResults, fleetErr = Fleet(sctx, f)
	}()
	var windows []window
	var cpu0 time.Duration
	cpuAt := []time.Duration{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-done:
			break loop // every edge stopped (or could not start)
		case <-ctx.Done():
			stop()
			<-done
			return st, ctx.Err()
		case <-tick.C:
		}
		s, d, ok := w.cut(o.Window, o.WindowIterations)
		if !ok {
			continue
		}
		if len(windows) == 0 {
			cpu0 = processCPU()
		}
		cpuAt = append(cpuAt, processCPU())
		res := s.Result()
		win := window{sum: s, dur: d, rate: float64(res.Iterations.OK) / d.Seconds()}
		if q, ok := s.Quantile(o.Budget.Stage, o.Budget.Quantile); ok {
			win.q = q
		} else {
			win.q = math.Inf(1) // nothing came back
		}
		windows = append(windows, win)
		fmt.Fprintf(o.Log, "sweep: step %d window %d: %.1f replies/s, %s p%g %s\n", index, len(windows), win.rate,
			o.Budget.Stage, o.Budget.Quantile*100, fmtSeconds(win.q))
		if o.stable(windows) || len(windows) >= o.MaxWindows {
			break loop
		}
	}
	stop()
	<-done
	st.Elapsed = time.Since(start)
	if fleetErr != nil && errors.Is(fleetErr, ErrEdgesDown) {
		return st, fmt.Errorf("sweep: step %d (%d edges × %g Hz): %w", index, l.edges, l.rate, fleetErr)
	}
	for _, e := range st.EdgeResults {
		if e.Err != nil {
			st.Disconnected = append(st.Disconnected, e.Name)
		}
		if u := e.Result.ServerUsage; st.ServerCPU == 0 && u.CPUPerSecond() > 0 {
			st.ServerCPU, st.ServerRSS = u.CPUPerSecond(), u.MaxRSS
		}
	}
	st.Windows = len(windows)
	counted := windows[max(0, len(windows)-o.StableWindows):]
	st.Stable = len(windows) >= o.StableWindows && o.stable(windows)
	pooled := metrics.NewSummary(metrics.SummaryOptions{Period: period})
	var dur time.Duration
	for _, win := range counted {
		pooled.Merge(win.sum)
		dur += win.dur
	}
	st.Summary, st.Result = pooled, pooled.Result()
	n := st.Result.Iterations
	if dur > 0 {
		st.Achieved = float64(n.OK) / dur.Seconds()
	}
	if measured := n.Total - n.Warmup; measured > 0 {
		st.Loss = float64(n.Lost+n.Error+n.Missed) / float64(measured)
	}
	if len(counted) > 0 && dur > 0 {
		first := len(windows) - len(counted)
		c0 := cpu0
		if first > 0 {
			c0 = cpuAt[first-1]
		}
		st.CPU = (cpuAt[len(cpuAt)-1] - c0).Seconds() / dur.Seconds()
	}
	st.MaxRSS = maxRSS()
	q, qok := pooled.Quantile(o.Budget.Stage, o.Budget.Quantile)
	switch {
	case len(windows) == 0:
		st.Why = "no window completed (no replies)"
	case !st.Stable:
		st.Why = fmt.Sprintf("not stable after %d windows", len(windows))
	case !qok:
		st.Why = "no " + o.Budget.Stage + " values"
	case q > o.Budget.Limit.Seconds():
		st.Why = fmt.Sprintf("%s p%g %s > %s", o.Budget.Stage, o.Budget.Quantile*100, fmtSeconds(q), fmtSeconds(o.Budget.Limit.Seconds()))
	case st.Loss > o.MaxLoss:
		st.Why = fmt.Sprintf("loss %.2f %% > %.2f %%", 100*st.Loss, 100*o.MaxLoss)
	default:
		st.Meets = true
	}
	fmt.Fprintf(o.Log, "sweep: step %d: %s\n", index, stepVerdict(st))
	return st, nil
}

func stepVerdict(st SweepStep) string {
	if st.Meets {
		return fmt.Sprintf("meets the budget (%.1f of %.1f Hz achieved)", st.Achieved, st.Offered)
	}
	return "fails: " + st.Why
}

// stable reports whether the last StableWindows windows agree within
// Tolerance on the reply rate and on the budget's quantile; quantiles that
// differ by less than Tolerance of the budget's limit agree too (a p99 of a
// few hundred records jitters, and what matters is how far it is from the
// budget).
func (o *SweepOptions) stable(ws []window) bool {
	if len(ws) < o.StableWindows {
		return false
	}
	last := ws[len(ws)-o.StableWindows:]
	agree := func(get func(window) float64, abs float64) bool {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, w := range last {
			v := get(w)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if math.IsInf(hi, 1) || lo < 0 {
			return false
		}
		return hi <= lo*(1+o.Tolerance) || hi-lo <= abs
	}
	return agree(func(w window) float64 { return w.rate }, 0) &&
		agree(func(w window) float64 { return w.q }, o.Tolerance*o.Budget.Limit.Seconds())
}

func fmtSeconds(s float64) string {
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return "-"
	}
	return time.Duration(s * float64(time.Second)).Round(10 * time.Microsecond).String()
}

// Row returns the step as report's sweep table has it.
func (s SweepStep) Row() report.SweepRow {
	return report.SweepRow{
		Step: s.Index, Edges: s.Edges, Rate: s.Rate, Offered: s.Offered, Achieved: s.Achieved,
		Result: s.Result, Loss: s.Loss, Windows: s.Windows, Stable: s.Stable, Meets: s.Meets, Why: s.Why,
		CPU: s.CPU, MaxRSS: s.MaxRSS, ServerCPU: s.ServerCPU, ServerRSS: s.ServerRSS, Disconnected: s.Disconnected,
	}
}
