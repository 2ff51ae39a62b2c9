package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
)

const serverUsage = `server --name NAME --network-config FILE [--model-name MODEL] [options]

Answers the requests of any number of clients with an inference model,
over the transport of --network, until Ctrl-C or --iterations requests. One
goroutine receives every frame as it reaches the process (its arrival is
the end of the upload); requests then wait for one of --workers model
instances (the queue stage). With --result-loc it writes its own summary:
requests, errors and bad frames per client, queue time, worker busy time.

Examples:
  peernet server --name cloud --network-config config/network.yaml
  peernet server --name cloud --network-config net.yaml --model-name dummy:infer=5ms --workers 2
  peernet server --name cloud --network-config net.yaml --model-name onnx:face.onnx --result-loc results/cloud`

func serverCmd(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := newFlagSet("server", serverUsage, stderr)
	o.common(fs)
	o.metricsFlags(fs)
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

	live, err := o.startMetrics(stderr)
	if err != nil {
		return err
	}
	defer live.close()
	gauges, onAnswer, err := live.server(&o, o.name)
	if err != nil {
		return err
	}

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
	if live != nil {
		info.Metrics = live.http.URL()
	}
	st, err := run.Serve(ctx, run.ServerOptions{
		Conn: conn, Engines: engines, MaxBatch: o.maxBatch, Iterations: o.iterations, MaxFrame: o.maxFrame,
		Clock: clock.New(o.clockSkew), Log: logWriter(o.quiet, stderr), Gauges: gauges, OnAnswer: onAnswer,
	})
	if !o.quiet {
		fmt.Fprintf(stderr, "peernet server %s: %d requests (%d failed) from %d peers, %d clock probes, %d bad frames; workers busy %.1f %%\n",
			o.name, st.Requests, st.Errors, len(st.Peers), st.Probes, st.BadFrames, 100*st.Utilisation())
		if sec := st.Security; sec.Refused+sec.Denied+sec.BadTags+sec.Replays > 0 {
			fmt.Fprintf(stderr, "peernet server %s: %s refused %d peers and denied %d operations; %d bad tags, %d replays\n",
				o.name, sec.Mode, sec.Refused, sec.Denied, sec.BadTags, sec.Replays)
		}
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
