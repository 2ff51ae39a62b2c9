package view

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
)

// palette colours the stages and the runs.
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// stageColor gives each time stage its colour in every chart.
func stageColor(name string) string {
	for i, s := range TimeStages {
		if s == name {
			return palette[i%len(palette)]
		}
	}
	return "#555"
}

// svg collects the elements of one chart.
type svg struct {
	b    strings.Builder
	w, h int
}

func newSVG(name string, w, h int, title string) *svg {
	s := &svg{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg class="chart" data-chart="%s" viewBox="0 0 %d %d" width="%d" height="%d" role="img" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		template.HTMLEscapeString(name), w, h, w, h, template.HTMLEscapeString(title))
	return s
}

func (s *svg) add(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func (s *svg) text(x, y float64, anchor, class, t string) {
	s.add(`<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, template.HTMLEscapeString(t))
}

func (s *svg) html() template.HTML {
	s.b.WriteString("</svg>")
	return template.HTML(s.b.String()) //nolint:gosec // built from escaped text and numbers
}

// plot is the drawing area of an x/y chart and its scales.
type plot struct {
	x0, y0, x1, y1 float64 // pixels: left, top, right, bottom
	xmin, xmax     float64
	ymin, ymax     float64
	xlog           bool
}

func (p plot) px(x float64) float64 {
	if p.xlog {
		x, p.xmin, p.xmax = math.Log10(x), math.Log10(p.xmin), math.Log10(p.xmax)
	}
	if p.xmax == p.xmin {
		return p.x0
	}
	return p.x0 + (x-p.xmin)/(p.xmax-p.xmin)*(p.x1-p.x0)
}

func (p plot) py(y float64) float64 {
	if p.ymax == p.ymin {
		return p.y1
	}
	return p.y1 - (y-p.ymin)/(p.ymax-p.ymin)*(p.y1-p.y0)
}

// polyline draws (x, y) points, skipping NaNs.
func (s *svg) polyline(p plot, xs, ys []float64, color string, width float64, dash string) {
	var b strings.Builder
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsNaN(xs[i]) {
			continue
		}
		fmt.Fprintf(&b, "%.1f,%.1f ", p.px(xs[i]), p.py(math.Min(ys[i], p.ymax)))
	}
	extra := ""
	if dash != "" {
		extra = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	s.add(`<polyline fill="none" stroke="%s" stroke-width="%.1f"%s points="%s"/>`, color, width, extra, strings.TrimSpace(b.String()))
}

// axes draws the frame, y ticks in seconds and the given x ticks.
func (s *svg) axes(p plot, xticks []float64, xlabel func(float64) string, xtitle string) {
	s.add(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="frame"/>`, p.x0, p.y0, p.x1-p.x0, p.y1-p.y0)
	for k := 0; k <= 4; k++ {
		y := p.ymin + (p.ymax-p.ymin)*float64(k)/4
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, p.x0, p.x1, p.py(y), p.py(y))
		s.text(p.x0-4, p.py(y)+4, "end", "tick", window.Seconds(y))
	}
	for _, x := range xticks {
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, p.px(x), p.px(x), p.y0, p.y1)
		s.text(p.px(x), p.y1+14, "middle", "tick", xlabel(x))
	}
	s.text((p.x0+p.x1)/2, p.y1+30, "middle", "axis", xtitle)
}

// legend draws coloured names in a row at the top.
func (s *svg) legend(x, y float64, names, colors []string) {
	for i, n := range names {
		s.add(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, x, y-9, colors[i])
		s.text(x+14, y, "start", "legend", n)
		x += 22 + 6.5*float64(len([]rune(n)))
	}
}

// breakdownChart draws where one iteration's time goes: per-stage p50 and
// p99 stacked, with the clock bound on the one-way delays.
func breakdownChart(v *RunView) template.HTML {
	const w, h = 860, 150
	s := newSVG("breakdown", w, h, "stage breakdown of "+v.Name)
	var names, colors []string
	for _, q := range []struct {
		label string
		q     float64
		y     float64
	}{{"p50", 0.5, 40}, {"p99", 0.99, 90}} {
		total := 0.0
		var segs []StageView
		for _, name := range breakdown {
			if st, ok := v.stage(name); ok {
				segs = append(segs, st)
				total += math.Max(st.P(q.q), 0)
			}
		}
		if total <= 0 {
			continue
		}
		p := plot{x0: 50, x1: w - 90, xmin: 0, xmax: total}
		s.text(44, q.y+15, "end", "axis", q.label)
		x := 0.0
		for _, st := range segs {
			d := math.Max(st.P(q.q), 0)
			s.add(`<rect x="%.1f" y="%.1f" width="%.2f" height="22" fill="%s"><title>%s %s %s</title></rect>`,
				p.px(x), q.y, p.px(x+d)-p.px(x), stageColor(st.Name), st.Name, q.label, window.Seconds(d))
			if (st.Name == metrics.StageUpload || st.Name == metrics.StageDownload) && v.Bound > 0 {
				e := p.px(x + d)
				bw := math.Min(p.px(v.Bound)-p.px(0), 200)
				s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="bound"/>`, e-bw, e+bw, q.y+11, q.y+11)
			}
			x += d
		}
		s.text(float64(w-86), q.y+15, "start", "axis", window.Seconds(total))
	}
	for _, name := range breakdown {
		if _, ok := v.stage(name); ok {
			names, colors = append(names, name), append(colors, stageColor(name))
		}
	}
	if v.Bound > 0 {
		names, colors = append(names, "± clock bound"), append(colors, "#222")
	}
	s.legend(50, 16, names, colors)
	return s.html()
}

// curve is one run's line in a multi-run chart.
type curve struct {
	name  string
	stage StageView
	color string
}

// percentileChart plots value against 1/(1−p) on a log axis, p0 … p99.99,
// HdrHistogram's percentile distribution, for one stage of every run.
func percentileChart(stage string, cs []curve) template.HTML {
	const w, h = 420, 250
	s := newSVG("percentiles-"+stage, w, h, stage+" percentile distribution")
	p := plot{x0: 64, y0: 24, x1: w - 28, y1: h - 44, xmin: 1, xmax: 1e4, xlog: true}
	for _, c := range cs {
		p.ymax = math.Max(p.ymax, c.stage.Q[len(c.stage.Q)-1])
		p.ymin = math.Min(p.ymin, c.stage.Q[0])
	}
	s.axes(p, []float64{1, 2, 10, 100, 1000, 1e4}, func(x float64) string {
		return map[float64]string{1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 1e4: "99.99%"}[x]
	}, "percentile")
	for _, c := range cs {
		xs := make([]float64, len(Percentiles))
		for i, q := range Percentiles {
			xs[i] = 1 / (1 - q)
		}
		s.polyline(p, xs, c.stage.Q, c.color, 2, "")
	}
	names, colors := curveLegend(cs)
	s.legend(p.x0, 14, names, colors)
	return s.html()
}

// cdfChart plots the share of iterations at or below each value.
func cdfChart(stage string, cs []curve) template.HTML {
	const w, h = 420, 250
	s := newSVG("cdf-"+stage, w, h, stage+" CDF")
	p := plot{x0: 40, y0: 24, x1: w - 28, y1: h - 44, ymin: 0, ymax: 1, xmin: math.Inf(1), xmax: math.Inf(-1)}
	for _, c := range cs {
		p.xmin, p.xmax = math.Min(p.xmin, c.stage.P(0)), math.Max(p.xmax, c.stage.P(1))
	}
	p.xlog = p.xmin > 0 && p.xmax/p.xmin > 20
	var ticks []float64
	if p.xlog {
		for d := math.Floor(math.Log10(p.xmin)); d <= math.Ceil(math.Log10(p.xmax)); d++ {
			if t := math.Pow(10, d); t >= p.xmin && t <= p.xmax {
				ticks = append(ticks, t)
			}
		}
	} else {
		for k := 0; k <= 4; k++ {
			ticks = append(ticks, p.xmin+(p.xmax-p.xmin)*float64(k)/4)
		}
	}
	// y ticks are shares, not seconds: draw the frame by hand.
	s.add(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="frame"/>`, p.x0, p.y0, p.x1-p.x0, p.y1-p.y0)
	for k := 0; k <= 4; k++ {
		y := float64(k) / 4
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, p.x0, p.x1, p.py(y), p.py(y))
		s.text(p.x0-4, p.py(y)+4, "end", "tick", fmt.Sprintf("%.0f%%", y*100))
	}
	for _, t := range ticks {
		s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, p.px(t), p.px(t), p.y0, p.y1)
		s.text(p.px(t), p.y1+14, "middle", "tick", window.Seconds(t))
	}
	s.text((p.x0+p.x1)/2, p.y1+30, "middle", "axis", stage)
	for _, c := range cs {
		const n = 200
		xs, ys := make([]float64, n+1), make([]float64, n+1)
		for i := range xs {
			q := float64(i) / n
			xs[i], ys[i] = c.stage.P(q), q
			if p.xlog && xs[i] <= 0 {
				xs[i] = math.NaN()
			}
		}
		s.polyline(p, xs, ys, c.color, 2, "")
	}
	names, colors := curveLegend(cs)
	s.legend(p.x0, 14, names, colors)
	return s.html()
}

func curveLegend(cs []curve) (names, colors []string) {
	if len(cs) < 2 {
		return nil, nil
	}
	for _, c := range cs {
		names, colors = append(names, c.name), append(colors, c.color)
	}
	return names, colors
}

// timelineChart draws rtt, upload and download over the run, rtt's rolling
// p50/p99, and ticks where iterations were lost (red) or missed (orange).
func timelineChart(v *RunView) template.HTML {
	const w, h = 860, 280
	s := newSVG("timeline", w, h, "timeline of "+v.Name)
	t := v.Timeline
	p := plot{x0: 64, y0: 24, x1: w - 24, y1: h - 50, xmin: math.Inf(1), xmax: math.Inf(-1)}
	for _, ser := range t.Series {
		for i := range ser.X {
			p.xmin, p.xmax = math.Min(p.xmin, ser.X[i]), math.Max(p.xmax, ser.X[i])
		}
	}
	if rtt, ok := v.stage(metrics.StageRTT); ok {
		p.ymax = rtt.P(0.999) * 1.25 // the bulk and the tail; rarer spikes clip at the top
	}
	if math.IsInf(p.xmin, 0) || p.ymax <= 0 {
		s.text(w/2, h/2, "middle", "axis", "no replied iterations")
		return s.html()
	}
	var xt []float64
	for k := 0; k <= 5; k++ {
		xt = append(xt, math.Round(p.xmin+(p.xmax-p.xmin)*float64(k)/5))
	}
	s.axes(p, xt, func(x float64) string { return fmt.Sprintf("%.0f", x) }, "iteration")
	var names, colors []string
	for _, ser := range t.Series {
		c := stageColor(ser.Name)
		s.polyline(p, ser.X, ser.Y, c, 1, "")
		names, colors = append(names, ser.Name), append(colors, c)
	}
	for i, ser := range t.Rolling {
		s.polyline(p, ser.X, ser.Y, "#111", 1.5, []string{"", "4 3"}[i%2])
		names, colors = append(names, ser.Name), append(colors, "#111")
	}
	for _, m := range []struct {
		xs    []float64
		color string
		name  string
	}{{t.Lost, "#d62728", "lost"}, {t.Missed, "#ff7f0e", "missed"}} {
		if len(m.xs) == 0 {
			continue
		}
		for _, x := range m.xs {
			s.add(`<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`, p.px(x), p.px(x), p.y1-8, p.y1, m.color)
		}
		names, colors = append(names, m.name), append(colors, m.color)
	}
	s.legend(p.x0, 14, names, colors)
	return s.html()
}
