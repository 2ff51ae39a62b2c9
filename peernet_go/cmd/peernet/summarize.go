package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
)

const summarizeUsage = `summarize RESULTS_DIR

Rebuilds summary.json and summary.txt of a results directory from its
records (records.jsonl, else data.csv), e.g. after the run was killed with
kill -9 before it could write them; run.yaml gets the time of the last
record as the run's end and is marked interrupted. plot (and report) do it
by themselves when the summary is missing or older than the records.

Examples:
  peernet summarize results/edge-20261204-101500.123`

func summarizeCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("summarize", summarizeUsage, stderr)
	if err := parseN(fs, args, 1, "one results directory"); err != nil {
		return err
	}
	dir := fs.Arg(0)
	_, skipped, err := report.Summarize(dir)
	if skipped > 0 {
		fmt.Fprintf(stderr, "peernet: %s\n", oneLine(err.Error()))
		err = nil
	}
	if err != nil {
		if errors.Is(err, report.ErrNoRecords) {
			return usageError{err}
		}
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, metrics.SummaryText))
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

// ensureSummary rebuilds dir's summary when it is missing or stale, and
// says so.
func ensureSummary(dir string, stderr io.Writer) error {
	if !report.SummaryStale(dir) {
		return nil
	}
	_, skipped, err := report.Summarize(dir)
	if skipped > 0 {
		fmt.Fprintf(stderr, "peernet: %s\n", oneLine(err.Error()))
		err = nil
	}
	if err == nil {
		fmt.Fprintf(stderr, "peernet: rebuilt the summary of %s from its records\n", dir)
	}
	return err
}
