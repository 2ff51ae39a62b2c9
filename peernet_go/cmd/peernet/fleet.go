package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/peernet/peernet_go/peernet_go/exporter"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

const fleetUsage = `fleet --edges N --network-config FILE [--name NAME] [client options]

Runs N edges at once from this machine against the server of the network
config, each with its own connection, device name (NAME-0 … NAME-N-1, on
NAME's host), sensor and clock estimate: a fleet of robots sharing one
cloud. Each edge writes its own results directory under --result-loc, and
DIR/pooled holds the pooled summary — percentiles of every record of every
edge, from merged histograms — with a row per edge.

Examples:
  peernet fleet --edges 8 --network-config net.yaml --rate 30 --iterations 900 --result-loc results/fleet8
  peernet fleet --edges 4 --network mqtt --network-config net.yaml --sensor-type synthetic-camera --rate 15`

func fleetCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("fleet", fleetUsage, stderr)
	o.common(fs)
	o.metricsFlags(fs)
	o.client(fs)
	o.fleet(fs)
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
	return o.runFleet(tr, cfg, "fleet", stdout, stderr, nil)
}

// runFleet runs o.edges edges against cfg's server and writes one results
// directory per edge and a pooled one.
func (o *options) runFleet(tr network.Transport, cfg *network.Config, role string, stdout, stderr io.Writer, fill func(*report.RunInfo)) error {
	mode, sopts, err := o.prepareClient(role)
	if err != nil {
		return err
	}
	base, err := cfg.Device(o.name)
	if err != nil {
		return usagef("-name: %v", err)
	}
	names := run.FleetNames(o.name, o.edges)
	fcfg := cfg.WithEdges(base.Host, names...)
	dir := o.resultLoc
	if dir == "" {
		if dir, err = run.UniqueDir("results", o.name+"-fleet"); err != nil {
			return err
		}
	} else if err := run.ClaimDir(dir, o.overwrite); err != nil {
		return usageError{err}
	}
	results := make([]*run.Results, len(names))
	exported := make([]*exporter.Edge, len(names))
	infos := make([]report.RunInfo, len(names))
	for i, name := range names {
		if exported[i], err = o.live.edge(o, name); err != nil {
			return err
		}
		infos[i] = o.runInfo(role, fcfg, mode)
		infos[i].Network.Name = name
		if fill != nil {
			fill(&infos[i])
		}
		if results[i], err = run.CreateResults(filepath.Join(dir, name), &infos[i], run.ResultsOptions{Period: o.period(), Plots: o.generatePlots, MCAP: o.mcap, Overwrite: o.overwrite}); err != nil {
			return err
		}
	}

	ctx, stop := interruptible(stderr)
	defer stop()
	edges, runErr := run.Fleet(ctx, run.FleetOptions{
		Transport: tr, Config: fcfg, Names: names, Client: o.clientOptions(mode),
		OpenSensor: func(ctx context.Context, i int) (sensor.Sensor, error) {
			so := sopts
			so.Seed += uint64(i) // each edge its own random samples
			return run.OpenSensor(ctx, so)
		},
		Sinks: func(i int) []metrics.Sink { return withEdge(results[i].Sinks(), exported[i]) },
	})

	pooled := metrics.NewSummary(metrics.SummaryOptions{Period: o.period()})
	rows := make([]report.FleetEdge, len(edges))
	var finErr error
	for i, e := range edges {
		finishInfo(&infos[i], e.Result, e.Err)
		if exported[i] != nil {
			exported[i].AddBadFrames(e.Result.BadFrames)
		}
		rc := run.ReportClock(e.Result.Clock, o.maxClockError)
		finErr = errors.Join(finErr, results[i].Finish(rc))
		pooled.Merge(results[i].Summary())
		rows[i] = report.FleetEdge{Name: e.Name, Result: results[i].Summary().Result(), Clock: rc}
		if e.Err != nil {
			rows[i].Err = e.Err.Error()
		}
	}
	if err := writePooled(filepath.Join(dir, "pooled"), pooled, rows, o.runInfo(role, fcfg, mode)); err != nil {
		finErr = errors.Join(finErr, err)
	}
	if !o.quiet {
		if b, err := os.ReadFile(filepath.Join(dir, "pooled", metrics.SummaryText)); err == nil {
			_, _ = stdout.Write(b) // the results are on disk whatever the terminal does
		}
		fmt.Fprintf(stdout, "results: %s (one directory per edge, pooled/)\n", dir)
	}
	return errors.Join(runErr, finErr)
}

// writePooled writes a fleet's pooled directory: the merged summary and
// histograms, and summary.txt with a row per edge.
func writePooled(dir string, pooled *metrics.Summary, rows []report.FleetEdge, info report.RunInfo) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	info.Role = "fleet (pooled)"
	if err := report.WriteSummary(dir, pooled, report.Clock{}, &info); err != nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(dir, metrics.SummaryText), func(w io.Writer) error {
		return report.WriteFleetText(w, rows, pooled.Result())
	})
}
