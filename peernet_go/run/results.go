package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// ResultsOptions configure a results directory.
type ResultsOptions struct {
	// Period is the sampling period, for late accounting (0: none).
	Period time.Duration
	// Plots writes histogram PNGs under plots/ when the run finishes.
	Plots bool
}

// Results is a results directory being written: data.csv and records.jsonl
// stream as the run goes, and Finish adds summary.json, summary.txt,
// run.yaml and the plots.
type Results struct {
	// Dir is the directory.
	Dir string
	// Info is written to run.yaml: at creation (so an interrupted run still
	// says what produced it) and again by Finish.
	Info *report.RunInfo

	csv     *metrics.CSVWriter
	jsonl   *metrics.JSONLWriter
	summary *metrics.Summary
	plotter *report.Plotter
}

// CreateResults creates dir (and its parents) and the streaming files in it.
func CreateResults(dir string, info *report.RunInfo, o ResultsOptions) (*Results, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	r := &Results{Dir: dir, Info: info, summary: metrics.NewSummary(metrics.SummaryOptions{Period: o.Period})}
	var err error
	if r.csv, err = metrics.CreateCSV(filepath.Join(dir, "data.csv")); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	if r.jsonl, err = metrics.CreateJSONL(filepath.Join(dir, "records.jsonl")); err != nil {
		r.csv.Close()
		return nil, fmt.Errorf("results: %w", err)
	}
	if o.Plots {
		r.plotter = report.NewPlotter()
	}
	if info != nil {
		if err := report.WriteAll(dir, r.summary.Result(), report.Clock{}, info); err != nil {
			r.csv.Close()
			r.jsonl.Close()
			return nil, fmt.Errorf("results: %w", err)
		}
	}
	return r, nil
}

// Sinks returns the sinks a run writes its records to.
func (r *Results) Sinks() []metrics.Sink {
	s := []metrics.Sink{r.csv, r.jsonl, r.summary}
	if r.plotter != nil {
		s = append(s, r.plotter)
	}
	return s
}

// Summary returns the running summary.
func (r *Results) Summary() *metrics.Summary { return r.summary }

// Finish closes the streaming files and writes the summaries, run.yaml and
// plots. It is called once, whatever ended the run.
func (r *Results) Finish(c report.Clock) error {
	err := errors.Join(r.csv.Close(), r.jsonl.Close())
	if r.Info != nil {
		r.Info.End = time.Now()
		r.Info.Clock = c
	}
	if werr := report.WriteAll(r.Dir, r.summary.Result(), c, r.Info); werr != nil {
		err = errors.Join(err, werr)
	}
	if r.plotter != nil {
		if _, perr := r.plotter.Save(r.Dir); perr != nil {
			err = errors.Join(err, perr)
		}
	}
	return err
}

// ReportClock turns a clock estimate into the summary's clock section.
func ReportClock(est clock.Estimate, maxErr time.Duration) report.Clock {
	c := report.Clock{
		Mode: est.Mode, MaxError: maxErr, Probes: est.Probes, MinRTT: est.MinRTT,
		Synced: est.Synced(maxErr),
	}
	if est.Known {
		c.Offset, c.Bound, c.DriftPPM = est.Offset, est.Bound, est.DriftPPM
	}
	return c
}
