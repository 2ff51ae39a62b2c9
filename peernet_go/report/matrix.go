package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// MatrixRow is one cell of a matrix: a transport (at a QoS) and a size.
type MatrixRow struct {
	// Cell names the cell and its results directory, e.g. "mqtt-qos1_64KiB".
	Cell string
	// Network is the transport; QoS its MQTT QoS, or -1.
	Network string
	QoS     int
	// Size is the payload size in bytes.
	Size int
	// Iterations, OK and Lost count the profiled run's iterations.
	Iterations, OK, Lost int
	// RTT, Upload and Download are the profiled run's percentiles.
	RTTP50, RTTP99         time.Duration
	UploadP50, DownloadP50 time.Duration
	// Throughput is the bits of the successful iterations' frames, both
	// ways, over the sum of their round trips, in bit/s.
	Throughput float64
	// Loss is the fraction of iterations that got no reply in time.
	Loss float64
	// RawP50 is the raw baseline's median round trip, and Ratio the
	// profiled median over it (0 when either is missing).
	RawP50 time.Duration
	Ratio  float64
	// Dir is the cell's results directory.
	Dir string
	// Err says why the cell, or its baseline, failed.
	Err string
}

// SizeLabel writes a size in bytes the way the matrix names cells: "64B",
// "1KiB", "64KiB", "1MiB", or bytes when it is not a whole unit.
func SizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// matrixColumns are the columns of matrix.csv. Durations are in seconds,
// throughput in bit/s, loss a fraction; qos is empty for transports
// without one.
var matrixColumns = []string{
	"cell", "network", "qos", "size", "iterations", "ok", "lost",
	"rtt-p50", "rtt-p99", "upload-p50", "download-p50", "throughput", "loss",
	"raw-rtt-p50", "ratio", "dir", "error",
}

// MatrixColumns returns the column names of matrix.csv.
func MatrixColumns() []string { return slices.Clone(matrixColumns) }

// WriteMatrixCSV writes rows as CSV with a header line of MatrixColumns.
func WriteMatrixCSV(w io.Writer, rows []MatrixRow) error {
	cw := csv.NewWriter(w)
	cw.Write(matrixColumns)
	sec := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 9, 64) }
	for _, r := range rows {
		qos := ""
		if r.QoS >= 0 {
			qos = strconv.Itoa(r.QoS)
		}
		cw.Write([]string{
			r.Cell, r.Network, qos, strconv.Itoa(r.Size),
			strconv.Itoa(r.Iterations), strconv.Itoa(r.OK), strconv.Itoa(r.Lost),
			sec(r.RTTP50), sec(r.RTTP99), sec(r.UploadP50), sec(r.DownloadP50),
			strconv.FormatFloat(r.Throughput, 'f', 0, 64), strconv.FormatFloat(r.Loss, 'f', 4, 64),
			sec(r.RawP50), strconv.FormatFloat(r.Ratio, 'f', 3, 64), r.Dir, r.Err,
		})
	}
	cw.Flush()
	return cw.Error()
}

// WriteMatrixTable writes rows as an aligned text table.
func WriteMatrixTable(w io.Writer, rows []MatrixRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "network\tqos\tsize\trtt p50\trtt p99\tupload p50\tdownload p50\tthroughput\tloss\traw p50\tratio\t")
	dur := func(d time.Duration) string { return FormatValue(d.Seconds(), metrics.Seconds) }
	for _, r := range rows {
		qos := "-"
		if r.QoS >= 0 {
			qos = strconv.Itoa(r.QoS)
		}
		ratio := "-"
		if r.Ratio > 0 {
			ratio = strconv.FormatFloat(r.Ratio, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f %%\t%s\t%s\t\n",
			r.Network, qos, SizeLabel(r.Size), dur(r.RTTP50), dur(r.RTTP99), dur(r.UploadP50), dur(r.DownloadP50),
			FormatValue(r.Throughput, metrics.BitsPerSecond), 100*r.Loss, dur(r.RawP50), ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Err != "" {
			if _, err := fmt.Fprintf(w, "%s: %s\n", r.Cell, strings.TrimSpace(r.Err)); err != nil {
				return err
			}
		}
	}
	return nil
}
