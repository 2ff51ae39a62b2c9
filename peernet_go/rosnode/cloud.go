package rosnode

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// CloudConfig are the cloud node's parameters (config/cloud.yaml). Start
// from DefaultCloudConfig.
type CloudConfig struct {
	NetworkConfig

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
}

// DefaultCloudConfig returns the cloud node's defaults.
func DefaultCloudConfig() CloudConfig {
	return CloudConfig{
		NetworkConfig: NetworkConfig{Network: DefaultNetwork, StartPort: network.DefaultStartPort},
		ModelName:     run.DefaultModel, Device: "cpu", Workers: 1, MaxBatch: 1,
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
	env.Logf("%s: serving model %s over %s (%s)", c.Name, c.ModelName, c.Network, endpoint(cfg, c.Network))
	st, err := run.Serve(ctx, run.ServerOptions{
		Conn: conn, Engines: engines, MaxBatch: c.MaxBatch,
		Iterations: c.Iterations, ExitOnBye: c.ExitOnBye, Log: logWriter(env.Logf),
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
