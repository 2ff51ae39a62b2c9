package view

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/metrics/window"
)

var (
	//go:embed assets/report.html
	pageHTML string
	//go:embed assets/report.css
	pageCSS string
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"sec":    func(v float64) string { return window.Seconds(v) },
	"signed": signed,
	"num":    formatNumber,
	"verdictClass": func(v string) string {
		switch {
		case strings.HasSuffix(v, "slower"):
			return "slower"
		case strings.HasSuffix(v, "faster"):
			return "faster"
		}
		return ""
	},
}).Parse(pageHTML))

// formatNumber prints a count or rate with three significant digits.
func formatNumber(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 2, 64) + " G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + " k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// stageCharts is one stage's pair of charts.
type stageCharts struct {
	Stage            string
	Percentiles, CDF template.HTML
}

// runPage is a run with its charts drawn.
type runPage struct {
	RunView
	Breakdown, TimelineSVG template.HTML
	Charts                 []stageCharts
}

// WriteHTML writes the report as one self-contained HTML page: styles
// inline, charts as inline SVG, no script and nothing to fetch.
func (rep *Report) WriteHTML(w io.Writer) error {
	data := struct {
		CSS         template.CSS
		Runs        []runPage
		Baseline    string
		Comparisons []Comparison
		Overlays    []stageCharts
	}{CSS: template.CSS(pageCSS), Baseline: rep.Baseline, Comparisons: rep.Comparisons} //nolint:gosec // our own stylesheet
	for i := range rep.Runs {
		v := &rep.Runs[i]
		rp := runPage{RunView: *v, Breakdown: breakdownChart(v), TimelineSVG: timelineChart(v)}
		for _, st := range v.Stages {
			cs := []curve{{name: v.Name, stage: st, color: stageColor(st.Name)}}
			rp.Charts = append(rp.Charts, stageCharts{Stage: st.Name, Percentiles: percentileChart(st.Name, cs), CDF: cdfChart(st.Name, cs)})
		}
		data.Runs = append(data.Runs, rp)
	}
	for _, c := range rep.Comparisons {
		var cs []curve
		for i := range rep.Runs {
			if st, ok := rep.Runs[i].stage(c.Stage); ok {
				cs = append(cs, curve{name: rep.Runs[i].Name, stage: st, color: palette[i%len(palette)]})
			}
		}
		data.Overlays = append(data.Overlays, stageCharts{Stage: c.Stage, Percentiles: percentileChart(c.Stage, cs), CDF: cdfChart(c.Stage, cs)})
	}
	return page.Execute(w, data)
}

// WriteMarkdown writes the report's tables as Markdown, for a pull request
// or a wiki.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# peernet report\n")
	if len(rep.Comparisons) > 0 {
		fmt.Fprintf(&b, "\n## Comparison against %s\n\n| stage |", rep.Baseline)
		for _, r := range rep.Comparisons[0].Runs {
			fmt.Fprintf(&b, " %s p50 / p90 / p99 |", r.Name)
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(rep.Comparisons[0].Runs)) + "\n")
		for _, c := range rep.Comparisons {
			fmt.Fprintf(&b, "| %s |", c.Stage)
			for _, r := range c.Runs {
				fmt.Fprintf(&b, " %s / %s / %s |", window.Seconds(r.Quantiles[0]), window.Seconds(r.Quantiles[1]), window.Seconds(r.Quantiles[2]))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
		for _, c := range rep.Comparisons {
			for _, r := range c.Runs {
				if r.Verdict != "" {
					fmt.Fprintf(&b, "- %s: %s\n", r.Name, r.Verdict)
				}
			}
		}
	}
	for _, v := range rep.Runs {
		fmt.Fprintf(&b, "\n## %s\n\n", v.Name)
		for _, a := range v.About {
			fmt.Fprintf(&b, "- %s: %s\n", a[0], a[1])
		}
		for _, warn := range v.Warn {
			fmt.Fprintf(&b, "- **warning**: %s\n", warn)
		}
		c := v.Counts
		fmt.Fprintf(&b, "\niterations %d: ok %d, lost %d, error %d, missed %d, late %d, warmup %d\n\n", c.Total, c.OK, c.Lost, c.Error, c.Missed, c.Late, c.Warmup)
		b.WriteString("| stage | count | mean | p50 | p90 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range v.Stages {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", s.Name, s.Count, window.Seconds(s.Mean),
				window.Seconds(s.P(0.5)), window.Seconds(s.P(0.9)), window.Seconds(s.P(0.99)), window.Seconds(s.P(0.999)), window.Seconds(s.Max))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
