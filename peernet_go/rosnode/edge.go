package rosnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/exporter"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// Defaults of the node parameters.
const (
	DefaultNetwork          = "zmq-tcp"
	DefaultTopicWait        = 10 * time.Second
	DefaultMetricsTopic     = "~/metrics"
	DefaultStatisticsTopic  = "~/statistics"
	DefaultStatisticsPeriod = time.Second
)

// NetworkConfig selects a node's network; the edge and cloud nodes share
// these parameters.
type NetworkConfig struct {
	// Network is the transport: zmq-tcp (the default), zmq-udp, mqtt,
	// udp, or ros2.
	Network string `param:"network"`
	// ConfigFile is the PEERNet network YAML. Without one, the nodes use a
	// loopback config with devices "edge" and "cloud" on 127.0.0.1 from
	// StartPort.
	ConfigFile string `param:"network_config"`
	// StartPort is the loopback config's start port. It defaults to
	// network.DefaultStartPort.
	StartPort int `param:"start_port"`
	// Name is this node's device in the network config. It defaults to
	// the config's first device other than the server (edge) or to the
	// server (cloud).
	Name string `param:"name"`
}

// open loads the network config and finds the transport.
func (n *NetworkConfig) open(env *Env, server bool) (*network.Config, network.Transport, error) {
	if n.Network == "" {
		n.Network = DefaultNetwork
	}
	tr, err := env.transport(n.Network)
	if err != nil {
		return nil, nil, fmt.Errorf("parameter network: %w", err)
	}
	var cfg *network.Config
	if n.ConfigFile == "" {
		if n.StartPort < 0 || n.StartPort > 65000 {
			return nil, nil, fmt.Errorf("parameter start_port %d out of range", n.StartPort)
		}
		cfg = network.Loopback(n.StartPort)
	} else if cfg, err = network.LoadConfig(n.ConfigFile); err != nil {
		return nil, nil, fmt.Errorf("parameter network_config: %w", err)
	}
	if n.Name == "" {
		n.Name = cfg.Server
		if !server {
			n.Name = firstClient(cfg)
		}
	}
	if _, err := cfg.Device(n.Name); err != nil {
		return nil, nil, fmt.Errorf("parameter name: %w", err)
	}
	return cfg, tr, nil
}

func firstClient(cfg *network.Config) string {
	for _, d := range cfg.Devices {
		if d.Name != cfg.Server {
			return d.Name
		}
	}
	return cfg.Devices[0].Name
}

// EdgeConfig are the edge node's parameters (config/edge.yaml). Start from
// DefaultEdgeConfig.
type EdgeConfig struct {
	NetworkConfig
	LiveMetrics

	// SensorTopic is a topic of any type to profile: each sample is one of
	// its messages, serialized. When empty, SensorType picks a built-in
	// sensor.
	SensorTopic string `param:"sensor_topic"`
	// TopicType is SensorTopic's ROS type; when empty it is read from the
	// ROS graph, waiting up to TopicWait for the topic to appear.
	TopicType string        `param:"topic_type"`
	TopicWait time.Duration `param:"topic_wait"`
	// QueueDepth is how many of the topic's messages are kept between
	// samples, the newest winning. It defaults to 1.
	QueueDepth int `param:"queue_depth"`
	// QoS of the topic subscription; sensor-data QoS by default.
	QoS QoS `param:"qos"`

	// SensorType is the built-in sensor used without SensorTopic:
	// random-bytes (the default), random-string, image, image-folder,
	// synthetic-camera, rosbag, external or exec:COMMAND (see
	// sensor.Options). The fields below configure it.
	SensorType   string   `param:"sensor_type"`
	SensorSize   string   `param:"sensor_size"`
	DatasetLoc   string   `param:"dataset_loc"`
	BagTopics    []string `param:"bag_topics"`
	ReplayRate   float64  `param:"replay_rate"`
	Loop         bool     `param:"loop"`
	SensorFormat string   `param:"sensor_format"`

	// Iterations to run; 0 runs until the node is shut down (or a finite
	// sensor ends). Rate is the sampling rate in Hz (0: as fast as
	// samples come). Timeout bounds each reply; ConnectTimeout the wait
	// for the cloud's first answer (the cloud node may start after the
	// edge); Warmup iterations are left out of the statistics; GiveUp ends
	// the run when the cloud has not answered for that long.
	Iterations     int           `param:"iterations"`
	Rate           float64       `param:"rate"`
	Timeout        time.Duration `param:"timeout"`
	ConnectTimeout time.Duration `param:"connect_timeout"`
	Warmup         int           `param:"warmup"`
	GiveUp         time.Duration `param:"give_up"`
	// Clock is the clock mode: handshake, assume-synced or ntp:HOST.
	Clock string `param:"clock"`

	// ResultsDir, when set, receives data.csv, records.jsonl, the
	// summaries and run.yaml, as the CLI writes them; GeneratePlots adds
	// the histograms.
	ResultsDir    string `param:"results_dir"`
	GeneratePlots bool   `param:"generate_plots"`
	// ResultsMCAP also writes results.mcap there (the CLI's --mcap).
	ResultsMCAP bool `param:"results_mcap"`

	// MetricsTopic receives peernet_msgs/IterationMetrics per iteration,
	// StatisticsTopic statistics_msgs/MetricsMessage per stage per
	// StatisticsPeriod window.
	MetricsTopic     string        `param:"metrics_topic"`
	StatisticsTopic  string        `param:"statistics_topic"`
	StatisticsPeriod time.Duration `param:"statistics_period"`
}

// DefaultEdgeConfig returns the edge node's defaults.
func DefaultEdgeConfig() EdgeConfig {
	return EdgeConfig{
		NetworkConfig:    NetworkConfig{Network: DefaultNetwork, StartPort: network.DefaultStartPort},
		TopicWait:        DefaultTopicWait,
		QueueDepth:       1,
		QoS:              SensorDataQoS(),
		SensorType:       "random-bytes",
		SensorSize:       sensor.DefaultSize,
		Timeout:          run.DefaultTimeout,
		ConnectTimeout:   run.DefaultConnect,
		GiveUp:           run.DefaultGiveUp,
		Clock:            clock.ModeHandshake,
		MetricsTopic:     DefaultMetricsTopic,
		StatisticsTopic:  DefaultStatisticsTopic,
		StatisticsPeriod: DefaultStatisticsPeriod,
	}
}

// Validate checks the parameters; errors name the parameter.
func (c *EdgeConfig) Validate() error {
	switch {
	case c.Iterations < 0:
		return fmt.Errorf("parameter iterations %d is negative", c.Iterations)
	case c.Rate < 0:
		return fmt.Errorf("parameter rate %v is negative", c.Rate)
	case c.Timeout <= 0:
		return fmt.Errorf("parameter timeout %v must be positive", c.Timeout)
	case c.ConnectTimeout <= 0:
		return fmt.Errorf("parameter connect_timeout %v must be positive", c.ConnectTimeout)
	case c.Warmup < 0:
		return fmt.Errorf("parameter warmup %d is negative", c.Warmup)
	case c.TopicWait < 0:
		return fmt.Errorf("parameter topic_wait %v is negative", c.TopicWait)
	case c.QueueDepth < 1 || c.QueueDepth > MaxDepth:
		return fmt.Errorf("parameter queue_depth %d: want 1–%d", c.QueueDepth, MaxDepth)
	case c.StatisticsPeriod <= 0:
		return fmt.Errorf("parameter statistics_period %v must be positive", c.StatisticsPeriod)
	case c.MetricsTopic == "" || c.StatisticsTopic == "":
		return errors.New("parameters metrics_topic and statistics_topic must name topics")
	case c.SensorTopic == "" && c.SensorType == "":
		return errors.New("parameters sensor_topic and sensor_type are both empty: name a topic or a built-in sensor")
	}
	if _, err := clock.ParseMode(c.Clock); err != nil {
		return fmt.Errorf("parameter clock: %w", err)
	}
	if c.TopicType != "" {
		if _, _, err := SplitType(c.TopicType); err != nil {
			return fmt.Errorf("parameter topic_type: %w", err)
		}
	}
	return c.QoS.Validate("qos")
}

// RunEdge runs the edge node: it samples the sensor, sends every sample
// over the network to the cloud node, and publishes what it measures, until
// the iterations are done, the sensor ends or ctx ends (not an error).
func RunEdge(ctx context.Context, env Env, c EdgeConfig) (run.Result, error) {
	if err := env.init(); err != nil {
		return run.Result{}, err
	}
	if err := c.Validate(); err != nil {
		return run.Result{}, err
	}
	mode, _ := clock.ParseMode(c.Clock)
	cfg, tr, err := c.open(&env, false)
	if err != nil {
		return run.Result{}, err
	}
	s, source, err := c.openSensor(ctx, &env)
	if err != nil {
		return run.Result{}, err
	}
	defer s.Close()

	sinks, closeSinks, err := c.sinks(&env, cfg, mode, source)
	if err != nil {
		return run.Result{}, err
	}
	conn, err := tr.Dial(ctx, cfg, c.Name)
	if err != nil {
		err = fmt.Errorf("connecting to %s over %s: %w", cfg.Server, c.Network, err)
		return run.Result{}, errors.Join(err, closeSinks(run.Result{}, err))
	}
	env.Logf("%s: sampling %s, sending to %s over %s", c.Name, source, cfg.Server, c.Network)
	res, err := run.Client(ctx, run.ClientOptions{
		Conn: conn, Sensor: s, Iterations: c.Iterations, Rate: c.Rate, Timeout: c.Timeout, Connect: c.ConnectTimeout,
		Warmup: c.Warmup, ClockMode: mode, GiveUp: c.GiveUp, Sinks: sinks,
	})
	conn.Close()
	if errors.Is(err, run.ErrNoServer) {
		err = fmt.Errorf("%w over %s: is the cloud node (device %s) running?", err, c.Network, cfg.Server)
	}
	return res, errors.Join(err, closeSinks(res, err))
}

// openSensor opens the topic sensor or the built-in one, and says which.
func (c *EdgeConfig) openSensor(ctx context.Context, env *Env) (sensor.Sensor, string, error) {
	if c.SensorTopic == "" {
		s, err := run.OpenSensor(ctx, sensor.Options{
			Type: c.SensorType, Size: c.SensorSize, DatasetLoc: c.DatasetLoc, Topics: c.BagTopics,
			ReplayRate: c.ReplayRate, Loop: c.Loop, Format: c.SensorFormat,
		})
		if err != nil {
			return nil, "", fmt.Errorf("parameter sensor_type: %w", err)
		}
		what := c.SensorType
		if c.DatasetLoc != "" {
			what += " " + c.DatasetLoc
		}
		return s, what, nil
	}
	typ := c.TopicType
	if typ == "" {
		var err error
		env.Logf("%s: waiting up to %v for topic %s", c.Name, c.TopicWait, c.SensorTopic)
		if typ, err = WaitForType(ctx, env.Host, c.SensorTopic, c.TopicWait); err != nil {
			return nil, "", err
		}
	}
	s, err := OpenTopicSensor(env.Host, TopicSensorOptions{
		Topic: c.SensorTopic, Type: typ, QoS: c.QoS, Depth: c.QueueDepth,
		Prefixes: os.Getenv("AMENT_PREFIX_PATH"),
	})
	if err != nil {
		return nil, "", err
	}
	return s, "topic " + c.SensorTopic + " (" + typ + ")", nil
}

// sinks opens the metrics and statistics publishers and the results
// directory, and returns a function that closes them all once the run is
// over, writing the results' summaries.
func (c *EdgeConfig) sinks(env *Env, cfg *network.Config, mode clock.Mode, source string) ([]metrics.Sink, func(run.Result, error) error, error) {
	mpub, err := env.Host.Publisher(c.MetricsTopic, msgs.TypeIterationMetrics, DefaultQoS())
	if err != nil {
		return nil, nil, fmt.Errorf("parameter metrics_topic: %w", err)
	}
	spub, err := env.Host.Publisher(c.StatisticsTopic, msgs.TypeMetricsMessage, StatisticsQoS())
	if err != nil {
		mpub.Close()
		return nil, nil, fmt.Errorf("parameter statistics_topic: %w", err)
	}
	var period time.Duration
	if c.Rate > 0 {
		period = time.Duration(float64(time.Second) / c.Rate)
	}
	windows, _ := window.New(window.Options{
		Period:         c.StatisticsPeriod,
		SummaryOptions: metrics.SummaryOptions{Period: period},
		Emit:           StatisticsPublisher(spub, env.Node, env.Logf),
	})
	summary := metrics.NewSummary(metrics.SummaryOptions{Period: period})
	sinks := []metrics.Sink{NewMetricsSink(mpub, c.Name), windows, summary}
	reg, stopMetrics, err := c.listen(env)
	if err != nil {
		mpub.Close()
		spub.Close()
		return nil, nil, err
	}
	var live *exporter.Edge
	if reg != nil {
		if live, err = exporter.NewEdge(reg, exporter.Labels{Edge: c.Name, Transport: c.Network, Sensor: source}, exporter.EdgeOptions{Period: period}); err != nil {
			stopMetrics()
			mpub.Close()
			spub.Close()
			return nil, nil, err
		}
		sinks = append(sinks, live)
	}

	var res *run.Results
	var info report.RunInfo
	if c.ResultsDir != "" {
		info = c.runInfo(env, cfg, mode, source)
		if res, err = run.CreateResults(c.ResultsDir, &info, run.ResultsOptions{Period: period, Plots: c.GeneratePlots, MCAP: c.ResultsMCAP}); err != nil {
			stopMetrics()
			mpub.Close()
			spub.Close()
			return nil, nil, fmt.Errorf("parameter results_dir: %w", err)
		}
		sinks = append(sinks, res.Sinks()...)
	}
	closeAll := func(r run.Result, runErr error) error {
		err := errors.Join(windows.Close(), mpub.Close(), spub.Close())
		if live != nil {
			live.AddBadFrames(r.BadFrames)
		}
		stopMetrics()
		logSummary(env, c.Name, r, summary.Result())
		if res != nil {
			info.Interrupted = r.Interrupted || runErr != nil
			if r.ServerHost != "" {
				info.Hosts.Server = r.ServerHost
			}
			err = errors.Join(err, res.Finish(run.ReportClock(r.Clock, run.DefaultMaxClockError)))
			env.Logf("%s: results in %s", c.Name, c.ResultsDir)
		}
		return err
	}
	return sinks, closeAll, nil
}

func (c *EdgeConfig) runInfo(env *Env, cfg *network.Config, mode clock.Mode, source string) report.RunInfo {
	info := report.NewRunInfo(env.Version, env.Args)
	info.Role = "client"
	host, _ := os.Hostname()
	info.Hosts.Client = host
	info.Transport = c.Network
	devices := map[string]string{}
	for _, d := range cfg.Devices {
		devices[d.Name] = d.Host
	}
	info.Network = report.NetworkInfo{
		ConfigFile: c.ConfigFile, Name: c.Name, Server: cfg.Server, Devices: devices,
		StartPort: cfg.StartPort, Endpoint: cfg.ServerAddr(),
	}
	info.Sensor = report.SensorInfo{Type: c.SensorType, Options: map[string]string{"source": source}}
	if c.SensorTopic != "" {
		info.Sensor.Type = "ros2-topic"
		info.Sensor.Options["topic"] = c.SensorTopic
	}
	info.Iterations, info.Warmup, info.Rate, info.Timeout = c.Iterations, c.Warmup, c.Rate, c.Timeout
	info.Clock = report.Clock{Mode: mode.String(), MaxError: run.DefaultMaxClockError}
	return info
}

// logSummary logs the run's outcome in one line.
func logSummary(env *Env, name string, r run.Result, s metrics.Result) {
	line := fmt.Sprintf("%s: %d iterations: %d ok, %d lost, %d errors", name, r.Iterations, r.OK, r.Lost, r.Errors)
	if r.Missed > 0 {
		line += fmt.Sprintf(", %d missed", r.Missed)
	}
	if rtt, ok := s.Stage(metrics.StageRTT); ok {
		line += fmt.Sprintf("; rtt p50 %s p99 %s", window.Seconds(rtt.P50), window.Seconds(rtt.P99))
	}
	if age, ok := s.Stage(metrics.StageHeaderAge); ok {
		line += fmt.Sprintf("; header age p50 %s", window.Seconds(age.P50))
	}
	env.Logf("%s", line)
}

// MetricsSink is a metrics.Sink that publishes every record as a
// peernet_msgs/IterationMetrics message.
type MetricsSink struct {
	pub     Publisher
	frameID string
	buf     []byte
}

var _ metrics.Sink = (*MetricsSink)(nil)

// NewMetricsSink returns a sink publishing on pub; frameID (the device
// name) goes in each message's header.
func NewMetricsSink(pub Publisher, frameID string) *MetricsSink {
	return &MetricsSink{pub: pub, frameID: frameID}
}

// Write publishes r.
func (s *MetricsSink) Write(r *metrics.Record) error {
	m := msgs.FromRecord(r, s.frameID)
	s.buf = cdr.MarshalAppend(s.buf[:0], &m, false)
	if err := s.pub.Publish(s.buf); err != nil {
		return fmt.Errorf("publishing iteration metrics: %w", err)
	}
	return nil
}

// Close does nothing: the publisher belongs to the caller.
func (s *MetricsSink) Close() error { return nil }

// StatisticsPublisher returns a window Emit function that publishes
// one statistics_msgs/MetricsMessage per stage of each window on pub, with
// source as measurement_source_name, and logs the window in one line.
func StatisticsPublisher(pub Publisher, source string, logf func(string, ...any)) func(window.Window) error {
	var buf []byte
	return func(w window.Window) error {
		var errs []error
		for _, st := range w.Result.Stages {
			m := msgs.FromStageStats(source, w.Start, w.Stop, st)
			buf = cdr.MarshalAppend(buf[:0], &m, false)
			if err := pub.Publish(buf); err != nil {
				errs = append(errs, err)
			}
		}
		if logf != nil {
			logf("%s", window.Line(w))
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("publishing statistics: %w", err)
		}
		return nil
	}
}
