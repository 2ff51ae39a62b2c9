package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

const clientUsage = `client --name NAME --network-config FILE [--sensor-type TYPE] [--iterations N] [--rate HZ] [options]

Samples a sensor, sends each sample to the server of the network config,
and times every stage of the reply: sensing, upload and download (one-way,
corrected by the clock offset, with its bound), the server's queue,
preprocessing, inference and postprocessing. Results stream to
--result-loc (data.csv, records.jsonl), and the summary is printed at the
end. With --rate, every slot of the schedule is an iteration: one that
passes while the client cannot send is recorded as missed.

Examples:
  peernet client --name edge --network-config config/network.yaml --iterations 1000 --result-loc results/run1
  peernet client --name edge --network-config net.yaml --sensor-type synthetic-camera --rate 30 --iterations 900
  peernet client --name edge --network-config net.yaml --network mqtt --sensor-type rosbag --dataset-loc bag/ --topic /camera/image_raw`

func clientCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("client", clientUsage, stderr)
	o.common(fs)
	o.metricsFlags(fs)
	o.client(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, tr, err := o.openNetwork(false)
	if err != nil {
		return err
	}
	if o.name == "" {
		o.name = firstClient(cfg)
	}
	live, err := o.startMetrics(stderr)
	if err != nil {
		return err
	}
	defer live.close()
	return o.runClient(tr, cfg, "client", stdout, stderr, nil)
}

// runClient runs the client loop against cfg's server and writes the results.
func (o *options) runClient(tr network.Transport, cfg *network.Config, role string, stdout, stderr io.Writer, fill func(*report.RunInfo)) error {
	mode, sopts, err := o.prepareClient(role)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	s, err := run.OpenSensor(ctx, sopts)
	if err != nil {
		return usageError{err}
	}
	defer s.Close()

	// Dial first: a transport section that does not parse fails here,
	// before a results directory exists.
	conn, err := tr.Dial(ctx, cfg, o.name)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", cfg.ServerAddr(), err)
	}
	defer conn.Close()
	dir := o.resultLoc
	if dir == "" {
		if dir, err = run.UniqueDir("results", o.name); err != nil {
			return err
		}
	}
	info := o.runInfo(role, cfg, mode)
	if fill != nil {
		fill(&info)
	}
	res, err := run.CreateResults(dir, &info, run.ResultsOptions{Period: o.period(), Plots: o.generatePlots, MCAP: o.mcap, Overwrite: o.overwrite})
	if errors.Is(err, run.ErrResultsExist) {
		return usageError{err}
	}
	if err != nil {
		return err
	}

	edge, err := o.live.edge(o, o.name)
	if err != nil {
		return err
	}
	sinks := withEdge(res.Sinks(), edge)
	tty := o.progress(stderr)
	if tty != nil {
		sinks = append(sinks, tty.sinks(o.period(), o.liveWindow)...)
	}
	copts := o.clientOptions(mode)
	copts.Conn, copts.Sensor, copts.Sinks = conn, s, sinks
	result, runErr := run.Client(ctx, copts)
	conn.Close()
	if tty != nil {
		tty.finish()
	}
	if errors.Is(runErr, run.ErrNoServer) {
		runErr = fmt.Errorf("%w at %s (%s): is `peernet server --name %s` running?", runErr, cfg.ServerAddr(), o.network, cfg.Server)
	}
	finishInfo(&info, result, runErr)
	if edge != nil {
		edge.AddBadFrames(result.BadFrames)
	}
	rc := run.ReportClock(result.Clock, o.maxClockError)
	rc.SyncState = info.TimeSync[info.Hosts.Client]
	finErr := res.Finish(rc)
	if o.writeReport && result.Iterations > 0 {
		finErr = errors.Join(finErr, writeReportFile(dir, filepath.Join(dir, "report.html")))
	}
	if !o.quiet && result.Iterations > 0 {
		if b, err := os.ReadFile(filepath.Join(dir, metrics.SummaryText)); err == nil {
			_, _ = stdout.Write(b) // the results are on disk whatever the terminal does
		}
		fmt.Fprintf(stdout, "results: %s\n", dir)
		if o.writeReport {
			fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "report.html"))
		}
	}
	return errors.Join(runErr, finErr)
}

// prepareClient checks the client options of a run in role and returns its
// clock mode and sensor options.
func (o *options) prepareClient(role string) (clock.Mode, sensor.Options, error) {
	mode, err := clock.ParseMode(o.clockMode)
	if err != nil {
		return clock.Mode{}, sensor.Options{}, usageError{err}
	}
	if mode.Name == clock.ModeSameClock && role != "bench" {
		return clock.Mode{}, sensor.Options{}, usagef("-clock same-clock: only for bench, whose two ends share one clock")
	}
	if err := o.check(true); err != nil {
		return clock.Mode{}, sensor.Options{}, err
	}
	sopts, err := o.sensorOptions()
	return mode, sopts, err
}

// period returns the sampling period of -rate, or 0.
func (o *options) period() time.Duration {
	if o.rate > 0 {
		return time.Duration(float64(time.Second) / o.rate)
	}
	return 0
}

// clientOptions returns the client loop's options from the flags; the
// caller sets Conn, Sensor and Sinks.
func (o *options) clientOptions(mode clock.Mode) run.ClientOptions {
	clk := o.clientClock
	if clk == nil {
		clk = clock.New(o.clockSkew)
	}
	return run.ClientOptions{
		Iterations: o.iterations, Rate: o.rate, Timeout: o.timeout,
		Warmup: o.warmup, Clock: clk, ClockMode: mode, SameClockOffset: o.sameClockOffset,
		ClockProbes: o.clockProbes, ClockInterval: o.clockInterval, GiveUp: o.giveUp, Connect: o.connect,
		MaxErrors: o.maxErrors, MaxFrame: o.maxFrame, RecordOutputs: o.recordOutputs,
	}
}

// finishInfo records in run.yaml how a client run ended and what its server
// said of itself.
func finishInfo(info *report.RunInfo, result run.Result, runErr error) {
	info.Interrupted = result.Interrupted || runErr != nil
	if result.ServerHost != "" {
		info.Hosts.Server = result.ServerHost
		if result.ServerSyncState != "" {
			if info.TimeSync == nil {
				info.TimeSync = map[string]string{}
			}
			info.TimeSync[result.ServerHost+" (server)"] = result.ServerSyncState
		}
	}
}

func (o *options) runInfo(role string, cfg *network.Config, mode clock.Mode) report.RunInfo {
	info := report.NewRunInfo(version, append([]string{"peernet"}, os.Args[1:]...))
	info.Role = role
	host, _ := os.Hostname()
	info.Hosts.Client = host
	if d, err := cfg.Device(cfg.Server); err == nil {
		info.Hosts.Server = d.Host
	}
	info.Transport = o.network
	devices := map[string]string{}
	for _, d := range cfg.Devices {
		devices[d.Name] = d.Host
	}
	info.Network = report.NetworkInfo{
		ConfigFile: o.networkConfig, Name: o.name, Server: cfg.Server,
		Devices: devices, StartPort: cfg.StartPort, Endpoint: cfg.ServerAddr(),
	}
	info.Sensor = report.SensorInfo{Type: o.sensorType, Options: map[string]string{}}
	for k, v := range map[string]string{
		"size": o.sensorSize, "dataset-loc": o.datasetLoc, "object": o.sensorObject,
		"resolution": o.sensorResolution, "format": o.sensorFormat, "topics": o.topics.String(),
	} {
		if v != "" {
			info.Sensor.Options[k] = v
		}
	}
	info.Sizes = report.Sizes{Sample: o.sensorSize, MaxFrame: o.maxFrame}
	info.Iterations, info.Warmup, info.Rate, info.Timeout = o.iterations, o.warmup, o.rate, o.timeout
	info.Clock = report.Clock{Mode: mode.String(), MaxError: o.maxClockError}
	if o.live != nil {
		info.Metrics = o.live.http.URL()
	}
	if state := clock.SyncState(); state != "" {
		info.TimeSync = map[string]string{host: state}
	}
	return info
}

// terminal is the progress bar and, below it, the live line of the last
// window, on a terminal; both draw through one lock.
type terminal struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	bar   *progressbar.ProgressBar
	shown bool // a live line is below the bar
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.w.Write(p)
}

// progress returns the terminal's bar and live line, or nil when stderr is
// not a terminal or -quiet.
func (o *options) progress(stderr io.Writer) *terminal {
	f, ok := stderr.(*os.File)
	if o.quiet || !ok || !isatty.IsTerminal(f.Fd()) {
		return nil
	}
	t := &terminal{w: stderr, width: 120}
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
		t.width = w
	}
	max := int64(o.iterations)
	if max == 0 {
		max = -1
	}
	t.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(t), progressbar.OptionSetDescription("iterations"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
	)
	return t
}

// sinks returns the sinks that draw the terminal: the bar counts records,
// and a window of -live-window shows its line below the bar.
func (t *terminal) sinks(period time.Duration, every time.Duration) []metrics.Sink {
	bar := metrics.SinkFunc(func(*metrics.Record) error { return t.bar.Add(1) })
	w, err := window.New(window.Options{Period: every, SummaryOptions: metrics.SummaryOptions{Period: period}, Emit: t.line})
	if err != nil {
		return []metrics.Sink{bar}
	}
	return []metrics.Sink{bar, w}
}

// line draws a window's line below the bar, cut to the terminal's width so
// that it stays on one row, and returns the cursor to the bar.
func (t *terminal) line(w window.Window) error {
	s := []rune(window.Line(w))
	if len(s) > t.width-1 {
		s = append(s[:t.width-2], '…')
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.shown = true
	_, err := fmt.Fprintf(t.w, "\n\x1b[2K%s\x1b[1A\r", string(s))
	return err
}

// finish draws the bar complete and moves below the live line.
func (t *terminal) finish() {
	_ = t.bar.Finish()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shown {
		fmt.Fprint(t.w, "\n")
	}
	fmt.Fprintln(t.w)
}
