// Package report renders a run's results: summary.json, summary.txt (the
// table the CLI prints at the end), run.yaml (what produced the run) and
// plots (PNG histograms and an RTT time series) under plots/.
//
// At the end of a run:
//
//	res := sum.Result() // sum is the run's *metrics.Summary
//	clk := report.Clock{Mode: "handshake", Offset: off, Bound: bound, Synced: true, MaxError: report.DefaultMaxClockError}
//	info := report.NewRunInfo(version, os.Args)
//	info.Transport, info.Iterations = "zmq-tcp", n
//	if err := report.WriteAll(dir, res, clk, &info); err != nil { return err }
//	_ = report.WriteText(os.Stdout, res, clk) // print the table
//	if plots { err = report.PlotDir(dir) }     // dir/data.csv → dir/plots/*.png
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// DefaultMaxClockError is the clock error bound above which one-way delays
// are flagged "unsync" (--max-clock-error).
const DefaultMaxClockError = time.Millisecond

// Clock describes how a run's two clocks were related: the offset used to
// correct one-way delays and how far it can be trusted.
type Clock struct {
	// Mode is the clock mode: "handshake", "assume-synced" or
	// "ntp:HOST[:PORT]". Empty means no clock information.
	Mode string `yaml:"mode"`
	// Offset is the server clock minus the client clock.
	Offset time.Duration `yaml:"offset"`
	// Bound is the error bound of Offset; zero means unknown.
	Bound time.Duration `yaml:"bound"`
	// DriftPPM is the drift of the offset, in parts per million.
	DriftPPM float64 `yaml:"drift-ppm"`
	// Synced says whether the clocks are known to agree within MaxError.
	Synced bool `yaml:"synced"`
	// Probes is the number of offset probes used.
	Probes int `yaml:"probes,omitempty"`
	// MinRTT is the smallest probe round trip.
	MinRTT time.Duration `yaml:"min-rtt,omitempty"`
	// MaxError is the bound above which one-way delays are flagged
	// (--max-clock-error). Zero means DefaultMaxClockError.
	MaxError time.Duration `yaml:"max-error"`
	// SyncState is the local time-sync state as reported by the system
	// (chrony tracking, adjtimex), when known.
	SyncState string `yaml:"sync-state,omitempty"`
}

func (c Clock) maxError() time.Duration {
	if c.MaxError > 0 {
		return c.MaxError
	}
	return DefaultMaxClockError
}

// Unsync reports whether one-way delays cannot be trusted, and why: the
// clocks are not known to be synced, or the bound exceeds MaxError. A Clock
// without a Mode is never flagged.
func (c Clock) Unsync() (unsync bool, why string) {
	switch {
	case c.Mode == "":
		return false, ""
	case c.Bound > c.maxError():
		return true, fmt.Sprintf("clock error bound %s exceeds the %s limit", fmtOffset(c.Bound), fmtOffset(c.maxError()))
	case !c.Synced && c.Bound == 0:
		return true, "clocks not known to be synchronised (no error bound)"
	case !c.Synced:
		return true, "clocks not known to be synchronised"
	}
	return false, ""
}

// oneWay lists the stages measured across two clocks.
var oneWay = map[string]bool{metrics.StageUpload: true, metrics.StageDownload: true}

// seconds is a duration written in JSON as a number of seconds.
type seconds time.Duration

func (s seconds) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.9f", time.Duration(s).Seconds())), nil
}

type jsonClock struct {
	Mode      string  `json:"mode"`
	Offset    seconds `json:"offset"`
	Bound     seconds `json:"bound"`
	DriftPPM  float64 `json:"drift-ppm"`
	Synced    bool    `json:"synced"`
	Unsync    bool    `json:"unsync"`
	Why       string  `json:"unsync-reason,omitempty"`
	Probes    int     `json:"probes"`
	MinRTT    seconds `json:"min-rtt"`
	MaxError  seconds `json:"max-error"`
	SyncState string  `json:"sync-state,omitempty"`
}

// stages marshals as a JSON object keyed by stage name, in summary order.
type stages []metrics.StageStats

func (s stages) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, st := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(st.Name)
		v, err := json.Marshal(st)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", st.Name, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type jsonSummary struct {
	Iterations    metrics.Counts `json:"iterations"`
	Period        *seconds       `json:"period,omitempty"`
	LateThreshold *seconds       `json:"late-threshold,omitempty"`
	Stages        stages         `json:"stages"`
	Clock         *jsonClock     `json:"clock,omitempty"`
}

// WriteJSON writes summary.json: {"iterations": {total, ok, lost, error,
// warmup, late, too-late}, "period" and "late-threshold" (seconds, with a
// sampling rate), "stages": {name: {unit, count, mean, std, min, p50, p90,
// p99, max}} in summary order (seconds, bytes, bit/s or packets), "clock":
// {mode, offset, bound, drift-ppm, synced, unsync, unsync-reason, probes,
// min-rtt, max-error, sync-state}} with durations in seconds. The clock is
// left out when c has no Mode.
func WriteJSON(w io.Writer, res metrics.Result, c Clock) error {
	js := jsonSummary{Iterations: res.Iterations, Stages: stages(res.Stages)}
	if js.Stages == nil {
		js.Stages = stages{}
	}
	if res.Period > 0 {
		p, l := seconds(res.Period), seconds(res.LateThreshold)
		js.Period, js.LateThreshold = &p, &l
	}
	if c.Mode != "" {
		unsync, why := c.Unsync()
		js.Clock = &jsonClock{
			Mode: c.Mode, Offset: seconds(c.Offset), Bound: seconds(c.Bound), DriftPPM: c.DriftPPM,
			Synced: c.Synced, Unsync: unsync, Why: why, Probes: c.Probes, MinRTT: seconds(c.MinRTT),
			MaxError: seconds(c.maxError()), SyncState: c.SyncState,
		}
	}
	b, err := json.MarshalIndent(js, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encoding summary.json: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("report: writing summary.json: %w", err)
	}
	return nil
}

// WriteAll writes summary.json, summary.txt and, when info is not nil,
// run.yaml into dir. Each file is written to a temporary file in dir, synced
// and renamed into place, so a reader never sees a half-written file.
func WriteAll(dir string, res metrics.Result, c Clock, info *RunInfo) error {
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{metrics.SummaryJSON, func(w io.Writer) error { return WriteJSON(w, res, c) }},
		{metrics.SummaryText, func(w io.Writer) error { return WriteText(w, res, c) }},
	}
	if info != nil {
		files = append(files, struct {
			name  string
			write func(io.Writer) error
		}{metrics.RunYAML, info.WriteYAML})
	}
	for _, f := range files {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic writes path through a temporary file in the same
// directory, synced then renamed, so a reader never sees a half-written
// file.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			_ = os.Remove(tmp.Name()) // best effort: err says what failed
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("report: syncing %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("report: closing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: renaming into %s: %w", path, err)
	}
	return nil
}
