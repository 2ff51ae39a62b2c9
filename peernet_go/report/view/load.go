// Package view builds the report of one or more runs — where the time of
// an iteration goes, the percentile distribution and CDF of every stage, a
// timeline, and run-against-run comparisons with bootstrap confidence
// intervals — and renders it as one self-contained HTML file (inline SVG,
// no script, nothing fetched), as Markdown or as JSON.
//
// It reads what users have: a results directory of this tool (also one a
// killed run left), a bare data.csv (also one written by the Python
// PEERNet) and a results.mcap.
//
// Usage:
//
//	a, _ := view.Load(ctx, "results/wifi")
//	b, _ := view.Load(ctx, "results/5g")
//	rep := view.Build([]*view.Run{a, b}, view.Options{})
//	_ = rep.WriteHTML(w)
package view

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/mcaplog"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// TimeStages are the stages of one iteration the report draws, in loop
// order, then the end-to-end ones.
var TimeStages = []string{
	metrics.StageSensing, metrics.StageUpload, metrics.StageQueue, metrics.StagePreprocessing,
	metrics.StageInference, metrics.StagePostprocessing, metrics.StageDownload,
	metrics.StageRTT, metrics.StageLatencyFromSchedule, metrics.StageHeaderAge,
}

// breakdown are the stages that add up to one iteration.
var breakdown = TimeStages[:7]

// Run is one run's records, as columns.
type Run struct {
	// Name labels the run: its directory's (or file's) name.
	Name string
	// Source is the path it was read from.
	Source string
	// Info is its run.yaml, nil for a bare data.csv.
	Info *report.RunInfo
	// Result is its summary, computed from the records.
	Result metrics.Result
	// Iteration, Status and Bound hold, per record in file order, the
	// iteration number, the outcome and the clock bound in seconds (NaN
	// for a missed slot).
	Iteration []int
	Status    []metrics.Status
	Bound     []float64
	// Values holds per time stage the value of each record in seconds,
	// NaN where the record has none.
	Values map[string][]float64
	// Topics counts the records per source topic (rosbag and topic
	// sensors).
	Topics map[string]int
	// Skipped counts the lines that could not be read.
	Skipped int
}

// Load reads a run from path: a results directory, a data.csv or
// records.jsonl file, or a results.mcap.
func Load(ctx context.Context, path string) (*Run, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	r := &Run{Source: path, Values: map[string][]float64{}, Topics: map[string]int{}}
	dir := path
	if !st.IsDir() {
		dir = filepath.Dir(path)
	} else if _, err := os.Stat(filepath.Join(dir, metrics.RunYAML)); err == nil {
		// A killed run's directory is summarized first, as summarize
		// does: its run.yaml then says it was interrupted, and when.
		if _, err := report.EnsureSummary(dir); err != nil && !errors.Is(err, report.ErrNoRecords) {
			return nil, fmt.Errorf("view: %w", err)
		}
	}
	r.Name = filepath.Base(dir)
	if f, err := os.Open(filepath.Join(dir, metrics.RunYAML)); err == nil {
		info, err := report.ReadRunInfo(f)
		f.Close()
		if err == nil {
			r.Info = &info
		}
	}
	var period time.Duration
	if r.Info != nil && r.Info.Rate > 0 {
		period = time.Duration(float64(time.Second) / r.Info.Rate)
	}
	sum := metrics.NewSummary(metrics.SummaryOptions{Period: period})
	add := func(rec *metrics.Record) {
		sum.Add(rec)
		r.add(rec)
	}
	switch {
	case st.IsDir():
		err = r.readDir(ctx, path, add)
	case strings.HasSuffix(path, ".mcap"):
		_, err = mcaplog.ReadFile(ctx, path, func(rec *metrics.Record, _ int64) error { add(rec); return nil })
	case strings.HasSuffix(path, ".jsonl"):
		err = readFile(path, metrics.ReadJSONL, add, &r.Skipped)
	default:
		err = readFile(path, metrics.ReadCSV, add, &r.Skipped)
	}
	if err != nil {
		return nil, err
	}
	if len(r.Iteration) == 0 {
		return nil, fmt.Errorf("view: %s holds no iterations", path)
	}
	r.Result = sum.Result()
	return r, nil
}

// readDir reads a results directory's data.csv, the faster to parse, else
// its records.jsonl, else its results.mcap.
func (r *Run) readDir(ctx context.Context, dir string, add func(*metrics.Record)) error {
	for _, f := range []struct {
		name string
		read func(io.Reader) iter.Seq2[*metrics.Record, error]
	}{{metrics.DataCSV, metrics.ReadCSV}, {metrics.RecordsJSONL, metrics.ReadJSONL}} {
		path := filepath.Join(dir, f.name)
		if _, err := os.Stat(path); err == nil {
			return readFile(path, f.read, add, &r.Skipped)
		}
	}
	path := filepath.Join(dir, mcaplog.File)
	if _, err := os.Stat(path); err == nil {
		_, err := mcaplog.ReadFile(ctx, path, func(rec *metrics.Record, _ int64) error { add(rec); return nil })
		return err
	}
	return fmt.Errorf("view: %w in %s", report.ErrNoRecords, dir)
}

// readFile reads the records of one file; lines that do not parse are
// counted in skipped and left out.
func readFile(path string, read func(io.Reader) iter.Seq2[*metrics.Record, error], add func(*metrics.Record), skipped *int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	defer f.Close()
	for rec, err := range read(f) {
		if err != nil {
			*skipped++
			continue
		}
		add(rec)
	}
	return nil
}

// add appends one record's columns.
func (r *Run) add(rec *metrics.Record) {
	r.Iteration = append(r.Iteration, rec.Iteration)
	r.Status = append(r.Status, rec.Status)
	bound := math.NaN()
	if rec.Status != metrics.Missed {
		bound = rec.ClockError.Seconds()
	}
	r.Bound = append(r.Bound, bound)
	n := len(r.Iteration)
	metrics.EachStage(rec, false, func(name string, unit metrics.Unit, v float64) {
		if unit != metrics.Seconds || rec.Warmup {
			return
		}
		col := r.Values[name]
		for len(col) < n-1 {
			col = append(col, math.NaN())
		}
		r.Values[name] = append(col, v)
	})
	if rec.Topic != "" {
		r.Topics[rec.Topic]++
	}
}

// column returns a stage's values, one per record (NaN where unknown).
func (r *Run) column(stage string) []float64 {
	col := r.Values[stage]
	for len(col) < len(r.Iteration) {
		col = append(col, math.NaN())
	}
	r.Values[stage] = col
	return col
}
