package rosnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/rosnode/topicstats"
)

// Defaults of the profiler's parameters.
const (
	DefaultTopicStatisticsTopic = "~/topics"
	DefaultWindow               = time.Second
)

// ProfilerConfig are the topic profiler's parameters
// (config/topic_profiler.yaml). Start from DefaultProfilerConfig.
type ProfilerConfig struct {
	// Topics to profile, of any type. Topics not yet in the ROS graph are
	// subscribed to once they appear.
	Topics []string `param:"topics"`
	// Window is the statistics period. It defaults to DefaultWindow.
	Window time.Duration `param:"window"`
	// QoS of the subscriptions; sensor-data QoS by default.
	QoS QoS `param:"qos"`
	// Duration ends the profiling after that long; 0 runs until the node
	// is shut down.
	Duration time.Duration `param:"duration"`
	// StatisticsTopic receives statistics_msgs/MetricsMessage per topic
	// and quantity ("<topic>/message_period", "<topic>/message_age",
	// "<topic>/message_size", "<topic>/transport_delay");
	// TopicStatisticsTopic a peernet_msgs/TopicStatistics per topic, with
	// rate, bandwidth and percentiles.
	StatisticsTopic      string `param:"statistics_topic"`
	TopicStatisticsTopic string `param:"topic_statistics_topic"`
	// Log writes one line per topic per window.
	Log bool `param:"log"`
	// ResultsDir, when set, receives topics.jsonl: one JSON line per topic
	// per window.
	ResultsDir string `param:"results_dir"`
	// MaxSamples bounds the values kept per quantity per window for the
	// percentiles (see topicstats.Options).
	MaxSamples int `param:"max_samples"`
}

// DefaultProfilerConfig returns the profiler's defaults.
func DefaultProfilerConfig() ProfilerConfig {
	return ProfilerConfig{
		Window: DefaultWindow, QoS: SensorDataQoS(), Log: true,
		StatisticsTopic: DefaultStatisticsTopic, TopicStatisticsTopic: DefaultTopicStatisticsTopic,
		MaxSamples: topicstats.DefaultMaxSamples,
	}
}

// Validate checks the parameters; errors name the parameter.
func (c *ProfilerConfig) Validate() error {
	c.Topics = slices.DeleteFunc(c.Topics, func(t string) bool { return strings.TrimSpace(t) == "" })
	switch {
	case len(c.Topics) == 0:
		return errors.New("parameter topics: name at least one topic to profile")
	case c.Window <= 0:
		return fmt.Errorf("parameter window %v must be positive", c.Window)
	case c.Duration < 0:
		return fmt.Errorf("parameter duration %v is negative", c.Duration)
	case c.StatisticsTopic == "" || c.TopicStatisticsTopic == "":
		return errors.New("parameters statistics_topic and topic_statistics_topic must name topics")
	case c.MaxSamples < 1 || c.MaxSamples > 1<<24:
		return fmt.Errorf("parameter max_samples %d: want 1–%d", c.MaxSamples, 1<<24)
	}
	return c.QoS.Validate("qos")
}

// profiled is one topic being profiled.
type profiled struct {
	topic, typ string
	header     bool
	meter      *topicstats.Meter
	sub        io.Closer
}

// RunProfiler profiles the topics until ctx ends or c.Duration passes,
// publishing each window's statistics. It returns the last window of each
// topic that was subscribed to.
func RunProfiler(ctx context.Context, env Env, c ProfilerConfig) (map[string]topicstats.Window, error) {
	if err := env.init(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	spub, err := env.Host.Publisher(c.StatisticsTopic, msgs.TypeMetricsMessage, StatisticsQoS())
	if err != nil {
		return nil, fmt.Errorf("parameter statistics_topic: %w", err)
	}
	defer spub.Close()
	tpub, err := env.Host.Publisher(c.TopicStatisticsTopic, msgs.TypeTopicStatistics, StatisticsQoS())
	if err != nil {
		return nil, fmt.Errorf("parameter topic_statistics_topic: %w", err)
	}
	defer tpub.Close()
	if c.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Duration)
		defer cancel()
	}
	p := &profiler{env: &env, c: c, spub: spub, tpub: tpub, last: map[string]topicstats.Window{}}
	if c.ResultsDir != "" {
		f, err := createJSONL(c.ResultsDir)
		if err != nil {
			return nil, fmt.Errorf("parameter results_dir: %w", err)
		}
		defer func() {
			if err := f.Close(); err != nil {
				env.Logf("topic profiler: %v", err)
			}
		}()
		p.jsonl = json.NewEncoder(f)
		env.Logf("topic profiler: writing %s", f.Name())
	}
	for _, t := range c.Topics {
		p.topics = append(p.topics, &profiled{topic: t})
	}
	defer p.close()
	env.Logf("topic profiler: %s, %v windows", strings.Join(c.Topics, ", "), c.Window)
	if err := p.subscribe(); err != nil {
		return nil, err
	}
	tick := time.NewTicker(c.Window)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.report(time.Now())
			return p.last, nil
		case now := <-tick.C:
			p.report(now)
			if err := p.subscribe(); err != nil {
				return p.last, err
			}
		}
	}
}

type profiler struct {
	env        *Env
	c          ProfilerConfig
	spub, tpub Publisher
	topics     []*profiled
	last       map[string]topicstats.Window
	buf        []byte
	waiting    bool
	jsonl      *json.Encoder
}

// subscribe subscribes to the topics whose type the graph now knows.
func (p *profiler) subscribe() error {
	var missing []string
	for _, t := range p.topics {
		if t.sub != nil {
			continue
		}
		typ, ok, err := p.env.Host.TopicType(t.topic)
		if err != nil {
			return fmt.Errorf("topic %s: %w", t.topic, err)
		}
		if !ok {
			missing = append(missing, t.topic)
			continue
		}
		t.typ, t.header = typ, HeaderFirst(typ, os.Getenv("AMENT_PREFIX_PATH"))
		t.meter = topicstats.NewMeter(topicstats.Options{MaxSamples: p.c.MaxSamples}, time.Now())
		meter, header := t.meter, t.header
		sub, err := p.env.Host.Subscribe(t.topic, typ, p.c.QoS, func(m Message) {
			o := topicstats.Observation{Size: len(m.Data), Arrival: m.Received, Published: m.Published}
			if header {
				if st, err := cdr.HeaderStamp(m.Data); err == nil && !st.IsZero() {
					o.Stamp = st.Time()
				}
			}
			meter.Observe(o)
		})
		if err != nil {
			return fmt.Errorf("topic %s: %w", t.topic, err)
		}
		t.sub = sub
		p.env.Logf("topic profiler: subscribed to %s (%s)", t.topic, typ)
	}
	if len(missing) > 0 && !p.waiting {
		p.env.Logf("topic profiler: waiting for %s to appear", strings.Join(missing, ", "))
	}
	p.waiting = len(missing) > 0
	return nil
}

// report closes every subscribed topic's window and publishes it.
func (p *profiler) report(now time.Time) {
	for _, t := range p.topics {
		if t.meter == nil {
			continue
		}
		w := t.meter.Window(now)
		p.last[t.topic] = w
		ts := TopicStatistics(p.env.Node, t.topic, t.typ, w)
		p.publish(p.tpub, &ts)
		for _, m := range TopicMetrics(p.env.Node, t.topic, w) {
			p.publish(p.spub, &m)
		}
		if p.c.Log {
			p.env.Logf("%s", FormatWindow(t.topic, w))
		}
		if p.jsonl != nil {
			if err := p.jsonl.Encode(windowRecord{Topic: t.topic, Type: t.typ, Window: w}); err != nil {
				p.env.Logf("topic profiler: %v", err)
			}
		}
	}
}

func (p *profiler) publish(pub Publisher, m cdr.Message) {
	p.buf = cdr.MarshalAppend(p.buf[:0], m, false)
	if err := pub.Publish(p.buf); err != nil {
		p.env.Logf("topic profiler: publishing %s: %v", m.TypeName(), err)
	}
}

func (p *profiler) close() {
	for _, t := range p.topics {
		if t.sub != nil {
			t.sub.Close()
		}
	}
}

// createJSONL creates dir and dir/topics.jsonl.
func createJSONL(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dir, "topics.jsonl"))
}

// windowRecord is one line of topics.jsonl.
type windowRecord struct {
	Topic string `json:"topic"`
	Type  string `json:"type"`
	topicstats.Window
}

// TopicStatistics converts a window of topic to its message, from the
// profiling node node.
func TopicStatistics(node, topic, typ string, w topicstats.Window) msgs.TopicStatistics {
	return msgs.TopicStatistics{
		Header:      cdr.Header{Stamp: msgs.Time(w.Stop), FrameID: node},
		Topic:       topic,
		Type:        typ,
		WindowStart: msgs.Time(w.Start), WindowStop: msgs.Time(w.Stop),
		Messages: uint64(w.Messages), Rate: w.Rate, Bandwidth: w.Bandwidth,
		Size: distribution(w.Size), Period: distribution(w.Period),
		HeaderAge: distribution(w.HeaderAge), TransportDelay: distribution(w.TransportDelay),
	}
}

func distribution(d topicstats.Distribution) msgs.Distribution {
	return msgs.Distribution{
		Count: uint64(d.Count), Mean: d.Mean, Stddev: d.Std, Min: d.Min, Max: d.Max,
		P50: d.P50, P90: d.P90, P99: d.P99,
	}
}

// TopicMetrics converts a window of topic to statistics_msgs messages, one
// per quantity that has values: message_period, message_age (header age),
// message_size and transport_delay, as "<topic>/<quantity>".
func TopicMetrics(node, topic string, w topicstats.Window) []msgs.MetricsMessage {
	var out []msgs.MetricsMessage
	for _, q := range []struct {
		name, unit string
		d          topicstats.Distribution
	}{
		{"message_period", "s", w.Period},
		{"message_age", "s", w.HeaderAge},
		{"message_size", "B", w.Size},
		{"transport_delay", "s", w.TransportDelay},
	} {
		if q.d.Count == 0 {
			continue
		}
		out = append(out, msgs.MetricsMessage{
			MeasurementSourceName: node,
			MetricsSource:         topic + "/" + q.name,
			Unit:                  q.unit,
			WindowStart:           msgs.Time(w.Start),
			WindowStop:            msgs.Time(w.Stop),
			Statistics: []msgs.StatisticDataPoint{
				{DataType: msgs.StatisticAverage, Data: q.d.Mean},
				{DataType: msgs.StatisticMinimum, Data: q.d.Min},
				{DataType: msgs.StatisticMaximum, Data: q.d.Max},
				{DataType: msgs.StatisticStddev, Data: q.d.Std},
				{DataType: msgs.StatisticSampleCount, Data: float64(q.d.Count)},
			},
		})
	}
	return out
}

// FormatWindow describes a topic's window in one line, as ros2 topic hz,
// bw and delay would together.
func FormatWindow(topic string, w topicstats.Window) string {
	if w.Messages == 0 {
		return fmt.Sprintf("%s: no messages in %.1f s", topic, w.Stop.Sub(w.Start).Seconds())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d msgs, rate %.2f Hz, jitter %s, %.3f MB/s, size %.0f B",
		topic, w.Messages, w.Rate, window.Seconds(w.Jitter()), w.Bandwidth/1e6, w.Size.Mean)
	if w.HeaderAge.Count > 0 {
		fmt.Fprintf(&b, ", header age p50 %s p90 %s p99 %s", window.Seconds(w.HeaderAge.P50), window.Seconds(w.HeaderAge.P90), window.Seconds(w.HeaderAge.P99))
	}
	if w.TransportDelay.Count > 0 {
		fmt.Fprintf(&b, ", transport delay p50 %s p99 %s", window.Seconds(w.TransportDelay.P50), window.Seconds(w.TransportDelay.P99))
	}
	return b.String()
}
