package report

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/mcaplog"
)

// ErrNoRecords is returned by Summarize for a directory with neither
// records.jsonl nor data.csv.
var ErrNoRecords = errors.New("report: no records.jsonl or data.csv")

// Records iterates over the records of a results directory: records.jsonl
// when it is there (it holds every field), else data.csv (also one written
// by PEERNet). Lines that cannot be read are skipped and counted; the
// returned function reports how many, with the first one's error, once the
// iteration is over. A truncated last line, as a killed run leaves, is one
// of them.
func Records(dir string) (iter.Seq[*metrics.Record], func() (skipped int, first error), error) {
	path := filepath.Join(dir, metrics.RecordsJSONL)
	read := metrics.ReadJSONL
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		path = filepath.Join(dir, metrics.DataCSV)
		read = metrics.ReadCSV
		f, err = os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w in %s", ErrNoRecords, dir)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	var skipped int
	var first error
	seq := func(yield func(*metrics.Record) bool) {
		defer f.Close()
		for rec, err := range read(f) {
			if err != nil {
				if skipped++; first == nil {
					first = fmt.Errorf("%s: %w", path, err)
				}
				continue
			}
			if !yield(rec) {
				return
			}
		}
	}
	return seq, func() (int, error) { return skipped, first }, nil
}

// SummaryStale reports whether dir's summary.json is missing or older than
// its records: the run was killed before it could write its summary.
func SummaryStale(dir string) bool {
	sum, err := os.Stat(filepath.Join(dir, metrics.SummaryJSON))
	if err != nil {
		return true
	}
	for _, name := range []string{metrics.RecordsJSONL, metrics.DataCSV} {
		if rec, err := os.Stat(filepath.Join(dir, name)); err == nil && rec.ModTime().After(sum.ModTime()) {
			return true
		}
	}
	return false
}

// Summarize rebuilds summary.json and summary.txt of a results directory
// from its records (see Records), with the sampling period and clock mode
// of its run.yaml. A run.yaml without an end (the run was killed) gets the
// time of the last record as its end, is marked interrupted, and takes its
// clock estimate from the last record's offset and bound. It returns the
// summary and how many lines could not be read (they are left out).
func Summarize(dir string) (metrics.Result, int, error) {
	info, infoErr := readRunInfo(dir)
	var period time.Duration
	if infoErr == nil && info.Rate > 0 {
		period = time.Duration(float64(time.Second) / info.Rate)
	}
	recs, skipped, err := Records(dir)
	if err != nil {
		return metrics.Result{}, 0, err
	}
	sum := metrics.NewSummary(metrics.SummaryOptions{Period: period})
	var last metrics.Record
	var end int64
	for r := range recs {
		sum.Add(r)
		if r.Status != metrics.Missed {
			last = *r
		}
		end = max(end, r.T3, r.T0)
	}
	n, first := skipped()
	res := sum.Result()

	var clk Clock
	var infoPtr *RunInfo
	if infoErr == nil {
		clk = info.Clock
		if info.End.IsZero() {
			if end > 0 {
				info.End = time.Unix(0, end)
			} else {
				info.End = info.Start
			}
			info.Interrupted = true
			clk = clockFromRecord(clk, &last)
			info.Clock = clk
		}
		infoPtr = &info
	}
	if err := WriteSummary(dir, sum, clk, infoPtr); err != nil {
		return res, n, err
	}
	if err := rebuildMCAP(dir); err != nil {
		return res, n, err
	}
	if n > 0 {
		return res, n, fmt.Errorf("report: summarized %s without %d unreadable lines, the first: %w", dir, n, first)
	}
	return res, 0, nil
}

// rebuildMCAP rewrites the results.mcap of a run that was killed before it
// could close it, from the records and with the summary just written; a
// closed one, or none, is left alone.
func rebuildMCAP(dir string) error {
	path := filepath.Join(dir, mcaplog.File)
	closed, err := mcaplog.Closed(path)
	if errors.Is(err, os.ErrNotExist) || closed {
		return nil
	}
	if err != nil {
		return err
	}
	recs, _, err := Records(dir)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	w, err := mcaplog.Create(tmp)
	if err != nil {
		return err
	}
	for r := range recs {
		if err := w.Write(r); err != nil {
			_ = w.Close()
			_ = os.Remove(tmp)
			return err
		}
	}
	meta, err := mcaplog.DirMetadata(dir)
	if err = errors.Join(err, w.Finish(meta...)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// clockFromRecord fills a clock section that was written before the run
// had an estimate with what the last measured record says.
func clockFromRecord(c Clock, r *metrics.Record) Clock {
	if r.Iteration == 0 && r.T0 == 0 {
		return c
	}
	c.Offset, c.Bound = r.ClockOffset, r.ClockError
	switch {
	case c.Mode == clock.ModeSameClock:
		c.Synced = true
	case c.Bound > 0:
		c.Synced = c.Bound <= c.maxError()
	}
	return c
}

func readRunInfo(dir string) (RunInfo, error) {
	f, err := os.Open(filepath.Join(dir, metrics.RunYAML))
	if err != nil {
		return RunInfo{}, err
	}
	defer f.Close()
	return ReadRunInfo(f)
}

// EnsureSummary summarizes dir when its summary is stale (see SummaryStale),
// and reports whether it did.
func EnsureSummary(dir string) (bool, error) {
	if !SummaryStale(dir) {
		return false, nil
	}
	_, _, err := Summarize(dir)
	return true, err
}
