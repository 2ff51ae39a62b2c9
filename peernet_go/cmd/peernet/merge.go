package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
)

const mergeUsage = `merge -o OUT DIR [DIR…]

Pools results directories — runs of several robots, or of one robot on
several days — into OUT: its summary's percentiles are those of every
record of every run, from their merged histograms (histograms.json), not
averages of percentiles. A directory without a current summary (a killed
run) is summarized first.

Examples:
  peernet merge -o results/fleet results/robot-1 results/robot-2 results/robot-3`

func mergeCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("merge", mergeUsage, stderr)
	out := fs.String("o", "", "the pooled results `directory` (required)")
	overwrite := fs.Bool("overwrite", false, "replace an earlier merge in -o")
	quiet := fs.Bool("quiet", false, "do not print the pooled summary")
	if err := parseAtLeast(fs, args, 1, "at least one results directory"); err != nil {
		return err
	}
	if *out == "" {
		return usagef("merge needs -o OUT, the pooled results directory")
	}
	pooled := metrics.NewSummary(metrics.SummaryOptions{})
	for i, dir := range fs.Args() {
		if err := ensureSummary(dir, stderr); err != nil {
			return err
		}
		f, err := os.Open(filepath.Join(dir, metrics.HistogramsJSON))
		if errors.Is(err, os.ErrNotExist) {
			return usagef("%s has no %s (written by runs of this version)", dir, metrics.HistogramsJSON)
		}
		if err != nil {
			return err
		}
		s, err := metrics.ReadHistograms(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if i == 0 {
			pooled = s
		} else {
			pooled.Merge(s)
		}
	}
	if err := run.ClaimDir(*out, *overwrite); err != nil {
		return usageError{err}
	}
	info := report.NewRunInfo(version, append([]string{"peernet"}, os.Args[1:]...))
	info.Role = "merge"
	info.Sources = fs.Args()
	if err := report.WriteSummary(*out, pooled, report.Clock{}, &info); err != nil {
		return err
	}
	if !*quiet {
		if err := report.WriteText(stdout, pooled.Result(), report.Clock{}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "pooled %d runs into %s\n", fs.NArg(), *out)
	}
	return nil
}
