package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// FleetEdge is one edge of a fleet run, as the fleet's summary shows it.
type FleetEdge struct {
	// Name is the edge's device name; Err what ended it early, if
	// anything.
	Name string
	Err  string
	// Result is the edge's own summary; Clock its clock estimate.
	Result metrics.Result
	Clock  Clock
}

// WriteFleetText writes the summary of a fleet run: one row per edge
// (iterations by outcome, rtt p50/p99, upload and download p50, the
// edge's clock bound), then the pooled statistics of all edges, whose
// percentiles are those of every record of every edge (merged histograms,
// not averaged percentiles).
func WriteFleetText(w io.Writer, edges []FleetEdge, pooled metrics.Result) error {
	bw := bufio.NewWriter(w)
	n := pooled.Iterations
	fmt.Fprintf(bw, "%-12s%d edges, %d iterations: ok %d, lost %d, error %d, missed %d\n\n",
		"fleet", len(edges), n.Total-n.Warmup, n.OK, n.Lost, n.Error, n.Missed)
	rows := [][]string{{"edge", "iterations", "ok", "lost", "error", "missed", "rtt p50", "rtt p99", "upload p50", "download p50", "clock ±", ""}}
	stat := func(res metrics.Result, stage string, p99 bool) string {
		st, ok := res.Stage(stage)
		if !ok {
			return "-"
		}
		if p99 {
			return FormatValue(st.P99, st.Unit)
		}
		return FormatValue(st.P50, st.Unit)
	}
	for _, e := range edges {
		c := e.Result.Iterations
		bound := "-"
		if e.Clock.Mode != "" {
			bound = fmtOffset(e.Clock.Bound)
		}
		rows = append(rows, []string{
			e.Name, strconv.FormatInt(c.Total-c.Warmup, 10), strconv.FormatInt(c.OK, 10), strconv.FormatInt(c.Lost, 10),
			strconv.FormatInt(c.Error, 10), strconv.FormatInt(c.Missed, 10),
			stat(e.Result, metrics.StageRTT, false), stat(e.Result, metrics.StageRTT, true),
			stat(e.Result, metrics.StageUpload, false), stat(e.Result, metrics.StageDownload, false), bound, "",
		})
	}
	writeTable(bw, rows)
	for _, e := range edges {
		if e.Err != "" {
			fmt.Fprintf(bw, "%-12s%s: %s\n", "stopped", e.Name, e.Err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: writing the fleet summary: %w", err)
	}
	fmt.Fprintf(w, "\npooled over all edges:\n")
	return WriteText(w, pooled, Clock{})
}
