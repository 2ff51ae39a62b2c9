package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/report/view"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

const matrixUsage = `matrix [--networks LIST] [--qos LIST] [--sizes LIST] [--iterations N] [--result-loc DIR]

Runs the same workload — a random payload of each size, echoed back — over
each transport (each MQTT QoS counts as one) on loopback, client and server
in this process, with the transport's raw baseline alongside. Writes
DIR/matrix.csv (one row per transport, QoS and size: p50/p99 RTT, p50
upload and download, throughput, loss, raw p50 RTT and the ratio of the
two), prints the table, and keeps each cell's results directory under
DIR/<cell>/. MQTT runs through a broker embedded in the server.

Examples:
  peernet matrix
  peernet matrix --iterations 300 --result-loc /tmp/m
  peernet matrix --networks mqtt,udp --qos 0,1,2 --sizes 64,1KiB,200000`

func matrixCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("matrix", matrixUsage, stderr)
	var networks, qos, sizes listFlag
	fs.Var(&networks, "networks", "transports, comma-separated (default "+strings.Join(run.DefaultMatrixNetworks, ",")+")")
	fs.Var(&qos, "qos", "MQTT QoS levels, comma-separated (default 0,1)")
	fs.Var(&sizes, "sizes", "payload sizes, comma-separated, in bytes or with KiB/MiB (default 64,1KiB,64KiB,1MiB)")
	iterations := fs.Int("iterations", run.DefaultMatrixIterations, "iterations per cell, and as many raw round trips")
	resultLoc := fs.String("result-loc", "", "results `directory` (default results/matrix-<time>)")
	timeout := fs.Duration("timeout", run.DefaultTimeout, "deadline for each reply; a later reply counts as lost")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := run.MatrixOptions{
		Networks: networks, Iterations: *iterations, ResultLoc: *resultLoc, Timeout: *timeout,
		Version: version, Command: append([]string{"peernet"}, os.Args[1:]...),
	}
	for _, q := range qos {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 || n > 2 {
			return usagef("-qos %q: want 0, 1 or 2", q)
		}
		o.QoS = append(o.QoS, n)
	}
	for _, s := range sizes {
		lo, hi, err := sensor.ParseSize(s)
		if err != nil || lo != hi {
			if err == nil {
				err = errors.New("a range is not a size")
			}
			return usagef("-sizes %q: %v", s, err)
		}
		o.Sizes = append(o.Sizes, lo)
	}
	for _, n := range networks {
		if _, err := run.Transport(n); err != nil {
			return usageError{fmt.Errorf("-networks: %w", err)}
		}
	}
	if *iterations < 2 || *timeout <= 0 {
		return usagef("-iterations must be at least 2 and -timeout positive")
	}
	if o.ResultLoc == "" {
		o.ResultLoc = filepath.Join("results", "matrix-"+time.Now().Format("20060102-150405"))
	}
	if !*quiet {
		o.Log = stderr
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	rows, err := run.Matrix(ctx, o)
	if len(rows) > 0 {
		if werr := report.WriteMatrixTable(stdout, rows); werr != nil {
			err = errors.Join(err, werr)
		}
		fmt.Fprintf(stdout, "matrix: %s\n", filepath.Join(o.ResultLoc, run.MatrixFile))
		page := filepath.Join(o.ResultLoc, "report.html")
		if rerr := writeMatrixReport(rows, page); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			fmt.Fprintf(stdout, "report: %s\n", page)
		}
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// writeMatrixReport writes one report comparing the cells that ran, each
// against the first.
func writeMatrixReport(rows []report.MatrixRow, dest string) error {
	var runs []*view.Run
	for _, r := range rows {
		if r.Dir == "" || r.OK == 0 {
			continue
		}
		run, err := view.Load(context.Background(), r.Dir)
		if err != nil {
			return err
		}
		run.Name = r.Cell
		runs = append(runs, run)
	}
	if len(runs) == 0 {
		return nil
	}
	return report.WriteFileAtomic(dest, view.Build(runs, view.Options{Seed: 1}).WriteHTML)
}
