package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/report/view"
)

const reportUsage = `report [-o FILE] [--format html|md|json] [--baseline RUN] RUN [RUN…]

Writes the report of one or more runs: for each, what produced it, where
the time of an iteration goes (per-stage p50 and p99 stacked, with the
clock bound on the one-way delays), the percentile distribution and CDF of
every stage, and a timeline with rolling p50/p99 and the lost and missed
iterations; given several, a comparison of every stage against the
baseline (default: the first RUN) with 95 % bootstrap intervals for the
change of p50 and p99 and a verdict in words (changes under 5 % are no
significant change, as are changes under 1 µs). The HTML is one file that opens offline and prints.

A RUN is a results directory (one a killed run left too), a data.csv —
also one written by the Python PEERNet — a records.jsonl or a
results.mcap. Without -o, one run's report goes into its directory
(report.html), several runs' into the current one; -o - writes to stdout.

Examples:
  peernet report results/cam30
  peernet report --baseline results/wifi results/wifi results/5g -o wifi-vs-5g.html
  peernet report --format md results/a results/b -o -`

func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", reportUsage, stderr)
	out := fs.String("o", "", "write the report to `FILE` (- for stdout)")
	format := fs.String("format", "html", "html, md or json")
	baseline := fs.String("baseline", "", "the `RUN` the others are compared with (default: the first)")
	seed := fs.Uint64("seed", 1, "seed of the bootstrap draws")
	if err := parseAtLeast(fs, args, 1, "at least one run"); err != nil {
		return err
	}
	ext := map[string]string{"html": ".html", "md": ".md", "json": ".json"}[*format]
	if ext == "" {
		return usagef("-format %q: want html, md or json", *format)
	}
	paths := fs.Args()
	base := 0
	if *baseline != "" {
		if base = slices.Index(paths, *baseline); base < 0 {
			paths = append([]string{*baseline}, paths...)
			base = 0
		}
	}
	runs := make([]*view.Run, len(paths))
	for i, p := range paths {
		r, err := view.Load(context.Background(), p)
		if err != nil {
			return usageError{err}
		}
		runs[i] = r
	}
	rep := view.Build(runs, view.Options{Baseline: base, Seed: *seed})
	dest := *out
	if dest == "" {
		dest = "report" + ext
		if len(paths) == 1 {
			if st, err := os.Stat(paths[0]); err == nil && st.IsDir() {
				dest = filepath.Join(paths[0], dest)
			}
		}
	}
	write := map[string]func(io.Writer) error{"html": rep.WriteHTML, "md": rep.WriteMarkdown, "json": rep.WriteJSON}[*format]
	if dest == "-" {
		return write(stdout)
	}
	if err := report.WriteFileAtomic(dest, write); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s\n", dest)
	return nil
}

// writeReportFile writes the HTML report of the run in dir to dest.
func writeReportFile(dir, dest string) error {
	r, err := view.Load(context.Background(), dir)
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(dest, view.Build([]*view.Run{r}, view.Options{Seed: 1}).WriteHTML)
}
