package msgs

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// rmwSample is Sample{Source: "edge/1", Sequence: 7, Data: {1, 2, 3}} as
// rmw_cyclonedds_cpp serialized it (rclgo.Serialize of the generated type,
// ROS 2 Humble): the reference the codec must match byte for byte.
const rmwSample = "000100000000000000000000010000000000000007000000656467652f3100000000000007000000000000000000000000000000000000000000000000000000000000000000000000000000010000000000000001000000000000000300000001020300"

func TestSampleMatchesMiddleware(t *testing.T) {
	want, _ := hex.DecodeString(rmwSample)
	got := cdr.Marshal(&Sample{Source: "edge/1", Sequence: 7, Data: []byte{1, 2, 3}})
	// The middleware pads the message to a multiple of 4 bytes.
	if padded := append(got, make([]byte, (4-len(got)%4)%4)...); !reflect.DeepEqual(padded, want) {
		t.Fatalf("encoded\n%x\nwant\n%x", padded, want)
	}
	var m Sample
	if err := cdr.Unmarshal(want, &m); err != nil {
		t.Fatal(err)
	}
	if m.Source != "edge/1" || m.Sequence != 7 || string(m.Data) != "\x01\x02\x03" {
		t.Fatalf("decoded %+v", m)
	}
}

// cases are one value of every message, used by the round-trip tests and as
// fuzz seeds.
func cases() []cdr.Message {
	return []cdr.Message{
		&Sample{
			Header: cdr.Header{Stamp: cdr.Time{Sec: 1700000000, Nanosec: 5}, FrameID: "edge"},
			Source: "edge/0123abcd", Kind: uint8(wire.Request), Sequence: 1 << 40,
			ClientSendNs: -5, ServerRecvNs: 1, ServerSendNs: 2, ClientRecvNs: 3,
			Encoding: "cdr:sensor_msgs/msg/Image", RosType: "sensor_msgs/msg/Image", Data: []byte("pixels"),
		},
		&Reply{
			Header:      cdr.Header{Stamp: cdr.Time{Sec: 1, Nanosec: 2}, FrameID: "cloud"},
			Destination: "edge/0123abcd", Kind: uint8(wire.Reply), Sequence: 9,
			ClientSendNs: 10, ServerRecvNs: 11, ServerSendNs: 12, ClientRecvNs: 13,
			QueueNs: 3, PreprocessNs: 4, InferenceNs: 5, PostprocessNs: 6,
			Encoding: "json", Data: []byte(`{"label":"cat"}`),
		},
		&IterationMetrics{
			Header: cdr.Header{FrameID: "edge"}, Iteration: 42, Warmup: true, Status: StatusLost,
			Error: "no reply within 5s", Topic: "/camera/image_raw",
			Sensing: 0.001, Upload: 0.002, Queue: 0.003, Preprocessing: 0.004, Inference: 0.005,
			Postprocessing: 0.006, Server: 0.007, Download: 0.008, RTT: 0.009,
			UploadBytes: 100, DownloadBytes: 200, UploadThroughput: 1e6, DownloadThroughput: 2e6,
			ClockOffset: -0.5, ClockError: 1e-4, Lag: 0.01, HasHeaderAge: true, HeaderAge: 0.02,
			T0Ns: 1, T1Ns: 2, T2Ns: 3, T3Ns: 4,
		},
		&TopicStatistics{
			Header: cdr.Header{FrameID: "/topic_profiler"}, Topic: "/imu", Type: "sensor_msgs/msg/Imu",
			WindowStart: cdr.Time{Sec: 1}, WindowStop: cdr.Time{Sec: 2}, Messages: 100, Rate: 99.5, Bandwidth: 3e4,
			Size:           Distribution{Count: 100, Mean: 300, Min: 300, Max: 300, P50: 300, P90: 300, P99: 300},
			Period:         Distribution{Count: 99, Mean: 0.01, Stddev: 1e-4, Min: 0.009, Max: 0.011, P50: 0.01, P90: 0.0105, P99: 0.011},
			HeaderAge:      Distribution{Count: 100, Mean: 0.002},
			TransportDelay: Distribution{Count: 100, Mean: 0.0001},
		},
		&MetricsMessage{
			MeasurementSourceName: "/edge_node", MetricsSource: "upload", Unit: "s",
			WindowStart: cdr.Time{Sec: 10}, WindowStop: cdr.Time{Sec: 11},
			Statistics: []StatisticDataPoint{{StatisticAverage, 0.5}, {StatisticSampleCount, 7}},
		},
		&Distribution{Count: 3, Mean: 2, Stddev: 0.8, Min: 1, Max: 3, P50: 2, P90: 3, P99: 3},
	}
}

// newOf returns an empty message of m's type.
func newOf(m cdr.Message) cdr.Message {
	return reflect.New(reflect.TypeOf(m).Elem()).Interface().(cdr.Message)
}

func TestRoundTrip(t *testing.T) {
	for _, m := range cases() {
		for _, be := range []bool{false, true} {
			b := cdr.MarshalAppend(nil, m, be)
			got := newOf(m)
			if err := cdr.Unmarshal(b, got); err != nil {
				t.Fatalf("%s (big endian %v): %v", m.TypeName(), be, err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("%s (big endian %v): decoded\n%+v\nwant\n%+v", m.TypeName(), be, got, m)
			}
			// Every prefix is truncated: an error, never a panic.
			for n := 0; n < len(b); n++ {
				if err := cdr.Unmarshal(b[:n], newOf(m)); err == nil {
					t.Fatalf("%s: %d of %d bytes decoded without error", m.TypeName(), n, len(b))
				}
			}
		}
	}
}

func TestMetricsMessageBounds(t *testing.T) {
	m := &MetricsMessage{MetricsSource: "x"}
	b := cdr.Marshal(m)
	// Announce 2^31 points in a message of a few bytes.
	b[len(b)-4], b[len(b)-3], b[len(b)-2], b[len(b)-1] = 0, 0, 0, 0x80
	if err := cdr.Unmarshal(b, new(MetricsMessage)); !errors.Is(err, cdr.ErrTruncated) {
		t.Fatalf("huge count: %v, want cdr.ErrTruncated", err)
	}
	big := &MetricsMessage{Statistics: make([]StatisticDataPoint, MaxStatistics+1)}
	err := cdr.Unmarshal(cdr.Marshal(big), new(MetricsMessage))
	if err == nil || !strings.Contains(err.Error(), "more than 65536") {
		t.Fatalf("too many points: %v", err)
	}
}

func TestFrameConversions(t *testing.T) {
	req := wire.Frame{
		Kind: wire.Request, Seq: 5, Times: wire.Times{ClientSend: 1_700_000_000_123_456_789},
		Encoding: "cdr:sensor_msgs/msg/CompressedImage", Payload: []byte("jpeg bytes"),
	}
	s, err := SampleFromFrame(&req, "edge/01", "edge")
	if err != nil {
		t.Fatal(err)
	}
	if s.RosType != "sensor_msgs/msg/CompressedImage" || s.Header.FrameID != "edge" ||
		s.Header.Stamp != (cdr.Time{Sec: 1_700_000_000, Nanosec: 123_456_789}) {
		t.Fatalf("sample %+v", s)
	}
	var back Sample
	if err := cdr.Unmarshal(cdr.Marshal(&s), &back); err != nil {
		t.Fatal(err)
	}
	f, err := back.Frame()
	if err != nil {
		t.Fatal(err)
	}
	want := req
	want.Peer = "edge/01"
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("frame %+v, want %+v", f, want)
	}

	rep := wire.Frame{
		Kind: wire.Error, Seq: 5, Times: wire.Times{ClientSend: 1, ServerRecv: 2, ServerSend: 3},
		Stages:   wire.Stages{Queue: 1, Preprocess: 2, Inference: 3, Postprocess: 4},
		Encoding: "text", Payload: []byte("model failed"), Peer: "edge/01",
	}
	r, err := ReplyFromFrame(&rep, rep.Peer, "cloud")
	if err != nil {
		t.Fatal(err)
	}
	var rback Reply
	if err := cdr.Unmarshal(cdr.Marshal(&r), &rback); err != nil {
		t.Fatal(err)
	}
	if f, err := rback.Frame(); err != nil || !reflect.DeepEqual(f, rep) {
		t.Fatalf("reply frame %+v (%v), want %+v", f, err, rep)
	}

	for _, k := range []wire.Kind{wire.Reply, wire.ProbeReply, wire.Error, 0, 99} {
		if _, err := SampleFromFrame(&wire.Frame{Kind: k}, "", ""); !errors.Is(err, ErrKind) {
			t.Errorf("SampleFromFrame(%v): %v, want ErrKind", k, err)
		}
		if _, err := (&Sample{Kind: uint8(k)}).Frame(); !errors.Is(err, ErrKind) {
			t.Errorf("Sample{Kind: %v}.Frame(): %v, want ErrKind", k, err)
		}
	}
	for _, k := range []wire.Kind{wire.Request, wire.Probe, wire.Bye, 0} {
		if _, err := ReplyFromFrame(&wire.Frame{Kind: k}, "", ""); !errors.Is(err, ErrKind) {
			t.Errorf("ReplyFromFrame(%v): %v, want ErrKind", k, err)
		}
	}
	long := Sample{Kind: uint8(wire.Request), Encoding: strings.Repeat("x", 256)}
	if _, err := long.Frame(); err == nil {
		t.Error("a 256-byte encoding converted to a frame")
	}
}

func TestFromRecord(t *testing.T) {
	r := metrics.Record{
		Iteration: 3, Status: metrics.OK, Topic: "/camera/image_raw",
		Sensing: 30 * time.Millisecond, Upload: 2 * time.Millisecond, Server: 5 * time.Millisecond,
		Inference: 4 * time.Millisecond, Download: time.Millisecond, RTT: 8 * time.Millisecond,
		UploadBytes: 1000, DownloadBytes: 100, ClockOffset: -time.Second, ClockError: time.Microsecond,
		T0: 1_000_000_000, T1: 1, T2: 2, T3: 1_008_000_000, HeaderAge: 40 * time.Millisecond, HasHeaderAge: true,
	}
	m := FromRecord(&r, "edge")
	if m.Iteration != 3 || m.Status != StatusOK || m.Topic != r.Topic || m.Header.Stamp != (cdr.Time{Sec: 1}) {
		t.Fatalf("%+v", m)
	}
	if m.Sensing != 0.03 || m.Upload != 0.002 || m.RTT != 0.008 || m.ClockOffset != -1 || m.HeaderAge != 0.04 {
		t.Fatalf("durations %+v", m)
	}
	if m.UploadThroughput != 4e6 || m.DownloadThroughput != 8e5 {
		t.Fatalf("throughputs %v %v, want 4e6 8e5", m.UploadThroughput, m.DownloadThroughput)
	}
	lost := FromRecord(&metrics.Record{Status: metrics.Lost, UploadBytes: 10, Iteration: -1}, "edge")
	if lost.Status != StatusLost || lost.UploadThroughput != 0 || lost.Iteration != 0 || lost.HasHeaderAge {
		t.Fatalf("lost %+v", lost)
	}
}

func TestFromStageStats(t *testing.T) {
	start := time.Unix(100, 0)
	m := FromStageStats("/edge_node", start, start.Add(time.Second), metrics.StageStats{
		Name: "rtt", Unit: metrics.Seconds, Count: 30, Mean: 0.01, Std: 0.001, Min: 0.008, Max: 0.02,
	})
	want := map[uint8]float64{
		StatisticAverage: 0.01, StatisticMinimum: 0.008, StatisticMaximum: 0.02,
		StatisticStddev: 0.001, StatisticSampleCount: 30,
	}
	for dt, v := range want {
		if got, ok := m.Stat(dt); !ok || got != v {
			t.Errorf("statistic %d = %v (%v), want %v", dt, got, ok, v)
		}
	}
	if m.MetricsSource != "rtt" || m.Unit != "s" || m.WindowStart.Sec != 100 || m.WindowStop.Sec != 101 {
		t.Fatalf("%+v", m)
	}
	if _, ok := m.Stat(99); ok {
		t.Fatal("statistic 99 found")
	}
}

func TestTime(t *testing.T) {
	for _, c := range []struct {
		ns   int64
		want cdr.Time
	}{
		{0, cdr.Time{}},
		{1_500_000_000, cdr.Time{Sec: 1, Nanosec: 500_000_000}},
		{-5, cdr.Time{Sec: -1, Nanosec: 999_999_995}},
		{-2_000_000_000, cdr.Time{Sec: -2}},
	} {
		if got := Nanos(c.ns); got != c.want {
			t.Errorf("Nanos(%d) = %+v, want %+v", c.ns, got, c.want)
		}
		if c.ns != 0 {
			if back := int64(c.want.Sec)*1e9 + int64(c.want.Nanosec); back != c.ns {
				t.Errorf("%+v is %d ns, want %d", c.want, back, c.ns)
			}
		}
	}
	if Time(time.Time{}) != (cdr.Time{}) {
		t.Error("zero time.Time is not the zero stamp")
	}
	if got := Time(time.Unix(3, 4)); got != (cdr.Time{Sec: 3, Nanosec: 4}) {
		t.Errorf("Time(3s 4ns) = %+v", got)
	}
}
