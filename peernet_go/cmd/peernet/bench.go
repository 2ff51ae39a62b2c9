package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
)

// defaultBenchIterations is what bench runs when -iterations is not given.
const defaultBenchIterations = 1000

const benchUsage = `bench [client and server options]

Runs a client and a server in this process, over loopback (or the network
config given), on one clock: the offset between the two ends is known
exactly (same-clock), so one-way delays need no estimate. It runs 1000
iterations unless --iterations says otherwise (0: until Ctrl-C). With
--edges N it runs N edges at once against the one server, as fleet does,
and writes the server's own summary under DIR/server.

Examples:
  peernet bench --iterations 2000 --sensor-type random-string --sensor-size 1024 --result-loc /tmp/r
  peernet bench --network udp --sensor-size 200000 --iterations 500
  peernet bench --edges 4 --rate 50 --model-name dummy:infer=4ms --result-loc /tmp/fleet
  peernet bench --sensor-type synthetic-camera --model-name onnx:face.onnx --workers 2`

func benchCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("bench", benchUsage, stderr)
	o.common(fs)
	o.metricsFlags(fs)
	o.client(fs)
	o.fleet(fs)
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

	live, err := o.startMetrics(stderr)
	if err != nil {
		return err
	}
	defer live.close()
	gauges, onAnswer, err := live.server(&o, cfg.Server)
	if err != nil {
		return err
	}
	srv, err := run.StartServer(context.Background(), tr, cfg, run.ServerOptions{
		Engines: engines, MaxBatch: o.maxBatch, MaxFrame: o.maxFrame, Clock: serverClock, Log: io.Discard,
		Gauges: gauges, OnAnswer: onAnswer,
	})
	if err != nil {
		return err
	}
	skew := o.clockSkew
	o.clockSkew = 0 // the skew is the server's
	o.clientClock, o.sameClockOffset = clientClock, skew
	fill := func(info *report.RunInfo) {
		info.Model = report.ModelInfo{Name: o.modelName, Device: o.device}
		if skew != 0 {
			info.Model.Options = map[string]string{"server-clock-skew": skew.String()}
		}
	}
	if o.edges == 1 {
		err = o.runClient(tr, cfg, "bench", stdout, stderr, fill)
		_, srvErr := srv.Stop()
		return errors.Join(err, srvErr)
	}
	if o.resultLoc == "" {
		if o.resultLoc, err = run.UniqueDir("results", o.name+"-fleet"); err != nil {
			_, serr := srv.Stop()
			return errors.Join(err, serr)
		}
	}
	err = o.runFleet(tr, cfg, "bench", stdout, stderr, fill)
	st, srvErr := srv.Stop()
	if werr := run.WriteServerResults(filepath.Join(o.resultLoc, "server"), st, nil); werr != nil {
		srvErr = errors.Join(srvErr, werr)
	}
	return errors.Join(err, srvErr)
}
