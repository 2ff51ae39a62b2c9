package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// defaultBenchIterations is what bench runs when -iterations is not given.
const defaultBenchIterations = 1000

func transportNames() []string { return run.TransportNames() }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: peernet %s\n\nOptions:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning flag errors into usage errors. Positional
// arguments are refused.
func parse(fs *flag.FlagSet, args []string) error { return parseN(fs, args, 0, "") }

// parseN parses args and wants exactly n positional arguments, described
// by what.
func parseN(fs *flag.FlagSet, args []string, n int, what string) error {
	fs.SetOutput(io.Discard) // the one-line error is printed by runMain
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(os.Stderr)
		fs.Usage()
		return errHelp
	case err != nil:
		return usageError{err}
	case n == 0 && fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case fs.NArg() != n:
		return usagef("%s needs %s", fs.Name(), what)
	}
	return nil
}

func serverCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("server", "server --name NAME --network-config FILE [--model-name dummy] [options]", stderr)
	o.common(fs)
	o.server(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := o.check(false); err != nil {
		return err
	}
	cfg, tr, err := o.openNetwork(false)
	if err != nil {
		return err
	}
	if o.name == "" {
		o.name = cfg.Server
	}
	if o.resultLoc != "" {
		if err := run.ClaimDir(o.resultLoc, o.overwrite); err != nil {
			return usageError{err}
		}
	}
	engines, closeEngines, err := openEngines(o)
	if err != nil {
		return err
	}
	defer closeEngines()

	ctx, stop := interruptible(stderr)
	defer stop()
	conn, err := tr.Listen(ctx, cfg, o.name)
	if err != nil {
		return fmt.Errorf("listening as %s: %w", o.name, err)
	}
	defer conn.Close()
	if !o.quiet {
		fmt.Fprintf(stderr, "peernet server %s: %s on %s, model %s\n", o.name, o.network, cfg.ServerAddr(), o.modelName)
	}
	info := report.NewRunInfo(version, append([]string{"peernet"}, os.Args[1:]...))
	info.Role, info.Transport = "server", o.network
	info.Model = report.ModelInfo{Name: o.modelName, Device: o.device}
	info.Hosts.Server, _ = os.Hostname()
	st, err := run.Serve(ctx, run.ServerOptions{
		Conn: conn, Engines: engines, MaxBatch: o.maxBatch, Iterations: o.iterations, MaxFrame: o.maxFrame,
		Clock: clock.New(o.clockSkew), Log: logWriter(o.quiet, stderr),
	})
	if !o.quiet {
		fmt.Fprintf(stderr, "peernet server %s: %d requests (%d failed) from %d peers, %d clock probes, %d bad frames; workers busy %.1f %%\n",
			o.name, st.Requests, st.Errors, len(st.Peers), st.Probes, st.BadFrames, 100*st.Utilisation())
	}
	if o.resultLoc != "" {
		info.End = time.Now()
		if werr := run.WriteServerResults(o.resultLoc, st, &info); werr != nil {
			err = errors.Join(err, werr)
		} else if !o.quiet {
			fmt.Fprintf(stderr, "peernet server %s: summary in %s\n", o.name, o.resultLoc)
		}
	}
	return err
}

func clientCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("client", "client --name NAME --network-config FILE --sensor-type TYPE --iterations N [options]", stderr)
	o.common(fs)
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
	return o.runClient(tr, cfg, "client", stdout, stderr, nil)
}

func benchCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("bench", "bench [client and server options]", stderr)
	o.common(fs)
	o.client(fs)
	o.server(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["iterations"] {
		o.iterations = defaultBenchIterations
	}
	if !given["clock"] {
		o.clockMode = clock.ModeSameClock // one process, one clock: the offset is known
	}
	if err := o.check(true); err != nil {
		return err
	}
	cfg, tr, err := o.openNetwork(true)
	if err != nil {
		return err
	}
	engines, closeEngines, err := openEngines(o)
	if err != nil {
		return err
	}
	defer closeEngines()
	if o.name == "" {
		o.name = firstClient(cfg)
	}
	clientClock := clock.New(0)
	serverClock := clientClock.WithSkew(o.clockSkew)

	srv, err := run.StartServer(context.Background(), tr, cfg, run.ServerOptions{
		Engines: engines, MaxBatch: o.maxBatch, MaxFrame: o.maxFrame, Clock: serverClock, Log: io.Discard,
	})
	if err != nil {
		return err
	}
	skew := o.clockSkew
	o.clockSkew = 0 // the skew is the server's
	o.clientClock, o.sameClockOffset = clientClock, skew
	err = o.runClient(tr, cfg, "bench", stdout, stderr, func(info *report.RunInfo) {
		info.Model = report.ModelInfo{Name: o.modelName, Device: o.device}
		if skew != 0 {
			info.Model.Options = map[string]string{"server-clock-skew": skew.String()}
		}
	})
	_, srvErr := srv.Stop()
	return errors.Join(err, srvErr)
}

// network loads the network config and transport. Without a config file,
// bench uses a loopback config on a free port.
func (o *options) openNetwork(loopbackDefault bool) (*network.Config, network.Transport, error) {
	tr, err := run.Transport(o.network)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if o.networkConfig == "" {
		if !loopbackDefault {
			return nil, nil, usagef("-network-config is required (a PEERNet network YAML, e.g. config/network.yaml)")
		}
		port, err := loopback.FreePort()
		if err != nil {
			return nil, nil, err
		}
		return network.Loopback(port - 1), tr, nil // the server, device 1, listens on port
	}
	cfg, err := network.LoadConfig(o.networkConfig)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if o.name != "" {
		if _, err := cfg.Device(o.name); err != nil {
			return nil, nil, usagef("-name: %v", err)
		}
	}
	return cfg, tr, nil
}

// firstClient returns the first device that is not the server.
func firstClient(cfg *network.Config) string {
	for _, d := range cfg.Devices {
		if d.Name != cfg.Server {
			return d.Name
		}
	}
	return cfg.Devices[0].Name
}

func (o *options) sensorOptions() (sensor.Options, error) {
	w, h, err := parseResolution(o.sensorResolution)
	if err != nil {
		return sensor.Options{}, usageError{err}
	}
	return sensor.Options{
		Type: o.sensorType, Size: o.sensorSize, Seed: o.seed, DatasetLoc: o.datasetLoc,
		Width: w, Height: h, Format: o.sensorFormat, Quality: o.jpegQuality,
		Object: o.sensorObject, Encoding: o.sensorEncoding,
		Topics: o.topics, ReplayRate: o.replayRate, Loop: o.loop, Timeout: o.timeout,
	}, nil
}

// runClient runs the client loop against cfg's server and writes the results.
func (o *options) runClient(tr network.Transport, cfg *network.Config, role string, stdout, stderr io.Writer, fill func(*report.RunInfo)) error {
	mode, err := clock.ParseMode(o.clockMode)
	if err != nil {
		return usageError{err}
	}
	if mode.Name == clock.ModeSameClock && role != "bench" {
		return usagef("-clock same-clock: only for bench, whose two ends share one clock")
	}
	if err := o.check(true); err != nil {
		return err
	}
	sopts, err := o.sensorOptions()
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
	var period time.Duration
	if o.rate > 0 {
		period = time.Duration(float64(time.Second) / o.rate)
	}
	res, err := run.CreateResults(dir, &info, run.ResultsOptions{Period: period, Plots: o.generatePlots, Overwrite: o.overwrite})
	if errors.Is(err, run.ErrResultsExist) {
		return usageError{err}
	}
	if err != nil {
		return err
	}

	sinks := res.Sinks()
	bar := o.progress(stderr)
	if bar != nil {
		sinks = append(sinks, metrics.SinkFunc(func(*metrics.Record) error { return bar.Add(1) }))
	}
	clk := o.clientClock
	if clk == nil {
		clk = clock.New(o.clockSkew)
	}
	result, runErr := run.Client(ctx, run.ClientOptions{
		Conn: conn, Sensor: s, Iterations: o.iterations, Rate: o.rate, Timeout: o.timeout,
		Warmup: o.warmup, Clock: clk, ClockMode: mode, SameClockOffset: o.sameClockOffset,
		ClockProbes: o.clockProbes, ClockInterval: o.clockInterval, GiveUp: o.giveUp, Connect: o.connect,
		MaxErrors: o.maxErrors, MaxFrame: o.maxFrame, RecordOutputs: o.recordOutputs, Sinks: sinks,
	})
	conn.Close()
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(stderr)
	}
	if errors.Is(runErr, run.ErrNoServer) {
		runErr = fmt.Errorf("%w at %s (%s): is `peernet server --name %s` running?", runErr, cfg.ServerAddr(), o.network, cfg.Server)
	}
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
	rc := run.ReportClock(result.Clock, o.maxClockError)
	rc.SyncState = info.TimeSync[info.Hosts.Client]
	finErr := res.Finish(rc)
	if !o.quiet && result.Iterations > 0 {
		if b, err := os.ReadFile(filepath.Join(dir, metrics.SummaryText)); err == nil {
			stdout.Write(b)
		}
		fmt.Fprintf(stdout, "results: %s\n", dir)
	}
	return errors.Join(runErr, finErr)
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
	if state := clock.SyncState(); state != "" {
		info.TimeSync = map[string]string{host: state}
	}
	return info
}

// progress returns a progress bar on a terminal, or nil.
func (o *options) progress(stderr io.Writer) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if o.quiet || !ok || !isatty.IsTerminal(f.Fd()) {
		return nil
	}
	max := int64(o.iterations)
	if max == 0 {
		max = -1
	}
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("iterations"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
	)
}

// interruptible returns a context cancelled by the first Ctrl-C (or
// SIGTERM); a second one exits at once.
func interruptible(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sig:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(stderr, "\npeernet: stopping, writing the results (interrupt again to quit at once)")
		cancel()
		<-sig
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}

func logWriter(quiet bool, stderr io.Writer) io.Writer {
	if quiet {
		return io.Discard
	}
	return stderr
}

// openEngines opens one model instance per --workers (see run.OpenEngines),
// with a function that closes them all.
func openEngines(o options) ([]*inference.Engine, func(), error) {
	if o.workers < 1 || o.workers > run.MaxWorkers || o.maxBatch < 1 || o.maxBatch > 4096 {
		return nil, nil, usagef("-workers must be 1–%d and -max-batch 1–4096", run.MaxWorkers)
	}
	engines, closeAll, err := run.OpenEngines(run.ModelOptions{
		Name: o.modelName, Device: o.device, ORTLib: o.ortLib, Workers: o.workers,
	})
	if se := (*run.SpecError)(nil); errors.As(err, &se) {
		return nil, nil, usageError{fmt.Errorf("-model-name: %w", err)}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("-model-name: %w", err)
	}
	return engines, closeAll, nil
}

func versionCmd(args []string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "peernet %s\n", version)
	return nil
}
