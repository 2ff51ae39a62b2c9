package view

import (
	"fmt"
	"math"
	"slices"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
	"github.com/peernet/peernet_go/peernet_go/report/stats"
)

// Options configure Build.
type Options struct {
	// Baseline is the index of the run the others are compared with.
	Baseline int
	// Resamples is the number of bootstrap draws per interval (default
	// 1000); Seed seeds them, so the same runs give the same report.
	Resamples int
	Seed      uint64
	// MaxPoints bounds the points of each timeline series (default 2000,
	// chosen by LTTB).
	MaxPoints int
}

// Percentiles are the quantiles of the percentile plots and tables, from
// p0 to p99.99.
var Percentiles = []float64{0, 0.1, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999, 0.9995, 0.9999}

// Report is what a report shows; its JSON form is the --format json output.
type Report struct {
	Runs        []RunView    `json:"runs"`
	Baseline    string       `json:"baseline,omitempty"`
	Comparisons []Comparison `json:"comparisons,omitempty"`
}

// RunView is one run's part of the report.
type RunView struct {
	Name   string               `json:"name"`
	Source string               `json:"source"`
	About  [][2]string          `json:"about"`
	Counts metrics.Counts       `json:"iterations"`
	Warn   []string             `json:"warnings,omitempty"`
	Bound  float64              `json:"clock-bound"`
	Stages []StageView          `json:"stages"`
	Other  []metrics.StageStats `json:"other"`
	Topics map[string]int       `json:"topics,omitempty"`
	// Timeline is rtt, upload and download against the iteration number,
	// downsampled, with rolling p50/p99 of rtt and the iterations that
	// were lost or missed.
	Timeline Timeline `json:"timeline"`
}

// StageView is one time stage of a run, in seconds.
type StageView struct {
	Name  string    `json:"name"`
	Count int       `json:"count"`
	Mean  float64   `json:"mean"`
	Max   float64   `json:"max"`
	Q     []float64 `json:"quantiles"` // at Percentiles
	// sorted values, for the CDF and the comparisons
	sorted []float64
}

// P returns the stage's q-quantile.
func (s StageView) P(q float64) float64 { return stats.Quantile(s.sorted, q) }

// Timeline is the series of the timeline chart.
type Timeline struct {
	Series  []Series  `json:"series"`
	Rolling []Series  `json:"rolling"`
	Lost    []float64 `json:"lost"`   // iteration numbers
	Missed  []float64 `json:"missed"` // iteration numbers
}

// Series is a named line of points.
type Series struct {
	Name string    `json:"name"`
	X    []float64 `json:"x"`
	Y    []float64 `json:"y"`
}

// Comparison is one stage of every run against the baseline.
type Comparison struct {
	Stage string     `json:"stage"`
	Runs  []RunStage `json:"runs"`
}

// RunStage is one run's row of a comparison.
type RunStage struct {
	Name string `json:"name"`
	// Quantiles are its p50, p90 and p99.
	Quantiles [3]float64 `json:"p50-p90-p99"`
	// Median and Tail are the differences of its p50 and p99 from the
	// baseline's, with 95 % bootstrap intervals; nil for the baseline.
	Median *stats.Interval `json:"p50-diff,omitempty"`
	Tail   *stats.Interval `json:"p99-diff,omitempty"`
	// Verdict says the median's change in words.
	Verdict string `json:"verdict,omitempty"`
}

// A change of a median smaller than minChange of the baseline's, or than
// minDelta, is reported as no significant change however certain it is:
// below minDelta it is the clocks' resolution, not the system.
const (
	minChange = 0.05
	minDelta  = 1e-6
)

// Build makes the report of runs.
func Build(runs []*Run, o Options) *Report {
	if o.Resamples == 0 {
		o.Resamples = 1000
	}
	if o.MaxPoints == 0 {
		o.MaxPoints = 2000
	}
	rep := &Report{}
	for _, r := range runs {
		rep.Runs = append(rep.Runs, buildRun(r, o))
	}
	if len(runs) < 2 || o.Baseline < 0 || o.Baseline >= len(runs) {
		return rep
	}
	base := &rep.Runs[o.Baseline]
	rep.Baseline = base.Name
	for si, name := range TimeStages {
		bs, ok := base.stage(name)
		if !ok {
			continue
		}
		c := Comparison{Stage: name}
		for i := range rep.Runs {
			rs, ok := rep.Runs[i].stage(name)
			if !ok {
				continue
			}
			row := RunStage{Name: rep.Runs[i].Name, Quantiles: [3]float64{rs.P(0.5), rs.P(0.9), rs.P(0.99)}}
			if i != o.Baseline {
				seed := o.Seed + uint64(si*1000+i)
				a, b := stats.Subsample(bs.sorted, 20000, seed), stats.Subsample(rs.sorted, 20000, seed+1)
				a, b = sortedCopy(a, bs.sorted), sortedCopy(b, rs.sorted)
				med := stats.QuantileDiff(a, b, 0.5, 0.95, o.Resamples, seed)
				tail := stats.QuantileDiff(a, b, 0.99, 0.95, o.Resamples, seed+2)
				med.Diff, tail.Diff = rs.P(0.5)-bs.P(0.5), rs.P(0.99)-bs.P(0.99)
				row.Median, row.Tail = &med, &tail
				row.Verdict = verdict(name, bs.P(0.5), med)
			}
			c.Runs = append(c.Runs, row)
		}
		rep.Comparisons = append(rep.Comparisons, c)
	}
	return rep
}

// sortedCopy sorts a subsample; the whole sample is already sorted.
func sortedCopy(sub, whole []float64) []float64 {
	if len(sub) == len(whole) {
		return whole
	}
	slices.Sort(sub)
	return sub
}

// verdict says in words how a stage's median changed: the change, its
// share of the baseline, the interval, and slower, faster or no
// significant change (the interval holds zero, or the change is under 5 %
// or 1 µs).
func verdict(stage string, base float64, iv stats.Interval) string {
	rel := math.NaN()
	if base != 0 {
		rel = iv.Diff / math.Abs(base)
	}
	word := "no significant change"
	if !iv.Contains(0) && !(math.Abs(rel) < minChange) && math.Abs(iv.Diff) >= minDelta {
		word = "slower"
		if iv.Diff < 0 {
			word = "faster"
		}
	}
	pct := ""
	switch {
	case math.IsNaN(rel):
	case math.Abs(rel) < 0.005:
		pct = " (±0 %)"
	default:
		pct = fmt.Sprintf(" (%+.0f %%)", rel*100)
	}
	return fmt.Sprintf("%s %s%s, 95 %% CI [%s, %s] — %s", stage, signed(iv.Diff), pct, signed(iv.Lo), signed(iv.Hi), word)
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + window.Seconds(v)
	}
	return "−" + window.Seconds(-v)
}

// stage returns the run's named time stage.
func (v *RunView) stage(name string) (StageView, bool) {
	for _, s := range v.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return StageView{}, false
}

func buildRun(r *Run, o Options) RunView {
	v := RunView{Name: r.Name, Source: r.Source, Counts: r.Result.Iterations, Topics: r.Topics}
	if len(v.Topics) == 0 {
		v.Topics = nil
	}
	v.About, v.Warn = about(r)
	for _, b := range r.Bound {
		if !math.IsNaN(b) {
			v.Bound = max(v.Bound, b)
		}
	}
	for _, name := range TimeStages {
		col := r.Values[name]
		sorted := make([]float64, 0, len(col))
		var sum float64
		for _, x := range col {
			if !math.IsNaN(x) {
				sorted = append(sorted, x)
				sum += x
			}
		}
		slices.Sort(sorted)
		if len(sorted) == 0 || sorted[0] == 0 && sorted[len(sorted)-1] == 0 {
			continue // not measured: a data.csv without the column reads as zeros
		}
		s := StageView{Name: name, Count: len(sorted), Mean: sum / float64(len(sorted)), Max: sorted[len(sorted)-1], sorted: sorted}
		for _, q := range Percentiles {
			s.Q = append(s.Q, stats.Quantile(sorted, q))
		}
		v.Stages = append(v.Stages, s)
	}
	for _, st := range r.Result.Stages {
		if st.Unit != metrics.Seconds {
			v.Other = append(v.Other, st)
		}
	}
	v.Timeline = timeline(r, o.MaxPoints)
	return v
}

// timeline downsamples rtt, upload and download with LTTB and computes
// rtt's rolling p50 and p99 over 100 spans of the run.
func timeline(r *Run, maxPoints int) Timeline {
	var t Timeline
	for i, st := range r.Status {
		switch st {
		case metrics.Lost, metrics.Error:
			t.Lost = append(t.Lost, float64(r.Iteration[i]))
		case metrics.Missed:
			t.Missed = append(t.Missed, float64(r.Iteration[i]))
		}
	}
	t.Lost, t.Missed = thin(t.Lost, maxPoints), thin(t.Missed, maxPoints)
	for _, name := range []string{metrics.StageRTT, metrics.StageUpload, metrics.StageDownload} {
		col := r.column(name)
		var xs, ys []float64
		for i, y := range col {
			if !math.IsNaN(y) {
				xs, ys = append(xs, float64(r.Iteration[i])), append(ys, y)
			}
		}
		if len(xs) == 0 {
			continue
		}
		s := Series{Name: name}
		for _, k := range stats.LTTB(xs, ys, maxPoints) {
			s.X, s.Y = append(s.X, xs[k]), append(s.Y, ys[k])
		}
		t.Series = append(t.Series, s)
		if name != metrics.StageRTT {
			continue
		}
		spans := min(100, len(xs))
		p50, p99 := Series{Name: "rtt p50"}, Series{Name: "rtt p99"}
		for k := range spans {
			lo, hi := k*len(xs)/spans, (k+1)*len(xs)/spans
			part := slices.Clone(ys[lo:hi])
			slices.Sort(part)
			mid := (xs[lo] + xs[hi-1]) / 2
			p50.X, p50.Y = append(p50.X, mid), append(p50.Y, stats.Quantile(part, 0.5))
			p99.X, p99.Y = append(p99.X, mid), append(p99.Y, stats.Quantile(part, 0.99))
		}
		t.Rolling = []Series{p50, p99}
	}
	return t
}

// thin keeps at most n evenly spread values.
func thin(v []float64, n int) []float64 {
	if len(v) <= n {
		return v
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = v[i*len(v)/n]
	}
	return out
}
