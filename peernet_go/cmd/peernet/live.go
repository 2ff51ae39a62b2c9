package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peernet/peernet_go/peernet_go/exporter"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/run"
)

// liveMetrics is the command's Prometheus endpoint (--metrics-addr): one
// registry for every edge and server the command runs.
type liveMetrics struct {
	reg    *prometheus.Registry
	http   *exporter.HTTP
	linger time.Duration
	quiet  bool
	stderr io.Writer
}

// startMetrics serves --metrics-addr, once per command; without the flag
// it returns nil, and the nil liveMetrics exports nothing.
func (o *options) startMetrics(stderr io.Writer) (*liveMetrics, error) {
	if o.metricsAddr == "" || o.live != nil {
		return o.live, nil
	}
	reg := exporter.NewRegistry()
	h, err := exporter.Listen(o.metricsAddr, reg, exporter.ListenOptions{TokenFile: o.metricsToken, Notice: stderr})
	if err != nil {
		return nil, usageError{err}
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "metrics: %s\n", h.URL())
	}
	o.live = &liveMetrics{reg: reg, http: h, linger: o.metricsLinger, quiet: o.quiet, stderr: stderr}
	return o.live, nil
}

// edge registers the metrics of the edge name and returns its sink, or
// nil without an endpoint.
func (l *liveMetrics) edge(o *options, name string) (*exporter.Edge, error) {
	if l == nil {
		return nil, nil
	}
	return exporter.NewEdge(l.reg, o.labels(name), exporter.EdgeOptions{
		Period: o.period(), MaxClockError: o.maxClockError,
	})
}

// edges returns, for run.FleetOptions.Sinks, edge i's exported metrics
// under names[i]; each edge is registered once, on first use, so that the
// steps of a sweep add to the same series. Nil without an endpoint.
func (l *liveMetrics) edges(o *options, names []string) func(i int) []metrics.Sink {
	if l == nil {
		return nil
	}
	var mu sync.Mutex
	made := map[int]*exporter.Edge{}
	return func(i int) []metrics.Sink {
		mu.Lock()
		defer mu.Unlock()
		e, ok := made[i]
		if !ok {
			var err error
			if e, err = l.edge(o, names[i]); err != nil {
				fmt.Fprintf(l.stderr, "metrics: %s: %v\n", names[i], err)
			}
			made[i] = e
		}
		return withEdge(nil, e)
	}
}

// server registers a server's metrics and returns the gauges and the
// answer hook to give run.ServerOptions; both are nil without an endpoint.
func (l *liveMetrics) server(o *options, name string) (*run.ServerGauges, func(run.Answer), error) {
	if l == nil {
		return nil, nil, nil
	}
	g := new(run.ServerGauges)
	s, err := exporter.NewServer(l.reg, exporter.Labels{Server: name, Transport: o.network, Model: o.modelName}, g)
	if err != nil {
		return nil, nil, err
	}
	return g, s.Answer, nil
}

// close stops serving, after a last scrape when -metrics-linger asks.
func (l *liveMetrics) close() {
	if l == nil {
		return
	}
	if l.linger > 0 {
		if !l.quiet {
			fmt.Fprintf(l.stderr, "metrics: waiting up to %v for a last scrape\n", l.linger)
		}
		if !l.http.WaitScrape(l.linger) && !l.quiet {
			fmt.Fprintf(l.stderr, "metrics: no scrape came within %v\n", l.linger)
		}
	}
	_ = l.http.Close()
}

func (o *options) labels(name string) exporter.Labels {
	return exporter.Labels{Edge: name, Transport: o.network, Model: o.modelName, Sensor: o.sensorType}
}

// withEdge appends e to sinks when there is one.
func withEdge(sinks []metrics.Sink, e *exporter.Edge) []metrics.Sink {
	if e == nil {
		return sinks
	}
	return append(sinks, e)
}
