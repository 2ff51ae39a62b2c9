package rosnode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/exporter"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// CloudConfig are the cloud node's parameters (config/cloud.yaml). Start
// from DefaultCloudConfig.
type CloudConfig struct {
	NetworkConfig
	LiveMetrics

	// ModelName, Device, ORTLib and Workers select the model as the CLI's
	// --model-name, --device, --ort-lib and --workers do (run.ModelOptions);
	// MaxBatch is --max-batch.
	ModelName string `param:"model_name"`
	Device    string `param:"device"`
	ORTLib    string `param:"ort_lib"`
	Workers   int    `param:"workers"`
	MaxBatch  int    `param:"max_batch"`

	// Iterations stops the node after answering that many requests; 0
	// serves until it is shut down. ExitOnBye stops it when an edge says
	// its run is over.
	Iterations int  `param:"iterations"`
	ExitOnBye  bool `param:"exit_on_bye"`

	// ResultsTopic, when set, receives every inference result as a
	// peernet_msgs/Reply, after the reply went to the edge.
	ResultsTopic string `param:"results_topic"`

	// EdgeStatisticsTopic, when set, receives statistics_msgs/MetricsMessage
	// windows of every edge's requests as the server saw them (queue,
	// preprocessing, inference, postprocessing, the server's hold, request
	// and reply bytes), one set per edge per StatisticsPeriod, the edge
	// named in measurement_source_name.
	EdgeStatisticsTopic string        `param:"edge_statistics_topic"`
	StatisticsPeriod    time.Duration `param:"statistics_period"`
}

// DefaultCloudConfig returns the cloud node's defaults.
func DefaultCloudConfig() CloudConfig {
	return CloudConfig{
		NetworkConfig: NetworkConfig{Network: DefaultNetwork, StartPort: network.DefaultStartPort},
		ModelName:     run.DefaultModel, Device: "cpu", Workers: 1, MaxBatch: 1,
		StatisticsPeriod: window.DefaultPeriod,
	}
}

// Validate checks the parameters; errors name the parameter.
func (c *CloudConfig) Validate() error {
	switch {
	case c.Iterations < 0:
		return fmt.Errorf("parameter iterations %d is negative", c.Iterations)
	case c.Workers < 1 || c.Workers > run.MaxWorkers:
		return fmt.Errorf("parameter workers %d: want 1–%d", c.Workers, run.MaxWorkers)
	case c.MaxBatch < 1 || c.MaxBatch > 4096:
		return fmt.Errorf("parameter max_batch %d: want 1–4096", c.MaxBatch)
	case c.StatisticsPeriod <= 0:
		return fmt.Errorf("parameter statistics_period %v: want a positive duration", c.StatisticsPeriod)
	}
	return nil
}

// RunCloud runs the cloud node: it answers the edges' requests with the
// model until ctx ends (not an error), or the iterations are done.
func RunCloud(ctx context.Context, env Env, c CloudConfig) (run.ServerStats, error) {
	if err := env.init(); err != nil {
		return run.ServerStats{}, err
	}
	if err := c.Validate(); err != nil {
		return run.ServerStats{}, err
	}
	cfg, tr, err := c.open(&env, true)
	if err != nil {
		return run.ServerStats{}, err
	}
	engines, closeEngines, err := run.OpenEngines(run.ModelOptions{
		Name: c.ModelName, Device: c.Device, ORTLib: c.ORTLib, Workers: c.Workers,
	})
	if err != nil {
		return run.ServerStats{}, fmt.Errorf("parameter model_name: %w", err)
	}
	defer closeEngines()
	conn, err := tr.Listen(ctx, cfg, c.Name)
	if err != nil {
		return run.ServerStats{}, fmt.Errorf("listening as %s over %s: %w", c.Name, c.Network, err)
	}
	if c.ResultsTopic != "" {
		pub, err := env.Host.Publisher(c.ResultsTopic, msgs.TypeReply, DefaultQoS())
		if err != nil {
			conn.Close()
			return run.ServerStats{}, fmt.Errorf("parameter results_topic: %w", err)
		}
		conn = &resultsConn{Conn: conn, pub: pub, frameID: c.Name, logf: env.Logf}
	}
	defer conn.Close()
	var onAnswer func(run.Answer)
	if c.EdgeStatisticsTopic != "" {
		pub, err := env.Host.Publisher(c.EdgeStatisticsTopic, msgs.TypeMetricsMessage, StatisticsQoS())
		if err != nil {
			return run.ServerStats{}, fmt.Errorf("parameter edge_statistics_topic: %w", err)
		}
		es := newEdgeStatistics(env.Node, pub, c.StatisticsPeriod)
		defer es.close()
		onAnswer = es.add
	}
	reg, stopMetrics, err := c.listen(&env)
	if err != nil {
		return run.ServerStats{}, err
	}
	defer stopMetrics()
	var gauges *run.ServerGauges
	if reg != nil {
		gauges = new(run.ServerGauges)
		srv, err := exporter.NewServer(reg, exporter.Labels{Server: c.Name, Transport: c.Network, Model: c.ModelName}, gauges)
		if err != nil {
			return run.ServerStats{}, err
		}
		if stats := onAnswer; stats != nil {
			onAnswer = func(a run.Answer) { stats(a); srv.Answer(a) }
		} else {
			onAnswer = srv.Answer
		}
	}
	env.Logf("%s: serving model %s over %s (%s)", c.Name, c.ModelName, c.Network, endpoint(cfg, c.Network))
	st, err := run.Serve(ctx, run.ServerOptions{
		Conn: conn, Engines: engines, MaxBatch: c.MaxBatch,
		Iterations: c.Iterations, ExitOnBye: c.ExitOnBye, Log: logWriter(env.Logf), OnAnswer: onAnswer, Gauges: gauges,
	})
	env.Logf("%s: %d requests (%d failed), %d clock probes, %d bad frames", c.Name, st.Requests, st.Errors, st.Probes, st.BadFrames)
	return st, err
}

func endpoint(cfg *network.Config, transport string) string {
	if transport == TransportName {
		n, err := ROS2NetworkFrom(cfg)
		if err == nil {
			return "topics " + n.SampleTopic + ", " + n.ReplyTopic
		}
	}
	return cfg.ServerAddr()
}

// logWriter turns a Logf into the io.Writer run.Serve logs to.
type logWriter func(string, ...any)

func (l logWriter) Write(b []byte) (int, error) {
	l("%s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// resultsConn republishes every reply it sends as a peernet_msgs/Reply,
// after the reply went to the edge, so that republishing stays off the
// measured path.
type resultsConn struct {
	network.Conn
	pub     Publisher
	frameID string
	logf    func(string, ...any)
	buf     []byte
	failed  bool
}

// Wake forwards to the wrapped Conn, so that wrapping does not hide it.
func (c *resultsConn) Wake() {
	if w, ok := c.Conn.(network.Waker); ok {
		w.Wake()
	}
}

func (c *resultsConn) Send(ctx context.Context, f *wire.Frame) error {
	err := c.Conn.Send(ctx, f)
	if f.Kind != wire.Reply {
		return err
	}
	r, rerr := msgs.ReplyFromFrame(f, f.Peer, c.frameID)
	if rerr == nil {
		c.buf = cdr.MarshalAppend(c.buf[:0], &r, false)
		rerr = c.pub.Publish(c.buf)
	}
	if rerr != nil && !c.failed { // report the first failure only
		c.failed = true
		c.logf("cloud: republishing results: %v", rerr)
	}
	return err
}

func (c *resultsConn) Close() error {
	return errors.Join(c.Conn.Close(), c.pub.Close())
}

// edgeStatistics windows the requests of each edge, as the server saw them,
// and publishes each window as MetricsMessages named after the edge.
type edgeStatistics struct {
	node   string
	pub    Publisher
	period time.Duration
	mu     sync.Mutex
	edges  map[string]*window.Sink
	stop   chan struct{}
	done   chan struct{}
}

func newEdgeStatistics(node string, pub Publisher, period time.Duration) *edgeStatistics {
	es := &edgeStatistics{node: node, pub: pub, period: period, edges: map[string]*window.Sink{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go es.flushEvery()
	return es
}

// add accounts for one answer (from the server's I/O goroutine).
func (es *edgeStatistics) add(a run.Answer) {
	es.mu.Lock()
	defer es.mu.Unlock()
	w := es.edges[a.Peer]
	if w == nil {
		var err error
		w, err = window.New(window.Options{
			Period: es.period, Emit: StatisticsPublisher(es.pub, es.node+"/"+a.Peer, nil),
		})
		if err != nil {
			return
		}
		es.edges[a.Peer] = w
	}
	r := metrics.Record{
		Status: metrics.OK, Queue: a.Stages.Queue, Preprocess: a.Stages.Preprocess, Inference: a.Stages.Inference,
		Postprocess: a.Stages.Postprocess, Server: a.Held, UploadBytes: int64(a.RequestBytes), DownloadBytes: int64(a.ReplyBytes),
	}
	if a.Failed {
		r.Status, r.T3 = metrics.Error, 1 // an error reply: its server stages are known
	}
	_ = w.Write(&r) // a failed publish is logged by the publisher's host
}

// flushEvery closes the windows that are due even when an edge goes quiet.
func (es *edgeStatistics) flushEvery() {
	defer close(es.done)
	t := time.NewTicker(es.period / 4)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			es.mu.Lock()
			for _, w := range es.edges {
				_ = w.Flush()
			}
			es.mu.Unlock()
		case <-es.stop:
			return
		}
	}
}

func (es *edgeStatistics) close() {
	close(es.stop)
	<-es.done
	es.mu.Lock()
	defer es.mu.Unlock()
	for _, w := range es.edges {
		_ = w.Close()
	}
}
