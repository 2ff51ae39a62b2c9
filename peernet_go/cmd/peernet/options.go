package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// options holds every flag of the run commands; each command registers the
// groups it uses.
type options struct {
	// common
	name, network, networkConfig string
	iterations                   int
	timeout                      time.Duration
	clockMode                    string
	clockSkew                    time.Duration
	quiet                        bool
	maxFrame                     int
	resultLoc                    string
	overwrite                    bool
	metricsAddr, metricsToken    string
	metricsLinger                time.Duration
	live                         *liveMetrics // the endpoint of metricsAddr, once started

	// client
	sensorType, sensorSize, datasetLoc, sensorObject string
	sensorResolution, sensorFormat, sensorEncoding   string
	jpegQuality                                      int
	seed                                             uint64
	topics                                           listFlag
	replayRate                                       float64
	loop                                             bool
	rate                                             float64
	warmup                                           int
	clockProbes                                      int
	clockInterval                                    time.Duration
	maxClockError                                    time.Duration
	giveUp, connect                                  time.Duration
	maxErrors                                        int
	generatePlots                                    bool
	mcap                                             bool
	writeReport                                      bool
	liveWindow                                       time.Duration
	recordOutputs                                    bool

	// fleet
	edges     int
	withEdges bool // the command takes -edges

	// server
	modelName, device, ortLib string
	workers, maxBatch         int

	// bench: the client's clock, shared with the server, and the exact
	// offset between them
	clientClock     *clock.Clock
	sameClockOffset time.Duration
}

func (o *options) common(fs *flag.FlagSet) {
	fs.StringVar(&o.name, "name", "", "this device's `name` in the network config (default: the config's client or server device)")
	fs.StringVar(&o.network, "network", "zmq-tcp", "transport: "+strings.Join(transportNames(), ", "))
	fs.StringVar(&o.networkConfig, "network-config", "", "PEERNet network YAML `file` (devices, server, start_port)")
	fs.IntVar(&o.iterations, "iterations", 0, "iterations to run, with --rate scheduled slots; the server stops after answering this many (0: no limit; bench runs 1000 when not given)")
	fs.DurationVar(&o.timeout, "timeout", run.DefaultTimeout, "deadline for each reply; a later reply counts as lost")
	fs.StringVar(&o.clockMode, "clock", "handshake", "clock `mode`: handshake, assume-synced or ntp:HOST[:PORT] (bench: same-clock, exact, unless given)")
	fs.DurationVar(&o.clockSkew, "clock-skew", 0, "pretend this node's clock is off by `duration` (for demonstrations)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar and no summary on the terminal")
	fs.IntVar(&o.maxFrame, "max-frame", wire.DefaultMaxSize, "largest frame sent or answered, in `bytes`")
	fs.StringVar(&o.resultLoc, "result-loc", "", "results `directory` (default results/<name>-<time>; the server writes one only when given)")
	fs.BoolVar(&o.overwrite, "overwrite", false, "replace the results of an earlier run in -result-loc")
}

// metricsFlags registers the live-metrics flags (see live.go).
func (o *options) metricsFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve live Prometheus metrics at http://`HOST:PORT`/metrics (no host: loopback; beyond loopback needs -metrics-token-file)")
	fs.StringVar(&o.metricsToken, "metrics-token-file", "", "`file` whose first line is the bearer token every metrics scrape must present")
	fs.DurationVar(&o.metricsLinger, "metrics-linger", 0, "after the run, keep serving metrics until the next scrape, at most this `long`, so that the last figures reach Prometheus")
}

func (o *options) client(fs *flag.FlagSet) {
	fs.StringVar(&o.sensorType, "sensor-type", "random-bytes", "sensor: random-bytes, random-string, image, image-folder, synthetic-camera, rosbag, external, exec:COMMAND")
	fs.StringVar(&o.sensorSize, "sensor-size", "1024", "random sample size in bytes, `N` or MIN:MAX")
	fs.StringVar(&o.datasetLoc, "dataset-loc", "", "image `path`, image folder, camera background or rosbag")
	fs.StringVar(&o.sensorObject, "sensor-object", "", "Go plugin sensor, `path.so::Symbol`")
	fs.StringVar(&o.sensorResolution, "sensor-resolution", "640x480", "synthetic camera frame size, `WxH`")
	fs.StringVar(&o.sensorFormat, "sensor-format", "", "image output: jpeg or rgb8 (camera default jpeg; images default as stored)")
	fs.StringVar(&o.sensorEncoding, "sensor-encoding", "", "encoding declared for external and exec samples (default bytes)")
	fs.IntVar(&o.jpegQuality, "jpeg-quality", 90, "synthetic camera JPEG `quality` (1-100)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the random sensors (0: a fixed default)")
	fs.Var(&o.topics, "topic", "rosbag `topic` to replay (repeatable; default all)")
	fs.Float64Var(&o.replayRate, "replay-rate", 0, "rosbag replay speed: 1 recorded timing, 2 twice as fast, 0 as fast as possible")
	fs.BoolVar(&o.loop, "loop", false, "replay the rosbag again when it ends")
	fs.Float64Var(&o.rate, "rate", 0, "sampling rate in `Hz` (0: as fast as possible)")
	fs.IntVar(&o.warmup, "warmup", 0, "first `N` iterations are recorded but left out of the summary")
	fs.IntVar(&o.clockProbes, "clock-probes", run.DefaultClockProbes, "clock probes per burst (handshake)")
	fs.DurationVar(&o.clockInterval, "clock-interval", run.DefaultClockInterval, "time between clock probe bursts during the run (negative: only before)")
	fs.DurationVar(&o.maxClockError, "max-clock-error", run.DefaultMaxClockError, "flag one-way delays as unsync when the clock bound exceeds this")
	fs.DurationVar(&o.connect, "connect-timeout", run.DefaultConnect, "how long to wait for the server's first answer")
	fs.DurationVar(&o.giveUp, "give-up", run.DefaultGiveUp, "end the run when the server has not answered for this long")
	fs.IntVar(&o.maxErrors, "max-errors", run.DefaultMaxErrors, "stop with exit status 1 after `N` iterations in a row failed (negative: never)")
	fs.BoolVar(&o.generatePlots, "generate-plots", false, "write histogram PNGs under <result-loc>/plots")
	fs.BoolVar(&o.writeReport, "report", false, "at the end, also write <result-loc>/report.html (see peernet report)")
	fs.DurationVar(&o.liveWindow, "live-window", time.Second, "on a terminal, below the progress bar, the statistics of each window this long")
	fs.BoolVar(&o.mcap, "mcap", false, "also write <result-loc>/results.mcap for Foxglove and PlotJuggler: one JSON message per iteration on /peernet/iterations")
	fs.BoolVar(&o.recordOutputs, "record-outputs", false, "keep each reply's payload in records.jsonl")
}

func (o *options) fleet(fs *flag.FlagSet) {
	o.withEdges = true
	fs.IntVar(&o.edges, "edges", 1, "run `N` edges at once, each with its own connection, name, sensor and clock (results per edge, and pooled)")
}

func (o *options) server(fs *flag.FlagSet) {
	fs.StringVar(&o.modelName, "model-name", "dummy", "model: dummy[:pre=D,infer=D,post=D], echo, onnx:PATH, path.so::Symbol, exec:COMMAND")
	fs.StringVar(&o.modelName, "model_name", "dummy", "alias of -model-name")
	fs.StringVar(&o.device, "device", "cpu", "inference device: cpu, cuda[:N] or tensorrt (ONNX models)")
	fs.StringVar(&o.ortLib, "ort-lib", "", "ONNX Runtime shared library `path` (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, then the cache)")
	fs.IntVar(&o.workers, "workers", 1, "inference workers serving requests concurrently")
	fs.IntVar(&o.maxBatch, "max-batch", 1, "requests a worker may take from the queue at once")
}

// listFlag collects a repeatable string flag; commas separate values too.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// parseResolution parses "WxH".
func parseResolution(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return 0, 0, fmt.Errorf("-sensor-resolution %q: want WxH, e.g. 640x480", s)
	}
	return w, h, nil
}

// check refuses option values that cannot mean anything, with one line
// naming the option.
func (o *options) check(client bool) error {
	switch {
	case o.iterations < 0:
		return usagef("-iterations %d: want 0 (no limit) or more", o.iterations)
	case o.timeout <= 0:
		return usagef("-timeout %v: want a positive duration", o.timeout)
	case o.maxFrame < wire.FixedHeaderSize:
		return usagef("-max-frame %d: want at least %d bytes (a frame header)", o.maxFrame, wire.FixedHeaderSize)
	}
	if !client {
		return nil
	}
	switch {
	case o.warmup < 0:
		return usagef("-warmup %d: want 0 or more", o.warmup)
	case o.rate < 0:
		return usagef("-rate %g: want 0 (as fast as possible) or a positive rate in Hz", o.rate)
	case o.clockProbes <= 0:
		return usagef("-clock-probes %d: want at least 1", o.clockProbes)
	case o.jpegQuality < 1 || o.jpegQuality > 100:
		return usagef("-jpeg-quality %d: want 1–100", o.jpegQuality)
	case o.giveUp <= 0:
		return usagef("-give-up %v: want a positive duration", o.giveUp)
	case o.connect <= 0:
		return usagef("-connect-timeout %v: want a positive duration", o.connect)
	case o.maxClockError <= 0:
		return usagef("-max-clock-error %v: want a positive duration", o.maxClockError)
	case o.maxErrors == 0:
		return usagef("-max-errors 0: want N ≥ 1, or a negative value to never stop")
	case o.withEdges && (o.edges < 1 || o.edges > maxEdges):
		return usagef("-edges %d: want 1–%d", o.edges, maxEdges)
	}
	return nil
}

// maxEdges bounds -edges: each edge holds a connection and a goroutine.
const maxEdges = 4096

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
