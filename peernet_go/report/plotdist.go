package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// Files of the distribution plots, each written as .png and .svg.
const (
	PercentilesFile = "percentiles"
	CDFFile         = "cdf"
	BreakdownFile   = "breakdown"
)

// distStages are the time stages the distribution plots draw, in loop
// order, then the round trip.
var distStages = []string{
	metrics.StageSensing, metrics.StageUpload, metrics.StageQueue, metrics.StagePreprocessing,
	metrics.StageInference, metrics.StagePostprocessing, metrics.StageDownload, metrics.StageRTT,
}

// stagePalette colours the stages of the distribution plots.
var stagePalette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0x33, 0x33, 0x33, 0xff},
}

// percentileLevels are the quantiles of the percentile plot.
var percentileLevels = []float64{0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999}

// saveBoth writes pl as dir/base.png and dir/base.svg.
func saveBoth(pl *plot.Plot, dir, base string) ([]string, error) {
	var paths []string
	for _, ext := range []string{"png", "svg"} {
		path := filepath.Join(dir, base+"."+ext)
		if err := savePlot(pl, path, ext); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// stagesWithValues returns the distribution stages the run measured (a
// stage that is zero throughout, as a data.csv without its column reads,
// is left out).
func (p *Plotter) stagesWithValues(res metrics.Result) []metrics.StageStats {
	var out []metrics.StageStats
	for _, name := range distStages {
		if st, ok := res.Stage(name); ok && st.Max > 0 {
			out = append(out, st)
		}
	}
	return out
}

// percentilePlot draws every stage's value against its percentile on
// HdrHistogram's axis, 1/(1−p), log-log, so the tail is as readable as the
// median.
func (p *Plotter) percentilePlot(stages []metrics.StageStats) (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = "Latency by percentile, per stage"
	pl.X.Label.Text = "percentile"
	pl.Y.Label.Text = "time (s, log)"
	pl.X.Scale, pl.Y.Scale = plot.LogScale{}, plot.LogScale{}
	pl.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"}, {Value: 10, Label: "90%"},
		{Value: 100, Label: "99%"}, {Value: 1000, Label: "99.9%"}, {Value: 1e4, Label: "99.99%"}})
	pl.Y.Tick.Marker = secondsTicks{}
	pl.Add(plotter.NewGrid())
	lines := 0
	lo, hi := math.Inf(1), 0.0
	for i, st := range stages {
		var pts plotter.XYs
		for _, q := range percentileLevels {
			v, ok := p.sum.Quantile(st.Name, q)
			if ok && v > 0 {
				pts = append(pts, plotter.XY{X: 1 / (1 - q), Y: v})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(pts) < 2 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("report: percentile plot: %w", err)
		}
		l.Color, l.Width = stagePalette[i%len(stagePalette)], vg.Points(1.5)
		pl.Add(l)
		pl.Legend.Add(st.Name, l)
		lines++
	}
	if lines == 0 {
		return nil, nil // nothing positive to draw on a log axis
	}
	// A log axis needs a positive range, also when every value is equal.
	pl.Y.Min, pl.Y.Max = lo/1.5, hi*1.5
	pl.X.Min, pl.X.Max = 1, 1e4
	pl.Legend.Top, pl.Legend.Left = true, true
	return pl, nil
}

// cdfPlot draws every stage's CDF on a log time axis.
func (p *Plotter) cdfPlot(stages []metrics.StageStats) (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = "Cumulative distribution, per stage"
	pl.X.Label.Text = "time (s, log)"
	pl.Y.Label.Text = "share of iterations"
	pl.X.Scale = plot.LogScale{}
	pl.X.Tick.Marker = secondsTicks{}
	pl.Add(plotter.NewGrid())
	lines := 0
	lo, hi := math.Inf(1), 0.0
	for i, st := range stages {
		var pts plotter.XYs
		for k := 0; k <= 200; k++ {
			q := float64(k) / 200
			if v, ok := p.sum.Quantile(st.Name, q); ok && v > 0 {
				pts = append(pts, plotter.XY{X: v, Y: q})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(pts) < 2 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("report: CDF plot: %w", err)
		}
		l.Color, l.Width = stagePalette[i%len(stagePalette)], vg.Points(1.5)
		pl.Add(l)
		pl.Legend.Add(st.Name, l)
		lines++
	}
	if lines == 0 {
		return nil, nil // nothing positive to draw on a log axis
	}
	pl.X.Min, pl.X.Max = lo/1.5, hi*1.5
	pl.Y.Min, pl.Y.Max = 0, 1
	pl.Legend.Top, pl.Legend.Left = true, true
	return pl, nil
}

// breakdownPlot stacks the stages of one iteration at their p50 and p99.
func (p *Plotter) breakdownPlot(stages []metrics.StageStats) (*plot.Plot, error) {
	pl := plot.New()
	var top float64
	parts := stages[:0:0]
	for _, st := range stages {
		if st.Name != metrics.StageRTT {
			parts = append(parts, st)
			top += st.P99
		}
	}
	if !(top > 0) {
		return nil, nil
	}
	k, unit := axisUnit(metrics.Seconds, top)
	pl.Title.Text = "Where the time of one iteration goes (each stage's own p50 and p99, stacked)"
	pl.X.Label.Text = "time (" + unit + ")"
	pl.NominalY("p50", "p99")
	var below *plotter.BarChart
	for i, st := range parts {
		bars, err := plotter.NewBarChart(plotter.Values{st.P50 / k, st.P99 / k}, vg.Points(100))
		if err != nil {
			return nil, fmt.Errorf("report: breakdown plot: %w", err)
		}
		bars.Horizontal = true
		bars.Color = stagePalette[i%len(stagePalette)]
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		pl.Add(bars)
		pl.Legend.Add(st.Name, bars)
	}
	pl.Legend.Top = true
	pl.X.Min, pl.X.Max = 0, top/k*1.35 // room for the legend at the right
	return pl, nil
}

// secondsTicks labels a log time axis at each decade in s, ms, µs or ns.
type secondsTicks struct{}

// Ticks implements plot.Ticker.
func (secondsTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		if v < lo/1.0001 || v > hi*1.0001 {
			continue
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strings.TrimSuffix(FormatValue(v, metrics.Seconds), ".0")})
	}
	if len(ticks) < 2 {
		return plot.LogTicks{}.Ticks(lo, hi)
	}
	return ticks
}

// countTicks are the default ticks with the fractional ones of a count
// axis left out, so that a histogram of few iterations reads 0, 1, 2.
type countTicks struct{}

// Ticks implements plot.Ticker.
func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value == math.Trunc(t.Value) {
			out = append(out, t)
		}
	}
	if len(out) < 2 {
		for v := math.Ceil(lo); v <= hi; v++ {
			out = append(out, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
		}
	}
	return out
}
