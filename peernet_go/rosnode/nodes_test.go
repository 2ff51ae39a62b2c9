package rosnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/rosnode/topicstats"
	"github.com/peernet/peernet_go/peernet_go/run"

	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
)

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// testLog collects log lines.
type testLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *testLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *testLog) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// startCloud runs a cloud node until the test ends.
func startCloud(t *testing.T, h Host, c CloudConfig) *testLog {
	t.Helper()
	log := &testLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := RunCloud(ctx, Env{Host: h, Node: "/cloud_node", Logf: log.logf}, c)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("cloud node: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("cloud node did not stop within 10 s")
		}
	})
	return log
}

func decodeAll[M any, P interface {
	*M
	cdr.Message
}](t *testing.T, msgs [][]byte) []M {
	t.Helper()
	out := make([]M, len(msgs))
	for i, b := range msgs {
		if err := cdr.Unmarshal(b, P(&out[i])); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	return out
}

// TestEdgeAndCloudOverZMQ runs both nodes with a built-in sensor over a
// real zmq-tcp link and checks what the edge publishes and writes.
func TestEdgeAndCloudOverZMQ(t *testing.T) {
	h := newMemHost("/edge_node")
	port := freePort(t) - 1 // the cloud, device 1, listens on start_port+1
	cloud := DefaultCloudConfig()
	cloud.StartPort, cloud.ModelName = port, "dummy:infer=1ms"
	startCloud(t, h, cloud)

	metricsC := h.collect("/edge_node/metrics", msgs.TypeIterationMetrics)
	statsC := h.collect("/edge_node/statistics", msgs.TypeMetricsMessage)
	c := DefaultEdgeConfig()
	c.StartPort, c.Iterations, c.SensorSize, c.Rate = port, 40, "2048", 100
	c.StatisticsPeriod = 100 * time.Millisecond
	c.ResultsDir = filepath.Join(t.TempDir(), "results")
	log := &testLog{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := RunEdge(ctx, Env{Host: h, Node: "/edge_node", Logf: log.logf, Version: "test"}, c)
	if err != nil {
		t.Fatal(err)
	}
	// At 100 Hz a loaded machine may miss a slot: it is recorded as such.
	if res.OK+res.Missed != 40 || res.OK < 30 {
		t.Fatalf("result %+v", res)
	}
	waitFor(t, func() bool { return len(metricsC.all()) == 40 })
	its := decodeAll[msgs.IterationMetrics](t, metricsC.all())
	for i, m := range its {
		if m.Iteration != uint64(i) || m.Header.FrameID != "edge" {
			t.Fatalf("metrics %d: %+v", i, m)
		}
		if m.Status == msgs.StatusMissed {
			continue
		}
		if m.Status != msgs.StatusOK {
			t.Fatalf("metrics %d: %+v", i, m)
		}
		if m.Inference < 0.001 || m.UploadBytes < 2048 || m.RTT <= 0 || m.T3Ns <= m.T0Ns {
			t.Fatalf("metrics %d: inference %v, upload %d bytes, rtt %v", i, m.Inference, m.UploadBytes, m.RTT)
		}
		if d := m.Upload + m.Server + m.Download - m.RTT; math.Abs(d) > 1e-9 {
			t.Fatalf("metrics %d: upload + server + download - rtt = %v", i, d)
		}
	}
	stats := decodeAll[msgs.MetricsMessage](t, statsC.all())
	var rttCount float64
	sources := map[string]bool{}
	for _, m := range stats {
		sources[m.MetricsSource] = true
		if m.MeasurementSourceName != "/edge_node" {
			t.Fatalf("statistics from %q", m.MeasurementSourceName)
		}
		if m.MetricsSource == metrics.StageRTT {
			n, _ := m.Stat(msgs.StatisticSampleCount)
			rttCount += n
			mean, _ := m.Stat(msgs.StatisticAverage)
			lo, _ := m.Stat(msgs.StatisticMinimum)
			hi, _ := m.Stat(msgs.StatisticMaximum)
			if !(lo <= mean && mean <= hi) || m.Unit != "s" {
				t.Fatalf("rtt window %+v", m)
			}
		}
	}
	if rttCount != float64(res.OK) {
		t.Fatalf("statistics windows count %v rtt values, want %d (sources %v)", rttCount, res.OK, sources)
	}
	for _, s := range []string{"sensing", "upload", "inference", "download", "upload-bytes"} {
		if !sources[s] {
			t.Errorf("no statistics for %s (have %v)", s, sources)
		}
	}
	for _, f := range []string{"data.csv", "records.jsonl", "summary.json", "summary.txt", "run.yaml"} {
		if _, err := os.Stat(filepath.Join(c.ResultsDir, f)); err != nil {
			t.Errorf("results: %v", err)
		}
	}
	if !log.has(fmt.Sprintf("edge: 40 iterations: %d ok, 0 lost, 0 errors", res.OK)) || !log.has("window") {
		t.Errorf("log: %q", log.lines)
	}
}

// TestTopicSensorOverROS2Network profiles a topic of images stamped 20 ms
// before publication, sending the samples over the ros2 network.
func TestTopicSensorOverROS2Network(t *testing.T) {
	h := newMemHost("/edge_node")
	cloud := DefaultCloudConfig()
	cloud.Network, cloud.ModelName, cloud.ResultsTopic = TransportName, "echo", "~/results"
	startCloud(t, h, cloud)
	results := h.collect("/edge_node/results", msgs.TypeReply) // the cloud node shares the bus's node name

	// A camera publishing until the test ends.
	pub, err := h.Publisher("/camera/image_raw", "sensor_msgs/msg/Image", SensorDataQoS())
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				img := cdr.Image{
					Header: cdr.Header{Stamp: msgs.Time(now.Add(-20 * time.Millisecond)), FrameID: "camera"},
					Height: 4, Width: 4, Encoding: "rgb8", Step: 12, Data: make([]byte, 48),
				}
				pub.Publish(cdr.Marshal(&img))
			}
		}
	})
	defer func() { close(stop); wg.Wait(); pub.Close() }()

	metricsC := h.collect("/edge_node/metrics", msgs.TypeIterationMetrics)
	c := DefaultEdgeConfig()
	c.Network, c.SensorTopic, c.Iterations, c.TopicWait = TransportName, "/camera/image_raw", 20, 5*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := RunEdge(ctx, Env{Host: h, Node: "/edge_node"}, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 20 {
		t.Fatalf("result %+v", res)
	}
	waitFor(t, func() bool { return len(metricsC.all()) == 20 })
	for i, m := range decodeAll[msgs.IterationMetrics](t, metricsC.all()) {
		if m.Topic != "/camera/image_raw" || !m.HasHeaderAge || m.HeaderAge < 0.019 || m.HeaderAge > 1 {
			t.Fatalf("metrics %d: topic %q, header age %v (%v)", i, m.Topic, m.HeaderAge, m.HasHeaderAge)
		}
	}
	waitFor(t, func() bool { return len(results.all()) >= 20 })
	r := decodeAll[msgs.Reply](t, results.all()[:1])[0]
	if r.Encoding != "cdr:sensor_msgs/msg/Image" || !strings.HasPrefix(r.Destination, "edge/") {
		t.Fatalf("republished result: encoding %q to %q", r.Encoding, r.Destination)
	}
	var img cdr.Image
	if err := cdr.Unmarshal(r.Data, &img); err != nil || img.Width != 4 || img.Header.FrameID != "camera" {
		t.Fatalf("echoed image: %+v, %v", img, err)
	}
}

func TestProfiler(t *testing.T) {
	h := newMemHost("/topic_profiler")
	tstats := h.collect("/topic_profiler/topics", msgs.TypeTopicStatistics)
	stats := h.collect("/topic_profiler/statistics", msgs.TypeMetricsMessage)
	c := DefaultProfilerConfig()
	c.Topics, c.Window, c.Duration = []string{"/imu", "/late"}, 200*time.Millisecond, 1100*time.Millisecond
	c.ResultsDir = filepath.Join(t.TempDir(), "profile")
	log := &testLog{}
	type result struct {
		w   map[string]topicstats.Window
		err error
	}
	done := make(chan result, 1)
	go func() {
		w, err := RunProfiler(context.Background(), Env{Host: h, Node: "/topic_profiler", Logf: log.logf}, c)
		done <- result{w, err}
	}()
	// /imu at 200 Hz with stamps 3 ms old.
	pub, _ := h.Publisher("/imu", "sensor_msgs/msg/Imu", DefaultQoS())
	defer pub.Close()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	var res result
loop:
	for {
		select {
		case now := <-tick.C:
			m := cdr.Imu{Header: cdr.Header{Stamp: msgs.Time(now.Add(-3 * time.Millisecond))}}
			pub.Publish(cdr.Marshal(&m))
		case res = <-done:
			break loop
		case <-deadline:
			t.Fatal("profiler did not stop after its duration")
		}
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if _, ok := res.w["/late"]; ok {
		t.Fatal("a window for a topic that never appeared")
	}
	// topics.jsonl is written before RunProfiler returns; the published
	// windows reach their subscriber a moment later.
	b, err := os.ReadFile(filepath.Join(c.ResultsDir, "topics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	waitFor(t, func() bool { return len(tstats.all()) >= len(lines) })
	windows := decodeAll[msgs.TopicStatistics](t, tstats.all())
	var good int
	for _, m := range windows {
		if m.Topic != "/imu" || m.Type != "sensor_msgs/msg/Imu" {
			t.Fatalf("statistics of %q (%q)", m.Topic, m.Type)
		}
		if m.Messages > 10 && m.Rate > 100 && m.Rate < 300 && m.HeaderAge.P50 >= 0.003 && m.HeaderAge.P50 < 0.1 && m.Size.Mean > 0 {
			good++
		}
	}
	if good < 3 {
		t.Fatalf("%d plausible windows of %d: %+v", good, len(windows), windows)
	}
	sources := map[string]bool{}
	for _, m := range decodeAll[msgs.MetricsMessage](t, stats.all()) {
		sources[m.MetricsSource] = true
	}
	for _, s := range []string{"/imu/message_period", "/imu/message_age", "/imu/message_size", "/imu/transport_delay"} {
		if !sources[s] {
			t.Errorf("no %s statistics (have %v)", s, sources)
		}
	}
	if !log.has("/imu: ") || !log.has("header age p50") || !log.has("/late to appear") {
		t.Errorf("log %q", log.lines)
	}
	if len(lines) != len(windows) {
		t.Fatalf("%d lines in topics.jsonl, %d windows published", len(lines), len(windows))
	}
	var rec struct {
		Topic, Type string
		Messages    int
		Rate        float64
		HeaderAge   topicstats.Distribution `json:"header-age"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)/2]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Topic != "/imu" || rec.Type != "sensor_msgs/msg/Imu" || rec.Messages == 0 || rec.Rate == 0 || rec.HeaderAge.Count == 0 {
		t.Fatalf("topics.jsonl line %s", lines[len(lines)/2])
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConfigErrors(t *testing.T) {
	h := newMemHost("/n")
	ctx := context.Background()
	edge := func(f func(*EdgeConfig)) error {
		c := DefaultEdgeConfig()
		f(&c)
		_, err := RunEdge(ctx, Env{Host: h}, c)
		return err
	}
	for _, c := range []struct {
		f    func(*EdgeConfig)
		want string
	}{
		{func(c *EdgeConfig) { c.Iterations = -1 }, "parameter iterations -1 is negative"},
		{func(c *EdgeConfig) { c.Timeout = 0 }, "parameter timeout 0s must be positive"},
		{func(c *EdgeConfig) { c.QueueDepth = 0 }, "parameter queue_depth 0"},
		{func(c *EdgeConfig) { c.QoS.Reliability = "maybe" }, `qos.reliability "maybe"`},
		{func(c *EdgeConfig) { c.Clock = "sundial" }, "parameter clock"},
		{func(c *EdgeConfig) { c.TopicType = "Image" }, "parameter topic_type"},
		{func(c *EdgeConfig) { c.Network = "carrier-pigeon" }, `parameter network: unknown network "carrier-pigeon"`},
		{func(c *EdgeConfig) { c.ConfigFile = "/nonexistent/net.yaml" }, "parameter network_config"},
		{func(c *EdgeConfig) { c.Name = "robot" }, `parameter name: device "robot"`},
		{func(c *EdgeConfig) { c.SensorType = "sonar" }, `parameter sensor_type: sensor: unknown type "sonar"`},
		{func(c *EdgeConfig) { c.SensorTopic, c.TopicWait = "/nothing", 50*time.Millisecond }, "topic /nothing: not seen in the ROS graph within 50ms"},
	} {
		if err := edge(c.f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	cloud := DefaultCloudConfig()
	cloud.ModelName = "resnet"
	if _, err := RunCloud(ctx, Env{Host: h}, cloud); err == nil || !strings.Contains(err.Error(), `parameter model_name: model "resnet": unknown model`) {
		t.Errorf("cloud with an unknown model: %v", err)
	}
	prof := DefaultProfilerConfig()
	if _, err := RunProfiler(ctx, Env{Host: h}, prof); err == nil || !strings.Contains(err.Error(), "parameter topics") {
		t.Errorf("profiler without topics: %v", err)
	}
	if _, err := RunEdge(ctx, Env{}, DefaultEdgeConfig()); err == nil {
		t.Error("RunEdge without a host")
	}
}

// TestNoCloud checks the edge's message when nothing answers.
func TestNoCloud(t *testing.T) {
	c := DefaultEdgeConfig()
	c.StartPort, c.Timeout, c.ConnectTimeout, c.Iterations = freePort(t)-1, 300*time.Millisecond, 300*time.Millisecond, 1
	_, err := RunEdge(context.Background(), Env{Host: newMemHost("/e")}, c)
	if !errors.Is(err, run.ErrNoServer) || !strings.Contains(err.Error(), "is the cloud node (device cloud) running?") {
		t.Fatalf("error %v", err)
	}
}

func TestHeaderFirst(t *testing.T) {
	prefix := t.TempDir()
	write := func(pkg, name, def string) {
		dir := filepath.Join(prefix, "share", pkg, "msg")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, name+".msg"), []byte(def), 0o644)
	}
	write("my_msgs", "Stamped", "# A stamped reading\nuint8 KIND=1  # a constant\n\nstd_msgs/Header header\nfloat64 value\n")
	write("my_msgs", "Plain", "float64 value\nstd_msgs/Header header\n")
	write("my_msgs", "Legacy", "Header header\n")
	for typ, want := range map[string]bool{
		"my_msgs/msg/Stamped": true, "my_msgs/msg/Plain": false, "my_msgs/msg/Legacy": true,
		"sensor_msgs/msg/Image": true, // not in the prefix: the built-in list
		"std_msgs/msg/String":   false, "not a type": false,
	} {
		if got := HeaderFirst(typ, "/nonexistent:"+prefix); got != want {
			t.Errorf("HeaderFirst(%s) = %v, want %v", typ, got, want)
		}
	}
}

func TestFormatWindow(t *testing.T) {
	t0 := time.Unix(100, 0)
	w := topicstats.Window{Start: t0, Stop: t0.Add(time.Second), Messages: 30, Rate: 30, Bandwidth: 3e6,
		Size:      topicstats.Distribution{Count: 30, Mean: 1e5},
		Period:    topicstats.Distribution{Count: 29, Std: 0.0005},
		HeaderAge: topicstats.Distribution{Count: 30, P50: 0.012, P90: 0.02, P99: 95689186.1},
	}
	want := "/cam: 30 msgs, rate 30.00 Hz, jitter 500 µs, 3.000 MB/s, size 100000 B, header age p50 12.0 ms p90 20.0 ms p99 95689186.100 s"
	if got := FormatWindow("/cam", w); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := FormatWindow("/cam", topicstats.Window{Start: t0, Stop: t0.Add(2 * time.Second)}); got != "/cam: no messages in 2.0 s" {
		t.Errorf("empty window: %s", got)
	}
}

// TestCloudEdgeStatistics runs two edges against one cloud node that
// publishes what it saw of each: MetricsMessage windows named after each
// edge, whose request counts add up to what the edges sent.
func TestCloudEdgeStatistics(t *testing.T) {
	h := newMemHost("/cloud_node")
	port := freePort(t) - 1
	cfgPath := filepath.Join(t.TempDir(), "net.yaml")
	doc := fmt.Sprintf("devices:\n  robot_0: 127.0.0.1\n  cloud: 127.0.0.1\n  robot_1: 127.0.0.1\nserver: cloud\nstart_port: %d\n", port)
	if err := os.WriteFile(cfgPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	stats := h.collect("/cloud_node/edge_statistics", msgs.TypeMetricsMessage)
	cloud := DefaultCloudConfig()
	cloud.ConfigFile, cloud.ModelName = cfgPath, "dummy:infer=1ms"
	cloud.EdgeStatisticsTopic, cloud.StatisticsPeriod = "~/edge_statistics", 200*time.Millisecond
	startCloud(t, h, cloud)
	var wg sync.WaitGroup
	for _, name := range []string{"robot_0", "robot_1"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := DefaultEdgeConfig()
			c.ConfigFile, c.Name, c.Iterations, c.SensorSize, c.Rate = cfgPath, name, 40, "256", 50
			if _, err := RunEdge(context.Background(), Env{Host: newMemHost("/" + name + "/edge_node"), Node: "/" + name + "/edge_node", Logf: t.Logf}, c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	perEdge := map[string]float64{}
	waitFor(t, func() bool {
		perEdge = map[string]float64{}
		for _, m := range decodeAll[msgs.MetricsMessage](t, stats.all()) {
			if m.MetricsSource == metrics.StageInference {
				n, _ := m.Stat(msgs.StatisticSampleCount)
				edge := m.MeasurementSourceName[strings.LastIndex(m.MeasurementSourceName, "/")+1:]
				perEdge[strings.SplitN(edge, "-", 2)[0]] += n
			}
		}
		return perEdge["robot_0"] == 40 && perEdge["robot_1"] == 40
	})
}
