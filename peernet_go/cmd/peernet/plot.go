package main

import (
	"fmt"
	"io"

	"github.com/peernet/peernet_go/peernet_go/report"
)

const plotUsage = `plot RESULTS_DIR

Writes the plots of a results directory under RESULTS_DIR/plots: PEERNet's
six histograms, the RTT histogram and the RTT over time. A summary that is
missing or older than the records (a killed run) is rebuilt first.

Examples:
  peernet plot results/edge-20261204-101500.123`

func plotCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", plotUsage, stderr)
	if err := parseN(fs, args, 1, "one results directory"); err != nil {
		return err
	}
	if err := ensureSummary(fs.Arg(0), stderr); err != nil {
		return err
	}
	if err := report.PlotDir(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "plots written to %s/plots\n", fs.Arg(0))
	return nil
}
