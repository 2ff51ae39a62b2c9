package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/report"
)

func plotCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", "plot RESULTS_DIR", stderr)
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
	stdout.Write(b)
	return nil
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

// baselineCmd runs the transport's raw ping-pong, without the profiler: the
// reference the profiler's overhead is measured against.
func baselineCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "serve" && args[0] != "ping") {
		return usagef("baseline needs serve or ping: peernet baseline serve|ping --network-config FILE [options]")
	}
	role := args[0]
	var o options
	fs := newFlagSet("baseline "+role, "baseline serve|ping --network-config FILE [--sensor-size N --reply-size N --iterations N]", stderr)
	o.common(fs)
	size := fs.Int("sensor-size", 1024, "payload size in `bytes`")
	replySize := fs.Int("reply-size", 100, "reply size in `bytes`")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, tr, err := o.openNetwork(false)
	if err != nil {
		return err
	}
	b, ok := tr.(network.Baseline)
	if !ok {
		return usagef("network %s has no raw baseline", o.network)
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	if role == "serve" {
		if o.name == "" {
			o.name = cfg.Server
		}
		return b.RawServe(ctx, cfg, o.name)
	}
	if o.name == "" {
		o.name = firstClient(cfg)
	}
	if o.iterations <= 0 {
		o.iterations = 1000
	}
	rtts, err := b.RawPing(ctx, cfg, o.name, network.Ping{
		Payload: make([]byte, *size), ReplySize: *replySize, Iterations: o.iterations, Timeout: o.timeout,
	})
	if len(rtts) > 0 {
		printRTTs(stdout, rtts)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// printRTTs prints the count, mean and percentiles of round-trip times.
func printRTTs(w io.Writer, rtts []time.Duration) {
	s := slices.Clone(rtts)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	q := func(p float64) string { return fmtSeconds(s[min(len(s)-1, int(p*float64(len(s))))]) }
	fmt.Fprintf(w, "n=%d mean=%s p50=%s p90=%s p99=%s max=%s\n",
		len(s), fmtSeconds(sum/time.Duration(len(s))), q(0.5), q(0.9), q(0.99), fmtSeconds(s[len(s)-1]))
}

func fmtSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 9, 64) }
