package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// SweepFile is the name of the table a sweep writes.
const SweepFile = "sweep.csv"

// SweepRow is one step of a capacity sweep.
type SweepRow struct {
	// Step counts from 0; Edges and Rate (Hz per edge) are the load;
	// Offered is Edges × Rate and Achieved the replies per second.
	Step              int
	Edges             int
	Rate              float64
	Offered, Achieved float64
	// Result is the pooled summary of the step's counted windows.
	Result metrics.Result
	// Loss is the share of slots lost, failed or missed; Windows how many
	// windows ran; Stable whether the counted ones agreed; Meets whether
	// the step met the budget, and Why not.
	Loss    float64
	Windows int
	Stable  bool
	Meets   bool
	Why     string
	// CPU is the profiling process's CPU per second (1 = a core), MaxRSS
	// its peak memory in bytes; ServerCPU and ServerRSS the server
	// process's (0 when not known).
	CPU, ServerCPU    float64
	MaxRSS, ServerRSS int64
	// Disconnected names the edges that stopped during the step.
	Disconnected []string
}

// sweepStages are the stages sweep.csv has p50, p90 and p99 of, in the
// loop's order.
var sweepStages = []string{
	metrics.StageSensing, metrics.StageUpload, metrics.StageQueue, metrics.StagePreprocessing,
	metrics.StageInference, metrics.StagePostprocessing, metrics.StageDownload, metrics.StageRTT,
	metrics.StageLatencyFromSchedule,
}

// componentStages are the parts of an iteration a verdict can blame.
var componentStages = []string{
	metrics.StageSensing, metrics.StageUpload, metrics.StageQueue, metrics.StagePreprocessing,
	metrics.StageInference, metrics.StagePostprocessing, metrics.StageDownload,
}

// SweepColumns returns sweep.csv's header.
func SweepColumns() []string {
	cols := []string{"step", "edges", "rate", "offered-rate", "achieved-rate"}
	for _, s := range sweepStages {
		cols = append(cols, s+"-p50", s+"-p90", s+"-p99")
	}
	return append(cols, "ok", "lost", "error", "missed", "loss", "windows", "stable", "meets", "why",
		"cpu", "max-rss", "server-cpu", "server-max-rss", "disconnected")
}

// WriteSweepCSV writes rows as sweep.csv: durations in seconds (empty when
// a stage has no values), rates in Hz, loss a share, cpu in cores,
// max-rss in bytes.
func WriteSweepCSV(w io.Writer, rows []SweepRow) error {
	cw := csv.NewWriter(w)
	cw.Write(SweepColumns())
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range rows {
		rec := []string{strconv.Itoa(r.Step), strconv.Itoa(r.Edges), f(r.Rate), f(r.Offered), strconv.FormatFloat(r.Achieved, 'f', 3, 64)}
		for _, name := range sweepStages {
			st, ok := r.Result.Stage(name)
			if !ok {
				rec = append(rec, "", "", "")
				continue
			}
			rec = append(rec, f(st.P50), f(st.P90), f(st.P99))
		}
		n := r.Result.Iterations
		rec = append(rec, strconv.FormatInt(n.OK, 10), strconv.FormatInt(n.Lost, 10), strconv.FormatInt(n.Error, 10),
			strconv.FormatInt(n.Missed, 10), strconv.FormatFloat(r.Loss, 'f', 5, 64), strconv.Itoa(r.Windows),
			yesNo(r.Stable), yesNo(r.Meets), r.Why, strconv.FormatFloat(r.CPU, 'f', 3, 64), strconv.FormatInt(r.MaxRSS, 10),
			strconv.FormatFloat(r.ServerCPU, 'f', 3, 64), strconv.FormatInt(r.ServerRSS, 10), strings.Join(r.Disconnected, " "))
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// SweepVerdict says in plain words what a sweep found: the highest load
// that met the budget, and what gave at the next one, e.g.
//
//	zmq-tcp, dummy:infer=5ms, 1 worker: 12 edges × 15 Hz meet p99 ≤ 50 ms; at 14 edges the queue stage takes p99 to 71 ms
//
// knee and over index rows (-1: none); what describes the set-up; budget
// is the budget's stage, quantile and limit; bySweptEdges says whether the
// sweep varied edges (else rates).
func SweepVerdict(rows []SweepRow, knee, over int, what string, stage string, quantile, limit float64, bySweptEdges bool) string {
	qname := "p" + strconv.FormatFloat(quantile*100, 'f', -1, 64)
	budget := qname + " ≤ " + FormatValue(limit, metrics.Seconds)
	if stage != metrics.StageLatencyFromSchedule {
		budget = stage + " " + budget
	}
	loadOf := func(r SweepRow) string {
		s := fmt.Sprintf("%d edges × %s Hz", r.Edges, strconv.FormatFloat(r.Rate, 'f', -1, 64))
		if !bySweptEdges && r.Edges > 1 {
			s += fmt.Sprintf(" (%s Hz in all)", strconv.FormatFloat(r.Offered, 'f', -1, 64))
		}
		return s
	}
	var b strings.Builder
	b.WriteString(what + ": ")
	switch {
	case knee < 0 && over >= 0:
		fmt.Fprintf(&b, "even %s miss %s: %s", loadOf(rows[over]), budget, rows[over].Why)
		return b.String()
	case knee < 0:
		return b.String() + "no step ran"
	}
	fmt.Fprintf(&b, "%s meet %s", loadOf(rows[knee]), budget)
	if over < 0 {
		return b.String() + "; every step tried met it"
	}
	r := rows[over]
	at := fmt.Sprintf("%d edges", r.Edges)
	if !bySweptEdges {
		at = strconv.FormatFloat(r.Rate, 'f', -1, 64) + " Hz"
	}
	q := func(res metrics.Result, name string) float64 {
		st, ok := res.Stage(name)
		if !ok {
			return math.NaN()
		}
		switch quantile {
		case 0.5:
			return st.P50
		case 0.9:
			return st.P90
		}
		return st.P99
	}
	// The part of the loop that grew the most from the knee to the next
	// load is what gave.
	blame, grew := "", 0.0
	for _, name := range componentStages {
		d := q(r.Result, name) - q(rows[knee].Result, name)
		if !math.IsNaN(d) && d > grew {
			blame, grew = name, d
		}
	}
	total := q(r.Result, stage)
	switch {
	case !r.Stable:
		fmt.Fprintf(&b, "; at %s the run does not settle (%s)", at, r.Why)
	case r.Loss > 0 && (math.IsNaN(total) || total <= limit):
		fmt.Fprintf(&b, "; at %s %s", at, r.Why)
	case blame != "" && !math.IsNaN(total):
		fmt.Fprintf(&b, "; at %s the %s stage takes %s to %s", at, blame, qname, FormatValue(total, metrics.Seconds))
	default:
		fmt.Fprintf(&b, "; at %s %s", at, r.Why)
	}
	return b.String()
}
