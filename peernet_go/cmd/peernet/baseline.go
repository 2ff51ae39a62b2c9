package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// baselineCmd runs the transport's raw ping-pong, without the profiler: the
// reference the profiler's overhead is measured against.

const baselineUsage = `baseline serve|ping --network-config FILE [--sensor-size N] [--reply-size N] [--iterations N]

The transport's raw ping-pong, without the profiler: what the profiler's
overhead is measured against. Run serve on the server's machine and ping
on the client's; ping prints the round trips' count, mean and percentiles.

Examples:
  peernet baseline serve --network-config net.yaml
  peernet baseline ping --network-config net.yaml --sensor-size 1024 --iterations 10000`

func baselineCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "serve" && args[0] != "ping") {
		return usagef("baseline needs serve or ping: peernet baseline serve|ping --network-config FILE [options]")
	}
	role := args[0]
	var o options
	fs := newFlagSet("baseline "+role, baselineUsage, stderr)
	o.common(fs)
	size := fs.Int("sensor-size", 1024, "payload size in `bytes`")
	replySize := fs.Int("reply-size", 100, "reply size in `bytes`")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, tr, err := o.openNetwork(false)
	if err != nil {
		return err
	}
	b, ok := tr.(network.Baseline)
	if !ok {
		return usagef("network %s has no raw baseline", o.network)
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	if role == "serve" {
		if o.name == "" {
			o.name = cfg.Server
		}
		return b.RawServe(ctx, cfg, o.name, o.iterations) // 0: until Ctrl-C
	}
	if o.name == "" {
		o.name = firstClient(cfg)
	}
	if o.iterations <= 0 {
		o.iterations = 1000
	}
	rtts, err := b.RawPing(ctx, cfg, o.name, network.Ping{
		Payload: make([]byte, *size), ReplySize: *replySize, Iterations: o.iterations, Timeout: o.timeout,
	})
	if len(rtts) > 0 {
		printRTTs(stdout, rtts)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// printRTTs prints the count, mean and percentiles of round-trip times.
func printRTTs(w io.Writer, rtts []time.Duration) {
	s := slices.Clone(rtts)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	q := func(p float64) string { return fmtSeconds(s[min(len(s)-1, int(p*float64(len(s))))]) }
	fmt.Fprintf(w, "n=%d mean=%s p50=%s p90=%s p99=%s max=%s\n",
		len(s), fmtSeconds(sum/time.Duration(len(s))), q(0.5), q(0.9), q(0.99), fmtSeconds(s[len(s)-1]))
}

func fmtSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 9, 64) }
