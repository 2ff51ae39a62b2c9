package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

const sweepUsage = `sweep (--edges LIST | --rates LIST) [--rate HZ] --budget pNN=DURATION [--max-loss SHARE] [options]

Finds how much load one inference server takes within a latency budget.
Each step runs a fleet of edges at a fixed rate until it is stable — its
last 3 windows (of at least --window and --window-iterations records) agree
within 10 % on the reply rate and on the budget's quantile, as
perf_analyzer does — or gives up after --max-windows. Only the stable
windows count. The steps go up in load until one misses the budget; with
--search bisect the sweep then halves the gap between the last step that
met it and the first that did not, as ros2_benchmark does. The budget is
on the end-to-end latency from the schedule unless it names a stage
(upload:p99=10ms).

LIST is comma-separated values or ranges: 1,2,4,8 or 1:32:x2 (doubling)
or 10:80:+10. Without --network-config the server runs in this process on
loopback (--model-name, --workers, --max-batch); with one, the edges go to
its server. Writes DIR/sweep.csv and each step's pooled summary under
DIR/step-N/, and prints the verdict.

Examples:
  peernet sweep --edges 1,2,4,8 --rate 50 --model-name dummy:infer=4ms --budget p99=40ms
  peernet sweep --edges 1:64:x2 --rate 30 --search bisect --budget p99=50ms --max-loss 1%
  peernet sweep --rates 10,20,40,80 --edges 2 --network mqtt --budget p99=100ms`

func sweepCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("sweep", sweepUsage, stderr)
	o.common(fs)
	o.client(fs)
	o.server(fs)
	o.metricsFlags(fs)
	var edges, rates stepsFlag
	var so run.SweepOptions
	var budget, maxLoss string
	fs.Var(&edges, "edges", "edge counts to step through, `LIST` (default 1)")
	fs.Var(&rates, "rates", "rates per edge to step through, in Hz, `LIST` (default: --rate)")
	fs.StringVar(&budget, "budget", "", "what a step must meet, `pNN=DURATION` or STAGE:pNN=DURATION (required)")
	fs.StringVar(&maxLoss, "max-loss", "1%", "the most of the slots a step may lose, miss or fail, `SHARE` (1% or 0.01)")
	fs.DurationVar(&so.Window, "window", run.DefaultWindow, "shortest measurement window")
	fs.IntVar(&so.WindowIterations, "window-iterations", run.DefaultWindowIterations, "fewest records in a window")
	fs.IntVar(&so.MaxWindows, "max-windows", run.DefaultMaxWindows, "windows a step runs at most before it is called unstable")
	fs.StringVar(&so.Search, "search", run.SearchLinear, "linear or bisect")
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if so.Budget, err = run.ParseBudget(budget); err != nil {
		if budget == "" {
			return usagef("-budget is required, e.g. -budget p99=50ms")
		}
		return usageError{err}
	}
	if so.MaxLoss, err = parseShare(maxLoss); err != nil {
		return usagef("-max-loss %q: %v", maxLoss, err)
	}
	so.Edges = []int{1}
	if len(edges) > 0 {
		so.Edges = nil
		for _, e := range edges {
			if e != math.Trunc(e) || e < 1 || e > maxEdges {
				return usagef("-edges %g: want whole numbers 1–%d", e, maxEdges)
			}
			so.Edges = append(so.Edges, int(e))
		}
	}
	so.Rates = rates
	if len(rates) == 0 {
		if o.rate <= 0 {
			return usagef("-rate (or -rates) is required: a sweep runs at a fixed rate")
		}
		so.Rates = []float64{o.rate}
	}
	for _, r := range so.Rates {
		if !(r > 0) {
			return usagef("-rates %g: want positive rates", r)
		}
	}
	if len(so.Edges) > 1 && len(so.Rates) > 1 {
		return usagef("sweep -edges or -rates, not both")
	}
	if so.Search != run.SearchLinear && so.Search != run.SearchBisect {
		return usagef("-search %q: want linear or bisect", so.Search)
	}
	o.rate = so.Rates[0] // the steps set it, and the edges

	remote := o.networkConfig != ""
	cfg, tr, err := o.openNetwork(true)
	if err != nil {
		return err
	}
	if o.name == "" {
		o.name = firstClient(cfg)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !remote && !given["clock"] {
		o.clockMode = clock.ModeSameClock
	}
	role := "sweep"
	if !remote {
		role = "bench" // both ends in this process: same-clock allowed
	}
	mode, sopts, err := o.prepareClient(role)
	if err != nil {
		return err
	}
	base, err := cfg.Device(o.name)
	if err != nil {
		return usagef("-name: %v", err)
	}
	most := 0
	for _, e := range so.Edges {
		most = max(most, e)
	}
	fcfg := cfg.WithEdges(base.Host, run.FleetNames(o.name, most*2)...) // room for bisection

	dir := o.resultLoc
	if dir == "" {
		if dir, err = run.UniqueDir("results", "sweep"); err != nil {
			return err
		}
	} else if err := run.ClaimDir(dir, o.overwrite); err != nil {
		return usageError{err}
	}

	live, err := o.startMetrics(stderr)
	if err != nil {
		return err
	}
	defer live.close()
	ctx, stop := interruptible(stderr)
	defer stop()
	what := o.network + ", " + o.modelName
	if !remote {
		gauges, onAnswer, err := live.server(&o, cfg.Server)
		if err != nil {
			return err
		}
		engines, closeEngines, err := openEngines(o)
		if err != nil {
			return err
		}
		defer closeEngines()
		clientClock := clock.New(0)
		o.clientClock, o.sameClockOffset = clientClock, o.clockSkew
		srv, err := run.StartServer(context.Background(), tr, fcfg, run.ServerOptions{
			Engines: engines, MaxBatch: o.maxBatch, MaxFrame: o.maxFrame, Clock: clientClock.WithSkew(o.clockSkew), Log: io.Discard,
			Gauges: gauges, OnAnswer: onAnswer,
		})
		if err != nil {
			return err
		}
		defer func() { _, _ = srv.Stop() }() // its errors end no step; sweep.csv says how each went
		what += fmt.Sprintf(", %d worker", o.workers)
		if o.workers > 1 {
			what += "s"
		}
		if o.maxBatch > 1 {
			what += fmt.Sprintf(", batches of up to %d", o.maxBatch)
		}
	} else {
		what += " at " + fcfg.ServerAddr()
	}
	client := o.clientOptions(mode)
	client.GiveUp = min(client.GiveUp, 10*so.Window) // an edge that stops answering leaves the step
	so.Fleet = run.FleetOptions{
		Transport: tr, Config: fcfg, Client: client,
		OpenSensor: func(ctx context.Context, i int) (sensor.Sensor, error) {
			s := sopts
			s.Seed += uint64(i)
			return run.OpenSensor(ctx, s)
		},
		Sinks: live.edges(&o, run.FleetNames(o.name, most*2)),
	}
	so.NamePrefix = o.name
	so.Log = logWriter(o.quiet, stderr)
	var stepErr error
	so.Step = func(st run.SweepStep) { // each step's pooled windows, as a results directory merges them
		sdir := filepath.Join(dir, fmt.Sprintf("step-%d", st.Index))
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			stepErr = errors.Join(stepErr, err)
			return
		}
		stepErr = errors.Join(stepErr, report.WriteSummary(sdir, st.Summary, report.Clock{}, nil))
	}
	res, sweepErr := run.Sweep(ctx, so)
	rows := make([]report.SweepRow, len(res.Steps))
	for i, st := range res.Steps {
		rows[i] = st.Row()
	}
	err = report.WriteFileAtomic(filepath.Join(dir, report.SweepFile), func(w io.Writer) error { return report.WriteSweepCSV(w, rows) })
	verdict := report.SweepVerdict(rows, res.Knee, res.Over, what, so.Budget.Stage, so.Budget.Quantile, so.Budget.Limit.Seconds(), len(so.Edges) > 1)
	if werr := report.WriteFileAtomic(filepath.Join(dir, "verdict.txt"), func(w io.Writer) error {
		_, err := fmt.Fprintln(w, verdict)
		return err
	}); werr != nil {
		err = errors.Join(err, werr)
	}
	if !o.quiet {
		writeSweepTable(stdout, rows, so.Budget)
		fmt.Fprintf(stdout, "\n%s\nresults: %s\n", verdict, dir)
	}
	if errors.Is(sweepErr, context.Canceled) {
		sweepErr = nil // Ctrl-C: what ran is written
	}
	return errors.Join(sweepErr, err, stepErr)
}

// writeSweepTable prints the steps.
func writeSweepTable(w io.Writer, rows []report.SweepRow, b run.Budget) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	q := "p" + strconv.FormatFloat(b.Quantile*100, 'f', -1, 64)
	fmt.Fprintf(tw, "step\tedges\trate\toffered\tachieved\t%s %s\tqueue %s\tloss\twindows\tstable\tmeets\tcpu\tserver cpu\t\n", b.Stage, q, q)
	for _, r := range rows {
		stat := func(name string) string {
			st, ok := r.Result.Stage(name)
			if !ok {
				return "-"
			}
			v := st.P99
			switch b.Quantile {
			case 0.5:
				v = st.P50
			case 0.9:
				v = st.P90
			}
			return report.FormatValue(v, metrics.Seconds)
		}
		srv := "-"
		if r.ServerCPU > 0 {
			srv = strconv.FormatFloat(r.ServerCPU, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%d\t%d\t%g Hz\t%g Hz\t%.1f Hz\t%s\t%s\t%.2f %%\t%d\t%s\t%s\t%.2f\t%s\t\n",
			r.Step, r.Edges, r.Rate, r.Offered, r.Achieved, stat(b.Stage), stat(metrics.StageQueue), 100*r.Loss, r.Windows,
			yes[r.Stable], yes[r.Meets], r.CPU, srv)
	}
	_ = tw.Flush() // the table is a courtesy: sweep.csv holds the numbers
}

var yes = map[bool]string{true: "yes", false: "no"}

// parseShare reads "1%" or "0.01".
func parseShare(s string) (float64, error) {
	v, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, errors.New("want a share such as 1% or 0.01")
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return 0, errors.New("want a share between 0 and 100 %")
	}
	return f, nil
}

// stepsFlag is a list of numbers: values, and ranges START:END:xFACTOR or
// START:END:+STEP.
type stepsFlag []float64

func (s *stepsFlag) String() string {
	parts := make([]string, len(*s))
	for i, v := range *s {
		parts[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strings.Join(parts, ",")
}

// maxSteps bounds how many values a list may expand to.
const maxSteps = 1000

func (s *stepsFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		if len(fields) == 1 {
			f, err := strconv.ParseFloat(part, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%q is not a number", part)
			}
			*s = append(*s, f)
			continue
		}
		if len(fields) != 3 {
			return fmt.Errorf("range %q: want START:END:xFACTOR or START:END:+STEP", part)
		}
		lo, err1 := strconv.ParseFloat(fields[0], 64)
		hi, err2 := strconv.ParseFloat(fields[1], 64)
		op, arg := fields[2][:min(1, len(fields[2]))], fields[2][min(1, len(fields[2])):]
		by, err3 := strconv.ParseFloat(arg, 64)
		if err1 != nil || err2 != nil || err3 != nil || !(lo > 0) || hi < lo || math.IsInf(hi, 0) ||
			(op == "x" && !(by > 1)) || (op == "+" && !(by > 0)) || (op != "x" && op != "+") {
			return fmt.Errorf("range %q: want START:END:xFACTOR (factor > 1) or START:END:+STEP (step > 0), 0 < START ≤ END", part)
		}
		for x := lo; x <= hi*(1+1e-9); {
			if len(*s) >= maxSteps {
				return fmt.Errorf("range %q: more than %d values", part, maxSteps)
			}
			*s = append(*s, math.Round(x*1e6)/1e6)
			if op == "x" {
				x *= by
			} else {
				x += by
			}
		}
	}
	return nil
}
