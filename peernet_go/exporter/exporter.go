// Package exporter serves a run's live metrics to Prometheus: a histogram
// per stage, counters of iterations by status, bytes and packets, and
// gauges of the clock estimate and of the server's queue and workers — the
// same numbers the results directory holds, as the run goes.
//
// Every metric lives in a registry the caller passes in (no global
// registry); one registry can hold many edges (a fleet in one process),
// told apart by their constant labels:
//
//	reg := exporter.NewRegistry()
//	edge, _ := exporter.NewEdge(reg, exporter.Labels{Edge: "robot1", Transport: "zmq-tcp"}, exporter.EdgeOptions{})
//	srv, _ := exporter.Listen("127.0.0.1:9464", reg, exporter.ListenOptions{})
//	defer srv.Close()
//	// edge is a metrics.Sink: give it to the run with the results' sinks.
//
// # Histogram layout
//
// peernet_stage_seconds{stage} has classic buckets ten per decade (the
// R10 series 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8) from 1 µs to 100 s,
// fine enough for sub-millisecond links, and native buckets (factor 1.1)
// for a Prometheus started with --enable-feature=native-histograms, whose
// quantiles aggregate exactly across a fleet.
package exporter

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/run"
)

// Namespace prefixes every metric name.
const Namespace = "peernet"

// Labels are the constant labels of one edge's or one server's metrics.
// Empty ones are left out.
type Labels struct {
	// Edge is the edge's device name, Server the server's.
	Edge, Server string
	// Transport, Model and Sensor say what the run uses.
	Transport, Model, Sensor string
}

func (l Labels) constLabels() prometheus.Labels {
	c := prometheus.Labels{}
	for k, v := range map[string]string{"edge": l.Edge, "server": l.Server, "transport": l.Transport, "model": l.Model, "sensor": l.Sensor} {
		if v != "" {
			c[k] = v
		}
	}
	return c
}

// StageBuckets returns the classic bucket bounds of peernet_stage_seconds:
// ten per decade from 1 µs to 100 s.
func StageBuckets() []float64 {
	r10 := []float64{1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8}
	var b []float64
	for exp := -6; exp < 2; exp++ {
		for _, m := range r10 {
			b = append(b, m*math.Pow10(exp))
		}
	}
	return append(b, 100)
}

// NewRegistry returns a registry with the standard process and Go
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	return reg
}

// EdgeOptions configure an Edge.
type EdgeOptions struct {
	// Period is the sampling period (0: as fast as possible), for the late
	// counts and the lag stage; Late overrides the late threshold as
	// metrics.SummaryOptions does.
	Period, Late time.Duration
	// MaxClockError is the bound above which the one-way delays are
	// flagged unsync (0: run.DefaultMaxClockError).
	MaxClockError time.Duration
	// Window is the span of the achieved-rate gauge; it defaults to 1 s.
	Window time.Duration
}

// Edge exports one edge's records. It is a metrics.Sink, safe for
// concurrent use.
type Edge struct {
	opts      EdgeOptions
	late      time.Duration
	stage     *prometheus.HistogramVec
	status    *prometheus.CounterVec
	bytes     *prometheus.CounterVec
	packets   *prometheus.CounterVec
	badFrames prometheus.Counter
	offset    prometheus.Gauge
	bound     prometheus.Gauge
	unsync    prometheus.Gauge
	rate      prometheus.Gauge

	mu          sync.Mutex
	counts      metrics.Counts
	windowStart time.Time
	windowN     int
}

var _ metrics.Sink = (*Edge)(nil)

// NewEdge registers an edge's metrics in reg under labels.
func NewEdge(reg prometheus.Registerer, labels Labels, o EdgeOptions) (*Edge, error) {
	if o.MaxClockError <= 0 {
		o.MaxClockError = run.DefaultMaxClockError
	}
	if o.Window <= 0 {
		o.Window = time.Second
	}
	cl := labels.constLabels()
	e := &Edge{
		opts: o,
		late: metrics.SummaryOptions{Period: o.Period, Late: o.Late}.LateThreshold(),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "stage_seconds", ConstLabels: cl,
			Help:    "Time of each stage of an iteration (sensing, upload, queue, preprocessing, inference, postprocessing, server, download, rtt, latency-from-schedule, lag), in seconds.",
			Buckets: StageBuckets(), NativeHistogramBucketFactor: 1.1,
			NativeHistogramMaxBucketNumber: 200, NativeHistogramMinResetDuration: time.Hour,
		}, []string{"stage"}),
		status: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "iterations_total", ConstLabels: cl,
			Help: "Iterations by outcome: ok, lost, error, missed, warmup; late and too-late count the measured ones that started behind schedule.",
		}, []string{"status"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "bytes_total", ConstLabels: cl,
			Help: "Bytes on the wire (frame header and payload), by direction (up: edge to cloud).",
		}, []string{"direction"}),
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "packets_total", ConstLabels: cl,
			Help: "Datagrams sent, by direction, on transports that split frames (udp).",
		}, []string{"direction"}),
		badFrames: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "bad_frames_total", ConstLabels: cl,
			Help: "Messages the edge received that did not decode.",
		}),
		offset: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "clock_offset_seconds", ConstLabels: cl,
			Help: "Estimated server clock minus edge clock, in seconds.",
		}),
		bound: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "clock_bound_seconds", ConstLabels: cl,
			Help: "Error bound of the clock offset, in seconds: each one-way delay is known to within it.",
		}),
		unsync: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "clock_unsync", ConstLabels: cl,
			Help: "1 when the clock bound exceeds the run's max clock error (one-way delays unreliable), else 0.",
		}),
		rate: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "rate_hz", ConstLabels: cl,
			Help: "Iterations per second over the last window.",
		}),
	}
	for _, c := range []prometheus.Collector{e.stage, e.status, e.bytes, e.packets, e.badFrames, e.offset, e.bound, e.unsync, e.rate} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("exporter: %w", err)
		}
	}
	// Every status exists from the start, so that rate() and the
	// dashboard's loss panels have a series before the first loss.
	for _, s := range []string{"ok", "lost", "error", "missed", "warmup", "late", "too-late"} {
		e.status.WithLabelValues(s)
	}
	for _, d := range []string{"up", "down"} {
		e.bytes.WithLabelValues(d)
	}
	return e, nil
}

// Write exports one record: its status, bytes, packets and clock
// estimate, and (outside the warm-up) its stage times.
func (e *Edge) Write(r *metrics.Record) error {
	e.mu.Lock()
	before := e.counts
	e.counts.Add(r, e.opts.Period, e.late)
	after := e.counts
	now := time.Now()
	if e.windowStart.IsZero() {
		e.windowStart = now
	}
	e.windowN++
	if d := now.Sub(e.windowStart); d >= e.opts.Window {
		e.rate.Set(float64(e.windowN) / d.Seconds())
		e.windowStart, e.windowN = now, 0
	}
	e.mu.Unlock()

	for _, c := range []struct {
		name          string
		before, after int64
	}{
		{"ok", before.OK, after.OK}, {"lost", before.Lost, after.Lost}, {"error", before.Error, after.Error},
		{"missed", before.Missed, after.Missed}, {"warmup", before.Warmup, after.Warmup},
		{"late", before.Late, after.Late}, {"too-late", before.TooLate, after.TooLate},
	} {
		if c.after != c.before {
			e.status.WithLabelValues(c.name).Add(float64(c.after - c.before))
		}
	}
	if r.UploadBytes > 0 {
		e.bytes.WithLabelValues("up").Add(float64(r.UploadBytes))
	}
	if r.DownloadBytes > 0 {
		e.bytes.WithLabelValues("down").Add(float64(r.DownloadBytes))
	}
	if r.UploadPackets > 0 {
		e.packets.WithLabelValues("up").Add(float64(r.UploadPackets))
	}
	if r.DownloadPackets > 0 {
		e.packets.WithLabelValues("down").Add(float64(r.DownloadPackets))
	}
	if r.Status != metrics.Missed && (r.ClockOffset != 0 || r.ClockError != 0) {
		e.offset.Set(r.ClockOffset.Seconds())
		e.bound.Set(r.ClockError.Seconds())
		if r.ClockError > e.opts.MaxClockError {
			e.unsync.Set(1)
		} else {
			e.unsync.Set(0)
		}
	}
	if r.Warmup {
		return nil
	}
	metrics.EachStage(r, e.opts.Period > 0, func(name string, unit metrics.Unit, v float64) {
		if unit == metrics.Seconds {
			e.stage.WithLabelValues(name).Observe(v)
		}
	})
	return nil
}

// AddBadFrames counts n messages that did not decode (a client run
// reports them at its end).
func (e *Edge) AddBadFrames(n int) {
	if n > 0 {
		e.badFrames.Add(float64(n))
	}
}

// Close does nothing: the metrics stay served until the HTTP server stops.
func (e *Edge) Close() error { return nil }

// Server exports a server's answers and its live queue and workers.
type Server struct {
	stage    *prometheus.HistogramVec
	requests *prometheus.CounterVec
	bytes    *prometheus.CounterVec
}

// NewServer registers a server's metrics in reg: per-stage histograms
// and request counters fed by Answer, and gauges read from g (queue
// depth, workers, utilisation, busy time, bad frames) at every scrape.
func NewServer(reg prometheus.Registerer, labels Labels, g *run.ServerGauges) (*Server, error) {
	cl := labels.constLabels()
	s := &Server{
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "server", Name: "stage_seconds", ConstLabels: cl,
			Help:    "Server-side stages of each answered request (queue, preprocessing, inference, postprocessing, server), in seconds.",
			Buckets: StageBuckets(), NativeHistogramBucketFactor: 1.1,
			NativeHistogramMaxBucketNumber: 200, NativeHistogramMinResetDuration: time.Hour,
		}, []string{"stage"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "server", Name: "requests_total", ConstLabels: cl,
			Help: "Requests answered, by outcome (ok, error).",
		}, []string{"status"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "server", Name: "bytes_total", ConstLabels: cl,
			Help: "Frame bytes, by direction (up: received requests, down: sent replies).",
		}, []string{"direction"}),
	}
	start := time.Now()
	cs := []prometheus.Collector{s.stage, s.requests, s.bytes,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "server", Name: "queue_depth", ConstLabels: cl,
			Help: "Requests received and not yet answered.",
		}, func() float64 { return float64(g.Depth.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "server", Name: "workers", ConstLabels: cl,
			Help: "Inference workers.",
		}, func() float64 { return float64(g.Workers.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "server", Name: "busy_seconds_total", ConstLabels: cl,
			Help: "Summed busy time of the workers: rate() over workers is their utilisation.",
		}, func() float64 { return time.Duration(g.Busy.Load()).Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "server", Name: "utilisation", ConstLabels: cl,
			Help: "Share of the time since the server started that its workers spent inferring, in [0, 1].",
		}, func() float64 {
			w, el := g.Workers.Load(), time.Since(start)
			if w == 0 || el <= 0 {
				return 0
			}
			return min(1, float64(g.Busy.Load())/(float64(w)*float64(el)))
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "server", Name: "bad_frames_total", ConstLabels: cl,
			Help: "Frames the server received that did not decode or were unexpected.",
		}, func() float64 { return float64(g.BadFrames.Load()) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("exporter: %w", err)
		}
	}
	for _, st := range []string{"ok", "error"} {
		s.requests.WithLabelValues(st)
	}
	return s, nil
}

// Answer exports one answered request; it fits run.ServerOptions.OnAnswer.
func (s *Server) Answer(a run.Answer) {
	if a.Failed {
		s.requests.WithLabelValues("error").Inc()
	} else {
		s.requests.WithLabelValues("ok").Inc()
		for _, st := range []struct {
			name string
			d    time.Duration
		}{
			{metrics.StageQueue, a.Stages.Queue}, {metrics.StagePreprocessing, a.Stages.Preprocess},
			{metrics.StageInference, a.Stages.Inference}, {metrics.StagePostprocessing, a.Stages.Postprocess},
		} {
			s.stage.WithLabelValues(st.name).Observe(st.d.Seconds())
		}
	}
	s.stage.WithLabelValues(metrics.StageServer).Observe(a.Held.Seconds())
	s.bytes.WithLabelValues("up").Add(float64(a.RequestBytes))
	s.bytes.WithLabelValues("down").Add(float64(a.ReplyBytes))
}
