//go:build ros2

package ros2

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tiiuae/rclgo/pkg/rclgo"
	"github.com/tiiuae/rclgo/pkg/rclgo/types"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/rosnode"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"

	peernet_msgs "github.com/peernet/peernet_go/peernet_go/ros2/rosgen/peernet_msgs/msg"
	statistics_msgs "github.com/peernet/peernet_go/peernet_go/ros2/rosgen/statistics_msgs/msg"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// rosContext returns a ROS 2 context on a domain of this test process's
// own, so that the tests neither see nor disturb other ROS 2 programs on
// the machine. It skips the test when ROS 2 is not sourced.
func rosContext(t testing.TB) *rclgo.Context {
	t.Helper()
	if os.Getenv("AMENT_PREFIX_PATH") == "" {
		t.Skip("no sourced ROS 2 (AMENT_PREFIX_PATH is empty): source a ROS 2 Humble and a workspace with peernet_msgs")
	}
	opts := rclgo.NewDefaultContextOptions()
	opts.DomainID = uint(100 + os.Getpid()%100)
	ctx, err := rclgo.NewContextWithOpts(nil, opts)
	if err != nil {
		t.Skipf("ROS 2 does not initialize here: %s", errline.First(err.Error()))
	}
	t.Cleanup(func() { ctx.Close() })
	return ctx
}

// newHost returns a Host on a new node of ctx.
func newHost(t testing.TB, ctx *rclgo.Context, name string) *Host {
	t.Helper()
	node, err := ctx.NewNode(name, "/peernet_test")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHost(node)
	t.Cleanup(func() { h.Close() })
	return h
}

const testNetwork = `
devices:
  edge: 127.0.0.1
  cloud: 127.0.0.1
server: cloud
ros2:
  max_frame: 4194304
  depth: 64
`

// TestTransportConformance runs the transport kit on the ros2 network over
// DDS: the server and the client are two nodes.
func TestTransportConformance(t *testing.T) {
	ctx := rosContext(t)
	cfg, err := network.ParseConfig([]byte(testNetwork))
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := newHost(t, ctx, "server"), newHost(t, ctx, "client")
	transporttest.Run(t, transporttest.Harness{
		Listen: func(t *testing.T) network.Conn {
			c, err := rosnode.Transport{Host: srv}.Listen(context.Background(), cfg, "cloud")
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Dial: func(t *testing.T) network.Conn {
			c, err := rosnode.Transport{Host: cli}.Dial(context.Background(), cfg, "edge")
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		InjectGarbage: func(t *testing.T, b []byte) {
			pub, err := cli.Publisher("/peernet/edge/sample", msgs.TypeSample, rosnode.QoS{Reliability: rosnode.Reliable, Durability: rosnode.Volatile, Depth: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			deadline := time.Now().Add(5 * time.Second)
			for n, _ := pub.Matched(); n == 0 && time.Now().Before(deadline); n, _ = pub.Matched() {
				time.Sleep(5 * time.Millisecond)
			}
			if err := pub.Publish(b); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // let the reliable writer deliver before it goes
		},
		MaxFrame: 4 << 20,
	})
}

// TestCodecMatchesMiddleware checks package msgs's CDR against the
// middleware's own serializer: what package msgs encodes, rmw deserializes into
// the generated type and serializes back to the same bytes.
func TestCodecMatchesMiddleware(t *testing.T) {
	rosContext(t)
	for _, c := range []struct {
		m  cdr.Message
		ts types.MessageTypeSupport
	}{
		{&msgs.Sample{
			Header: cdr.Header{Stamp: cdr.Time{Sec: 17, Nanosec: 5}, FrameID: "edge"}, Source: "edge/00ff", Kind: 1,
			Sequence: 1 << 40, ClientSendNs: -5, ServerRecvNs: 1, ServerSendNs: 2, ClientRecvNs: 3,
			Encoding: "cdr:sensor_msgs/msg/Image", RosType: "sensor_msgs/msg/Image", Data: []byte("abcde"),
		}, peernet_msgs.SampleTypeSupport},
		{&msgs.Reply{
			Header: cdr.Header{FrameID: "cloud"}, Destination: "edge/00ff", Kind: 2, Sequence: 9,
			ClientSendNs: 1, ServerRecvNs: 2, ServerSendNs: 3, QueueNs: 4, PreprocessNs: 5, InferenceNs: 6, PostprocessNs: 7,
			Encoding: "json", Data: []byte(`{"label":1}`),
		}, peernet_msgs.ReplyTypeSupport},
		{&msgs.IterationMetrics{
			Header: cdr.Header{FrameID: "edge"}, Iteration: 3, Warmup: true, Status: 1, Error: "no reply", Topic: "/t",
			Sensing: 1, Upload: 2, Queue: 3, Preprocessing: 4, Inference: 5, Postprocessing: 6, Server: 7, Download: 8, RTT: 9,
			UploadBytes: 10, DownloadBytes: 11, UploadThroughput: 12, DownloadThroughput: 13, ClockOffset: -14, ClockError: 15,
			Lag: 16, HasHeaderAge: true, HeaderAge: 17, T0Ns: 18, T1Ns: 19, T2Ns: 20, T3Ns: 21,
		}, peernet_msgs.IterationMetricsTypeSupport},
		{&msgs.TopicStatistics{
			Header: cdr.Header{FrameID: "/p"}, Topic: "/imu", Type: "sensor_msgs/msg/Imu", WindowStart: cdr.Time{Sec: 1},
			WindowStop: cdr.Time{Sec: 2}, Messages: 3, Rate: 4, Bandwidth: 5,
			Size:   msgs.Distribution{Count: 6, Mean: 7, Stddev: 8, Min: 9, Max: 10, P50: 11, P90: 12, P99: 13},
			Period: msgs.Distribution{Count: 1}, HeaderAge: msgs.Distribution{P99: 2}, TransportDelay: msgs.Distribution{Mean: 3},
		}, peernet_msgs.TopicStatisticsTypeSupport},
		{&msgs.MetricsMessage{
			MeasurementSourceName: "/edge_node", MetricsSource: "rtt", Unit: "s", WindowStart: cdr.Time{Sec: 1}, WindowStop: cdr.Time{Sec: 2},
			Statistics: []msgs.StatisticDataPoint{{DataType: 1, Data: 0.5}, {DataType: 5, Data: 30}},
		}, statistics_msgs.MetricsMessageTypeSupport},
	} {
		ours := cdr.Marshal(c.m)
		msg, err := rclgo.Deserialize(ours, c.ts)
		if err != nil {
			t.Fatalf("%s: the middleware does not deserialize ours: %s", c.m.TypeName(), errline.First(err.Error()))
		}
		theirs, err := rclgo.Serialize(msg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pad4(ours), pad4(theirs)) {
			t.Fatalf("%s:\nours   %x\ntheirs %x", c.m.TypeName(), ours, theirs)
		}
	}
}

// pad4 pads a serialized message to a multiple of 4 bytes, as the
// middleware does.
func pad4(b []byte) []byte { return append(b[:len(b):len(b)], make([]byte, (4-len(b)%4)%4)...) }

// TestTopicSensor publishes sensor_msgs/Image, a type the bindings do not
// include, and samples it through a topic sensor found by its type in the
// graph.
func TestTopicSensor(t *testing.T) {
	ctx := rosContext(t)
	pubHost, subHost := newHost(t, ctx, "camera"), newHost(t, ctx, "edge")
	pub, err := pubHost.Publisher("camera/image_raw", "sensor_msgs/msg/Image", rosnode.DefaultQoS())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	typ, err := rosnode.WaitForType(context.Background(), subHost, "/peernet_test/camera/image_raw", 5*time.Second)
	if err != nil || typ != "sensor_msgs/msg/Image" {
		t.Fatalf("type %q, %v", typ, err)
	}
	s, err := rosnode.OpenTopicSensor(subHost, rosnode.TopicSensorOptions{
		Topic: "camera/image_raw", Type: typ, Prefixes: os.Getenv("AMENT_PREFIX_PATH"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	stamp := time.Now().Add(-30 * time.Millisecond).Truncate(time.Microsecond)
	img := cdr.Image{Header: cdr.Header{Stamp: msgs.Time(stamp), FrameID: "cam"}, Height: 2, Width: 3, Encoding: "mono8", Step: 3, Data: []byte{1, 2, 3, 4, 5, 6}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // publish until sampled: the subscription may match late
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				pub.Publish(cdr.Marshal(&img))
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sample, err := s.Sample(sctx)
	if err != nil {
		t.Fatal(err)
	}
	if sample.Encoding != "cdr:sensor_msgs/msg/Image" || sample.Topic != "camera/image_raw" || !sample.Stamp.Equal(stamp) {
		t.Fatalf("sample: encoding %q topic %q stamp %v (want %v)", sample.Encoding, sample.Topic, sample.Stamp, stamp)
	}
	var got cdr.Image
	if err := cdr.Unmarshal(sample.Data, &got); err != nil || got.Width != 3 || !bytes.Equal(got.Data, img.Data) {
		t.Fatalf("sampled image %+v, %v", got, err)
	}
}

// take subscribes to topic with the generated type ts and returns the
// messages received, typed, as rmw deserialized them.
func take(t *testing.T, h *Host, topic string, ts types.MessageTypeSupport) func() []types.Message {
	t.Helper()
	var (
		mu   sync.Mutex
		msgs []types.Message
	)
	sub, err := h.node.NewSubscription(topic, ts, &rclgo.SubscriptionOptions{Qos: QosProfile(rosnode.StatisticsQoS())}, func(s *rclgo.Subscription) {
		m := ts.New()
		if _, err := s.TakeMessage(m); err == nil {
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := h.node.Context().NewWaitSet()
	if err != nil {
		t.Fatal(err)
	}
	ws.AddSubscriptions(sub)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ws.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; ws.Close(); sub.Close() })
	return func() []types.Message {
		mu.Lock()
		defer mu.Unlock()
		return append([]types.Message(nil), msgs...)
	}
}

// TestMetricsRoundTrip publishes records with the edge node's sinks and
// receives them through real subscriptions of the generated types.
func TestMetricsRoundTrip(t *testing.T) {
	ctx := rosContext(t)
	edge, echo := newHost(t, ctx, "edge_node"), newHost(t, ctx, "echo")
	got := take(t, echo, "/peernet_test/edge_node/metrics", peernet_msgs.IterationMetricsTypeSupport)
	gotStats := take(t, echo, "/peernet_test/edge_node/statistics", statistics_msgs.MetricsMessageTypeSupport)
	mpub, err := edge.Publisher("~/metrics", msgs.TypeIterationMetrics, rosnode.DefaultQoS())
	if err != nil {
		t.Fatal(err)
	}
	defer mpub.Close()
	spub, err := edge.Publisher("~/statistics", msgs.TypeMetricsMessage, rosnode.StatisticsQoS())
	if err != nil {
		t.Fatal(err)
	}
	defer spub.Close()
	for _, p := range []rosnode.Publisher{mpub, spub} {
		deadline := time.Now().Add(5 * time.Second)
		for n, _ := p.Matched(); n == 0; n, _ = p.Matched() {
			if time.Now().After(deadline) {
				t.Fatal("the subscriptions did not match within 5 s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	sink := rosnode.NewMetricsSink(mpub, "edge")
	windows, err := window.New(window.Options{Emit: rosnode.StatisticsPublisher(spub, "/peernet_test/edge_node", nil)})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20
	var recs []metrics.Record
	for i := range n {
		r := metrics.Record{
			Iteration: i, Status: metrics.OK, Topic: "/camera/image_raw",
			Sensing: time.Duration(rng.IntN(1e6)), Upload: time.Duration(rng.IntN(1e6)), Server: time.Duration(rng.IntN(1e6)),
			Inference: time.Duration(rng.IntN(1e6)), Download: time.Duration(rng.IntN(1e6)),
			UploadBytes: int64(rng.IntN(1e6)), DownloadBytes: 100, T0: time.Now().UnixNano(), T3: 1,
			HeaderAge: 12 * time.Millisecond, HasHeaderAge: true,
		}
		r.RTT = r.Upload + r.Server + r.Download
		recs = append(recs, r)
		if err := sink.Write(&r); err != nil {
			t.Fatal(err)
		}
		windows.Write(&r)
	}
	if err := windows.Close(); err != nil {
		t.Fatal(err)
	}
	// Close emitted one statistics message per stage, rtt among them.
	var rtt *statistics_msgs.MetricsMessage
	deadline := time.Now().Add(5 * time.Second)
	for ; len(got()) < n || rtt == nil; time.Sleep(10 * time.Millisecond) {
		for _, m := range gotStats() {
			if m := m.(*statistics_msgs.MetricsMessage); m.MetricsSource == metrics.StageRTT {
				rtt = m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d metrics and %d statistics (rtt: %v) within 5 s", len(got()), n, len(gotStats()), rtt != nil)
		}
	}
	for i, m := range got() {
		m := m.(*peernet_msgs.IterationMetrics)
		r := &recs[i]
		if m.Iteration != uint64(i) || m.Topic != r.Topic || m.Header.FrameId != "edge" || m.UploadBytes != r.UploadBytes ||
			m.Upload != r.Upload.Seconds() || m.Rtt != r.RTT.Seconds() || m.HeaderAge != 0.012 || !m.HasHeaderAge {
			t.Fatalf("metrics %d: %+v\nrecord %+v", i, m, r)
		}
	}
	if rtt.MeasurementSourceName != "/peernet_test/edge_node" || rtt.Unit != "s" {
		t.Fatalf("rtt statistics: %+v", rtt)
	}
	for _, p := range rtt.Statistics {
		if p.DataType == statistics_msgs.StatisticDataType_STATISTICS_DATA_TYPE_SAMPLE_COUNT && p.Data != n {
			t.Fatalf("rtt sample count %v, want %d", p.Data, n)
		}
	}
}
