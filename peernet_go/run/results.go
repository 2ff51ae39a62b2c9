package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/mcaplog"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// ResultsOptions configure a results directory.
type ResultsOptions struct {
	// Period is the sampling period, for late accounting (0: none).
	Period time.Duration
	// Plots writes histogram PNGs under plots/ when the run finishes.
	Plots bool
	// MCAP also streams the records into results.mcap (package mcaplog),
	// for Foxglove and PlotJuggler; Finish adds run.yaml and the summary
	// to it as metadata.
	MCAP bool
	// Overwrite lets CreateResults replace the results files of an
	// earlier run in the directory; without it a directory that is not
	// empty is refused with ErrResultsExist.
	Overwrite bool
}

// ErrResultsExist is returned by CreateResults for a directory that is not
// empty, unless ResultsOptions.Overwrite.
var ErrResultsExist = errors.New("results directory is not empty")

// resultsFiles are what a run writes, and what Overwrite removes.
var resultsFiles = []string{
	metrics.DataCSV, metrics.RecordsJSONL, metrics.SummaryJSON, metrics.SummaryText, metrics.RunYAML,
	metrics.HistogramsJSON, mcaplog.File,
}

// Results is a results directory being written: data.csv, records.jsonl
// (and results.mcap, with ResultsOptions.MCAP) stream as the run goes, and Finish adds summary.json, summary.txt,
// histograms.json, run.yaml and the plots.
type Results struct {
	// Dir is the directory.
	Dir string
	// Info is written to run.yaml: at creation (so an interrupted run still
	// says what produced it) and again by Finish.
	Info *report.RunInfo

	csv     *metrics.CSVWriter
	jsonl   *metrics.JSONLWriter
	mcap    *mcaplog.Writer
	summary *metrics.Summary
	plotter *report.Plotter
}

// CreateResults creates dir (and its parents) and the streaming files in it.
// A directory that exists must be empty, unless o.Overwrite: then the files
// of the earlier run (and its plots) are removed first, and nothing else.
func CreateResults(dir string, info *report.RunInfo, o ResultsOptions) (*Results, error) {
	if err := ClaimDir(dir, o.Overwrite); err != nil {
		return nil, err
	}
	r := &Results{Dir: dir, Info: info, summary: metrics.NewSummary(metrics.SummaryOptions{Period: o.Period})}
	var err error
	if r.csv, err = metrics.CreateCSV(filepath.Join(dir, metrics.DataCSV)); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	if r.jsonl, err = metrics.CreateJSONL(filepath.Join(dir, metrics.RecordsJSONL)); err != nil {
		r.csv.Close()
		return nil, fmt.Errorf("results: %w", err)
	}
	if o.MCAP {
		if r.mcap, err = mcaplog.Create(filepath.Join(dir, mcaplog.File)); err != nil {
			r.csv.Close()
			r.jsonl.Close()
			return nil, fmt.Errorf("results: %w", err)
		}
	}
	if o.Plots {
		r.plotter = report.NewPlotter()
	}
	if info != nil {
		if err := report.WriteSummary(dir, r.summary, report.Clock{}, info); err != nil {
			r.csv.Close()
			r.jsonl.Close()
			if r.mcap != nil {
				r.mcap.Close()
			}
			return nil, fmt.Errorf("results: %w", err)
		}
	}
	return r, nil
}

// ClaimDir makes dir (and its parents) for a run's results, refusing one
// that is not empty with ErrResultsExist unless overwrite: then the results
// files of an earlier run (and its plots) are removed, and nothing else.
func ClaimDir(dir string, overwrite bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("results: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("results: %w", err)
	case len(entries) == 0:
		return nil
	case !overwrite:
		return fmt.Errorf("%w: %s holds %d entries (give --overwrite to replace an earlier run, or another --result-loc)", ErrResultsExist, dir, len(entries))
	}
	for _, name := range resultsFiles {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("results: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, metrics.PlotsDir)); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// UniqueDir creates and returns a new directory under parent named
// prefix-TIME (TIME to the millisecond), with a -2, -3, … suffix when two
// runs start in the same millisecond.
func UniqueDir(parent, prefix string) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	base := filepath.Join(parent, prefix+"-"+time.Now().Format("20060102-150405.000"))
	for n := 1; n < 1000; n++ {
		dir := base
		if n > 1 {
			dir = fmt.Sprintf("%s-%d", base, n)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("results: %w", err)
		}
	}
	return "", fmt.Errorf("results: no free directory name like %s", base)
}

// Sinks returns the sinks a run writes its records to.
func (r *Results) Sinks() []metrics.Sink {
	s := []metrics.Sink{r.csv, r.jsonl, r.summary}
	if r.mcap != nil {
		s = append(s, r.mcap)
	}
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
	if werr := report.WriteSummary(r.Dir, r.summary, c, r.Info); werr != nil {
		err = errors.Join(err, werr)
	}
	if r.mcap != nil {
		meta, merr := mcaplog.DirMetadata(r.Dir)
		err = errors.Join(err, merr, r.mcap.Finish(meta...))
	}
	if r.plotter != nil {
		if _, perr := r.plotter.Save(filepath.Join(r.Dir, metrics.PlotsDir)); perr != nil {
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

// WriteServerResults writes a server run's summary.json and summary.txt
// (and run.yaml when info is not nil) into dir, creating it: what it
// answered, per peer, how busy its workers were and how long its queue.
func WriteServerResults(dir string, st ServerStats, info *report.RunInfo) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	type peer struct {
		Requests  int     `json:"requests"`
		Errors    int     `json:"errors"`
		Probes    int     `json:"probes"`
		BadFrames int     `json:"bad-frames"`
		QueueMean float64 `json:"queue-mean"`
		QueueMax  float64 `json:"queue-max"`
	}
	js := struct {
		Role        string  `json:"role"`
		Requests    int     `json:"requests"`
		Errors      int     `json:"errors"`
		Probes      int     `json:"probes"`
		BadFrames   int     `json:"bad-frames"`
		Byes        int     `json:"byes"`
		Workers     int     `json:"workers"`
		Utilisation float64 `json:"utilisation"`
		Elapsed     float64 `json:"elapsed"`
		QueueMean   float64 `json:"queue-depth-mean"`
		QueueMax    int     `json:"queue-depth-max"`
		Security    struct {
			Mode    string `json:"mode"`
			Refused uint64 `json:"refused"`
			Denied  uint64 `json:"denied"`
			BadTags uint64 `json:"bad-tags"`
			Replays uint64 `json:"replays"`
		} `json:"security"`
		Peers map[string]peer `json:"peers"`
	}{
		Role: "server", Requests: st.Requests, Errors: st.Errors, Probes: st.Probes, BadFrames: st.BadFrames,
		Byes: st.Byes, Workers: st.Workers, Utilisation: st.Utilisation(), Elapsed: st.Elapsed.Seconds(),
		QueueMean: st.QueueMean, QueueMax: st.QueueMax, Peers: map[string]peer{},
	}
	sec := st.Security
	js.Security.Mode, js.Security.Refused, js.Security.Denied = sec.Mode, sec.Refused, sec.Denied
	js.Security.BadTags, js.Security.Replays = sec.BadTags, sec.Replays
	names := make([]string, 0, len(st.Peers))
	for name, p := range st.Peers {
		js.Peers[name] = peer{p.Requests, p.Errors, p.Probes, p.BadFrames, p.QueueMean().Seconds(), p.QueueMax.Seconds()}
		names = append(names, name)
	}
	slices.Sort(names)
	err := report.WriteFileAtomic(filepath.Join(dir, metrics.SummaryJSON), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(js)
	})
	if err != nil {
		return err
	}
	err = report.WriteFileAtomic(filepath.Join(dir, metrics.SummaryText), func(w io.Writer) error {
		fmt.Fprintf(w, "%-12s%d answered (%d failed), %d clock probes, %d bad frames, %d byes\n",
			"requests", st.Requests, st.Errors, st.Probes, st.BadFrames, st.Byes)
		fmt.Fprintf(w, "%-12s%d, busy %.1f %% of %s; queue found by arriving requests: mean %.2f, max %d\n",
			"workers", st.Workers, 100*st.Utilisation(), st.Elapsed.Round(time.Millisecond), st.QueueMean, st.QueueMax)
		mode := sec.Mode
		if mode == "" {
			mode = "none (anyone who reaches the port may send frames)"
		}
		fmt.Fprintf(w, "%-12s%s: %d peers refused, %d operations denied, %d bad tags, %d replays\n",
			"security", mode, sec.Refused, sec.Denied, sec.BadTags, sec.Replays)
		if len(names) > 0 {
			fmt.Fprintf(w, "\n%-32s %9s %7s %7s %10s %12s %12s\n", "peer", "requests", "errors", "probes", "bad-frames", "queue mean", "queue max")
			for _, name := range names {
				p := st.Peers[name]
				fmt.Fprintf(w, "%-32s %9d %7d %7d %10d %12s %12s\n", name, p.Requests, p.Errors, p.Probes, p.BadFrames,
					report.FormatValue(p.QueueMean().Seconds(), metrics.Seconds), report.FormatValue(p.QueueMax.Seconds(), metrics.Seconds))
			}
		}
		return nil
	})
	if err != nil || info == nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(dir, metrics.RunYAML), info.WriteYAML)
}
