package report

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// MaxSeriesPoints is the most points a time-series plot draws. Longer runs
// are reduced to buckets of consecutive iterations, drawn as their mean and
// max.
const MaxSeriesPoints = 2000

// histogramPlot is one histogram PNG.
type histogramPlot struct {
	stage, file, title string
}

// histogramPlots are PEERNet's six histograms (its file names) plus RTT.
var histogramPlots = []histogramPlot{
	{metrics.StageSensing, "sensing-time.png", "Sensing time"},
	{metrics.StageUpload, "upload-time.png", "Upload time (one-way)"},
	{metrics.StageInference, "inference-time.png", "Inference time"},
	{metrics.StageDownload, "download-time.png", "Download time (one-way)"},
	{metrics.StageUploadThroughput, "upload-throughput.png", "Upload throughput"},
	{metrics.StageDownloadThroughput, "download-throughput.png", "Download throughput"},
	{metrics.StageRTT, "rtt-time.png", "Round-trip time"},
}

// SeriesFile is the name of the per-iteration RTT plot.
const SeriesFile = "rtt-series.png"

// Plotter is a Sink that gathers what the plots need, in memory that does
// not grow with the run: HDR histograms per stage and an RTT series reduced
// to at most MaxSeriesPoints buckets. Warmup records are left out, as
// PEERNet left out its first five rows. It is not safe for concurrent use:
// call Save after the last Write.
type Plotter struct {
	sum    *metrics.Summary
	series series
}

var _ metrics.Sink = (*Plotter)(nil)

// NewPlotter returns an empty Plotter.
func NewPlotter() *Plotter {
	return &Plotter{sum: metrics.NewSummary(metrics.SummaryOptions{}), series: series{stride: 1}}
}

// Write adds one record.
func (p *Plotter) Write(r *metrics.Record) error {
	if r.Warmup {
		return nil
	}
	p.sum.Add(r)
	p.series.add(r)
	return nil
}

// Close does nothing; call Save to draw.
func (p *Plotter) Close() error { return nil }

// Save draws the plots as PNG files in dir, creating it, and returns their
// paths. Stages without values are skipped.
func (p *Plotter) Save(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: plots: %w", err)
	}
	res := p.sum.Result()
	var paths []string
	for _, hp := range histogramPlots {
		st, ok := res.Stage(hp.stage)
		if !ok {
			continue
		}
		pl, err := p.histogram(hp, st)
		if err != nil {
			return paths, err
		}
		path := filepath.Join(dir, hp.file)
		if err := savePNG(pl, path); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	if stages := p.stagesWithValues(res); len(stages) > 0 {
		for _, d := range []struct {
			base string
			draw func([]metrics.StageStats) (*plot.Plot, error)
		}{{PercentilesFile, p.percentilePlot}, {CDFFile, p.cdfPlot}, {BreakdownFile, p.breakdownPlot}} {
			pl, err := d.draw(stages)
			if err != nil || pl == nil {
				if err != nil {
					return paths, err
				}
				continue
			}
			saved, err := saveBoth(pl, dir, d.base)
			paths = append(paths, saved...)
			if err != nil {
				return paths, err
			}
		}
	}
	if len(p.series.buckets) > 0 {
		top, _ := p.sum.Quantile(metrics.StageRTT, 0.999)
		pl, err := p.series.plot(top)
		if err != nil {
			return paths, err
		}
		path := filepath.Join(dir, SeriesFile)
		if err := savePNG(pl, path); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func savePNG(pl *plot.Plot, path string) error { return savePlot(pl, path, "png") }

// savePlot writes pl to path in format (png, svg).
func savePlot(pl *plot.Plot, path, format string) error {
	wt, err := pl.WriterTo(8*vg.Inch, 5*vg.Inch, format)
	if err != nil {
		return fmt.Errorf("report: drawing %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

// axisUnit picks a display unit for values up to about hi.
func axisUnit(u metrics.Unit, hi float64) (scale float64, name string) {
	var steps []unitStep
	switch u {
	case metrics.Seconds:
		steps = []unitStep{{1, "s"}, {1e-3, "ms"}, {1e-6, "µs"}, {1e-9, "ns"}}
	case metrics.Bytes:
		steps = []unitStep{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}, {1, "B"}}
	case metrics.BitsPerSecond:
		steps = []unitStep{{1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}, {1, "bit/s"}}
	default:
		return 1, string(u)
	}
	s := steps[len(steps)-1]
	for _, st := range steps {
		if hi >= st.size {
			s = st
			break
		}
	}
	return s.size, s.name
}

var (
	barColor    = color.RGBA{R: 0x44, G: 0x77, B: 0xaa, A: 0xff}
	meanColor   = color.RGBA{R: 0x22, G: 0x55, B: 0x99, A: 0xff}
	maxColor    = color.RGBA{R: 0xaa, G: 0xbb, B: 0xdd, A: 0xff}
	lostColor   = color.RGBA{R: 0xcc, G: 0x33, B: 0x11, A: 0xff}
	histBinsMax = 60
)

// histogram draws one stage over [min, max], or over [min, p99.9] when the
// top 0.1 % would stretch the axis more than twofold, saying so.
func (p *Plotter) histogram(hp histogramPlot, st metrics.StageStats) (*plot.Plot, error) {
	lo, hi := st.Min, st.Max
	title := fmt.Sprintf("%s — %d iterations, p50 %s, p99 %s", hp.title, st.Count,
		FormatValue(st.P50, st.Unit), FormatValue(st.P99, st.Unit))
	if p999, ok := p.sum.Quantile(hp.stage, 0.999); ok && hi-p999 > p999-lo {
		hi = p999
	}
	n := min(histBinsMax, max(10, int(math.Sqrt(float64(st.Count)))))
	if hi == lo {
		n = 1
	}
	counts, err := p.sum.Bins(hp.stage, lo, hi, n)
	if err != nil {
		return nil, fmt.Errorf("report: plotting %s: %w", hp.stage, err)
	}
	var shown int64
	for _, c := range counts {
		shown += c
	}
	if left := st.Count - shown; left > 0 {
		title += fmt.Sprintf("\n%d above %s not shown", left, FormatValue(hi, st.Unit))
	}
	k, unit := axisUnit(st.Unit, math.Max(math.Abs(lo), math.Abs(hi)))
	w := (hi - lo) / float64(n)
	if w == 0 {
		w = math.Max(math.Abs(lo)*0.01, 1e-9)
		lo -= w / 2
	}
	bins := make([]plotter.HistogramBin, n)
	for i, c := range counts {
		bins[i] = plotter.HistogramBin{Min: (lo + float64(i)*w) / k, Max: (lo + float64(i+1)*w) / k, Weight: float64(c)}
	}
	h := &plotter.Histogram{Bins: bins, Width: w / k, FillColor: barColor, LineStyle: plotter.DefaultLineStyle}
	h.LineStyle.Width = vg.Points(0.5)
	h.LineStyle.Color = color.White

	pl := plot.New()
	pl.Title.Text = title
	pl.X.Label.Text = fmt.Sprintf("%s (%s)", hp.title, unit)
	pl.Y.Label.Text = "iterations"
	pl.Y.Tick.Marker = countTicks{}
	pl.Add(plotter.NewGrid())
	pl.Add(h)
	return pl, nil
}

// series is the RTT per iteration, reduced to at most MaxSeriesPoints
// buckets of stride consecutive records each: when full, neighbouring
// buckets merge and the stride doubles.
type series struct {
	stride  int
	buckets []bucket
}

type bucket struct {
	first, last int // iterations
	n, lost     int
	sum, max    float64 // RTT seconds
}

func (s *series) add(r *metrics.Record) {
	if n := len(s.buckets); n == 0 || s.full(n-1) {
		if n == MaxSeriesPoints {
			s.halve()
		}
		if n := len(s.buckets); n == 0 || s.full(n-1) {
			s.buckets = append(s.buckets, bucket{first: r.Iteration})
		}
	}
	b := &s.buckets[len(s.buckets)-1]
	b.last = r.Iteration
	if r.Status != metrics.OK {
		b.lost++
		return
	}
	v := r.RTT.Seconds()
	if b.n == 0 || v > b.max {
		b.max = v
	}
	b.n++
	b.sum += v
}

func (s *series) full(i int) bool { return s.buckets[i].n+s.buckets[i].lost >= s.stride }

// halve merges neighbouring buckets and doubles the stride.
func (s *series) halve() {
	out := s.buckets[:0]
	for i := 0; i < len(s.buckets); i += 2 {
		b := s.buckets[i]
		if i+1 < len(s.buckets) {
			c := s.buckets[i+1]
			b.last = c.last
			b.lost += c.lost
			b.sum += c.sum
			if c.n > 0 && (b.n == 0 || c.max > b.max) {
				b.max = c.max
			}
			b.n += c.n
		}
		out = append(out, b)
	}
	s.buckets = out
	s.stride *= 2
}

// plot draws the series. When its largest value exceeds twice p999 (the
// RTT's 99.9th percentile), the axis stops at 1.2·p999 and higher points are
// drawn on that edge, so that a few outliers do not flatten the rest.
func (s *series) plot(p999 float64) (*plot.Plot, error) {
	var hi float64
	for _, b := range s.buckets {
		hi = math.Max(hi, b.max)
	}
	clipped := ""
	if p999 > 0 && hi > 2*p999 {
		hi = 1.2 * p999
	}
	k, unit := axisUnit(metrics.Seconds, hi)
	var means, maxes, lost plotter.XYs
	for _, b := range s.buckets {
		x := float64(b.first+b.last) / 2
		if b.n > 0 {
			mean, mx := b.sum/float64(b.n), b.max
			if mx > hi || mean > hi {
				clipped = fmt.Sprintf("\nvalues above %s drawn at the top edge", FormatValue(hi, metrics.Seconds))
			}
			means = append(means, plotter.XY{X: x, Y: math.Min(mean, hi) / k})
			maxes = append(maxes, plotter.XY{X: x, Y: math.Min(mx, hi) / k})
		}
		if b.lost > 0 {
			lost = append(lost, plotter.XY{X: x, Y: 0})
		}
	}
	pl := plot.New()
	pl.X.Label.Text = "iteration"
	pl.Y.Label.Text = fmt.Sprintf("round-trip time (%s)", unit)
	pl.Add(plotter.NewGrid())
	if s.stride == 1 {
		pl.Title.Text = "Round-trip time per iteration"
		if len(means) > 0 {
			sc, err := plotter.NewScatter(means)
			if err != nil {
				return nil, fmt.Errorf("report: plotting RTT series: %w", err)
			}
			sc.GlyphStyle.Color, sc.GlyphStyle.Radius = meanColor, vg.Points(1.2)
			pl.Add(sc)
		}
	} else {
		// Points, not lines: a jagged line of thousands of vertices costs
		// the rasterizer seconds, points cost milliseconds.
		pl.Title.Text = fmt.Sprintf("Round-trip time per iteration (mean and max of every %d)", s.stride)
		for _, l := range []struct {
			xy    plotter.XYs
			c     color.Color
			label string
		}{{maxes, maxColor, "max"}, {means, meanColor, "mean"}} {
			if len(l.xy) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(l.xy)
			if err != nil {
				return nil, fmt.Errorf("report: plotting RTT series: %w", err)
			}
			sc.GlyphStyle.Color, sc.GlyphStyle.Radius = l.c, vg.Points(1)
			pl.Add(sc)
			pl.Legend.Add(l.label, sc)
		}
	}
	if len(lost) > 0 {
		sc, err := plotter.NewScatter(lost)
		if err != nil {
			return nil, fmt.Errorf("report: plotting RTT series: %w", err)
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = lostColor, draw.CrossGlyph{}, vg.Points(3)
		pl.Add(sc)
		pl.Legend.Add("lost or failed", sc)
	}
	pl.Title.Text += clipped
	pl.Legend.Top = true
	pl.Y.Min = 0
	if clipped != "" {
		pl.Y.Max = hi / k
	}
	return pl, nil
}

// PlotDir reads dir/data.csv and writes the plots under dir/plots. Rows that
// cannot be read are skipped; if there are any, the plots are still written
// and the error returned says how many were skipped and why the first was.
func PlotDir(dir string) error {
	path := filepath.Join(dir, metrics.DataCSV)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("report: plot: %w", err)
	}
	defer f.Close()
	p := NewPlotter()
	var skipped int
	var first error
	for rec, err := range metrics.ReadCSV(f) {
		if err != nil {
			var ce *metrics.CSVError
			if !errors.As(err, &ce) {
				return fmt.Errorf("report: plot %s: %w", path, err)
			}
			if skipped++; first == nil {
				first = err
			}
			continue
		}
		_ = p.Write(rec)
	}
	if _, err := p.Save(filepath.Join(dir, metrics.PlotsDir)); err != nil {
		return err
	}
	if skipped > 0 {
		return fmt.Errorf("report: plot %s: skipped %d bad rows, the first: %w", path, skipped, first)
	}
	return nil
}
