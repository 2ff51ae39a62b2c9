package replay_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/rosbag"
	"github.com/peernet/peernet_go/peernet_go/rosbag/replay"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/sensor/sensortest"
)

// The reference bags of package rosbag (see ../testdata/EXPECTED.md).
const bags = "../testdata/"

func openBag(t testing.TB, o sensor.Options) sensor.Sensor {
	t.Helper()
	o.Type = "rosbag"
	s, err := replay.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestRosbagReplay replays every reference bag to its end and checks the
// first sample of a topic against the values of expected.json.
func TestRosbagReplay(t *testing.T) {
	tests := []struct {
		bag       string
		topics    []string
		count     int
		topic     string // of the first sample
		encoding  string
		logTime   int64
		stamp     time.Time // zero: the type has no header
		cdrSHA256 string
	}{
		{"camera_humble_sqlite3", nil, 60, "/camera/image_raw", "cdr:sensor_msgs/msg/Image", 1700000000126425186,
			time.Unix(1700000000, 123456789), "f35d6fd107845f3f02da939f4ed3c7d590d0485e800bb32c5783665c09ded835"},
		{"camera_humble_mcap", []string{"/camera/image_raw/compressed"}, 30, "/camera/image_raw/compressed", "cdr:sensor_msgs/msg/CompressedImage", 1700000000129842736,
			time.Unix(1700000000, 123456789), "30269d216ad0a9cfa6df81d89cd46560d904e8393bf66433a2441da9d54bdb27"},
		{"mixed_jazzy_mcap", []string{"/scan", "/lidar/points"}, 60, "/lidar/points", "cdr:sensor_msgs/msg/PointCloud2", 1718000000259803325,
			time.Unix(1718000000, 250000000), "44432b5a62019a2bda24e517848154ea8ffa55ed75acd81587c73784dbf56727"},
		{"mixed_jazzy_mcap", []string{"/chatter"}, 10, "/chatter", "cdr:std_msgs/msg/String", 1718000000270000000,
			time.Time{}, "d84b06cba18306a4d8cbce169338a65dc8375e56f01e06798c8077c3c49799ef"},
		{"real_humble/camera_sqlite3", []string{"/camera/image_raw"}, 30, "/camera/image_raw", "cdr:sensor_msgs/msg/Image", 1795677890147376008,
			time.Unix(1700000000, 123456789), "f35d6fd107845f3f02da939f4ed3c7d590d0485e800bb32c5783665c09ded835"},
		{"real_humble/mixed_mcap", nil, 170, "/chatter", "cdr:std_msgs/msg/String", 1795677909050995491,
			time.Time{}, "9b37ec5331b36ccf0f1b5e5e82f11ffe299059173dba5ca3cd6b04220e1d952b"},
		{"real_humble/mixed_mcap", []string{"/imu"}, 100, "/imu", "cdr:sensor_msgs/msg/Imu", 1795677909051074652,
			time.Unix(1718000000, 253000000), "acdbb1bb84bf85c73bbd56c17458ad4b1c390c22dc4acc2da8feaba0ac97b4db"},
		{"real_humble/camera_sqlite3_zstd_file", []string{"/camera/image_raw/compressed"}, 30, "/camera/image_raw/compressed", "cdr:sensor_msgs/msg/CompressedImage", 1795677922764429494,
			time.Unix(1700000000, 123456789), "c14743238f73488d165e067dba7b2a94897d19cdf41cdefe021c5881b1f33a2a"},
	}
	for _, tt := range tests {
		t.Run(tt.bag+strings.Join(tt.topics, ","), func(t *testing.T) {
			s := openBag(t, sensor.Options{DatasetLoc: bags + tt.bag, Topics: tt.topics})
			defer s.Close()
			ctx := context.Background()
			var last time.Time
			n := 0
			for ; ; n++ {
				before := time.Now()
				smp, err := s.Sample(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if smp.Time.Before(before) || smp.LogTime.Before(last) {
					t.Fatalf("sample %d: Time %v (called at %v), LogTime %v after %v", n, smp.Time, before, smp.LogTime, last)
				}
				last = smp.LogTime
				if typ, ok := strings.CutPrefix(smp.Encoding, "cdr:"); !ok || cdr.HasHeader(typ) == smp.Stamp.IsZero() {
					t.Fatalf("sample %d: encoding %s, stamp %v", n, smp.Encoding, smp.Stamp)
				}
				if n > 0 {
					continue
				}
				if smp.Topic != tt.topic || smp.Encoding != tt.encoding || smp.LogTime.UnixNano() != tt.logTime ||
					!smp.Stamp.Equal(tt.stamp) || shaHex(smp.Data) != tt.cdrSHA256 {
					t.Fatalf("first sample: %s %s log %d stamp %v sha %s", smp.Topic, smp.Encoding, smp.LogTime.UnixNano(), smp.Stamp, shaHex(smp.Data))
				}
			}
			if n != tt.count {
				t.Fatalf("%d samples, want %d", n, tt.count)
			}
			if _, err := s.Sample(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("Sample after the end: %v", err)
			}
		})
	}
}

func TestRosbagConformance(t *testing.T) {
	sensortest.Run(t, func(t *testing.T) sensor.Sensor {
		return openBag(t, sensor.Options{DatasetLoc: bags + "camera_humble_mcap", Topics: []string{"/camera/image_raw"}})
	})
}

// TestRosbagLoop replays a topic two and a half times.
func TestRosbagLoop(t *testing.T) {
	s := openBag(t, sensor.Options{DatasetLoc: bags + "real_humble/camera_sqlite3", Topics: []string{"/camera/image_raw/compressed"}, Loop: true})
	defer s.Close()
	var firsts []int
	var prev time.Time
	for i := range 75 {
		smp, err := s.Sample(context.Background())
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if smp.LogTime.Before(prev) || i == 0 {
			firsts = append(firsts, i)
		}
		prev = smp.LogTime
		if i%30 == 0 && smp.LogTime.UnixNano() != 1795677890148030600 {
			t.Fatalf("sample %d logged at %d, want the first message", i, smp.LogTime.UnixNano())
		}
	}
	if len(firsts) != 3 || firsts[1] != 30 || firsts[2] != 60 {
		t.Fatalf("passes start at %v", firsts)
	}
}

// TestRosbagReplayRate checks the pacing: a replay at rate r takes at least
// the recorded span divided by r (an upper bound would depend on the load).
func TestRosbagReplayRate(t *testing.T) {
	for _, rate := range []float64{1, 4} {
		s := openBag(t, sensor.Options{DatasetLoc: bags + "camera_humble_mcap", Topics: []string{"/camera/image_raw"}, ReplayRate: rate})
		var first, last time.Time
		start := time.Now()
		for i := range 10 {
			smp, err := s.Sample(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = smp.LogTime
			}
			last = smp.LogTime
			// Each sample is due at its log time offset divided by rate.
			if due := start.Add(time.Duration(float64(smp.LogTime.Sub(first)) / rate)); smp.Time.Before(due) {
				t.Fatalf("rate %v: sample %d at %v, before it is due at %v", rate, i, smp.Time.Sub(start), due.Sub(start))
			}
		}
		span := time.Duration(float64(last.Sub(first)) / rate)
		if elapsed := time.Since(start); elapsed < span || span < 70*time.Millisecond {
			t.Fatalf("rate %v: 10 samples in %v, recorded span %v", rate, elapsed, span)
		}
		s.Close()
	}
}

// TestRosbagContext: a wait for a far-off message ends with ctx, keeps the
// message for the next call, and a Sample with an ended ctx reads nothing.
func TestRosbagContext(t *testing.T) {
	o := sensor.Options{DatasetLoc: bags + "camera_humble_mcap", Topics: []string{"/camera/image_raw"}}
	fast := openBag(t, o)
	var logTimes []int64
	for range 2 {
		smp, err := fast.Sample(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		logTimes = append(logTimes, smp.LogTime.UnixNano())
	}
	fast.Close()

	o.ReplayRate = 1e-6 // the second frame is due in 9 hours
	s := openBag(t, o)
	defer s.Close()
	if smp, err := s.Sample(context.Background()); err != nil || smp.LogTime.UnixNano() != logTimes[0] {
		t.Fatalf("first sample %v, %v", smp.LogTime.UnixNano(), err) // due at once
	}
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		start := time.Now()
		if _, err := s.Sample(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Sample waiting past its deadline: %v", err)
		}
		cancel()
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("Sample returned %v after its deadline", d)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sample(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sample with a cancelled context: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sample(context.Background()); !errors.Is(err, sensor.ErrClosed) {
		t.Fatalf("Sample after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// The held frame is the one delivered once it is due.
	o.ReplayRate = 0.05 // the second frame is due 0.67 s after the first
	s = openBag(t, o)
	defer s.Close()
	if _, err := s.Sample(context.Background()); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	if _, err := s.Sample(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second frame before it is due: %v", err)
	}
	if smp, err := s.Sample(context.Background()); err != nil || smp.LogTime.UnixNano() != logTimes[1] {
		t.Fatalf("after the deadline: %v, %v; want the second frame %d", smp.LogTime.UnixNano(), err, logTimes[1])
	}

	if _, err := replay.Open(cancelled, sensor.Options{Type: "rosbag", DatasetLoc: bags + "real_humble/camera_sqlite3_zstd_file"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("open with a cancelled context: %v", err)
	}
}

func TestRosbagErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.mcap")
	w, err := os.Create(empty)
	if err != nil {
		t.Fatal(err)
	}
	mw, err := mcap.NewWriter(w, &mcap.WriterOptions{Chunked: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := mw.WriteHeader(&mcap.Header{Profile: "ros2"}); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(mw.Close(), w.Close()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    sensor.Options
		want error
		msg  string
	}{
		{"no bag", sensor.Options{}, nil, "sensor rosbag: Options.DatasetLoc must name a bag directory or file"},
		{"negative rate", sensor.Options{DatasetLoc: bags + "camera_humble_mcap", ReplayRate: -1}, nil, "Options.ReplayRate must be 0 (as fast as possible) or positive, got -1"},
		{"missing", sensor.Options{DatasetLoc: bags + "nope"}, os.ErrNotExist, "sensor rosbag: rosbag: stat"},
		{"topic", sensor.Options{DatasetLoc: bags + "camera_humble_mcap", Topics: []string{"/imu"}}, rosbag.ErrNoTopic, `"/imu" (the bag has /camera/image_raw, /camera/image_raw/compressed)`},
		{"empty", sensor.Options{DatasetLoc: empty}, io.EOF, "has no messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Type = "rosbag"
			s, err := replay.Open(context.Background(), tt.o)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q, want %v saying %q", err, tt.want, tt.msg)
			}
		})
	}
}

// writeIMUBag writes a lone MCAP of n sensor_msgs/Imu messages at 100 Hz.
func writeIMUBag(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "imu.mcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w, err := mcap.NewWriter(f, &mcap.WriterOptions{Chunked: true, ChunkSize: 1 << 20, Compression: mcap.CompressionZSTD})
	if err != nil {
		b.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(w.WriteHeader(&mcap.Header{Profile: "ros2"}))
	must(w.WriteSchema(&mcap.Schema{ID: 1, Name: cdr.TypeImu, Encoding: "ros2msg"}))
	must(w.WriteChannel(&mcap.Channel{ID: 1, SchemaID: 1, Topic: "/imu", MessageEncoding: "cdr"}))
	for i := range n {
		t := uint64(1_700_000_000_000_000_000 + i*10_000_000)
		msg := &cdr.Imu{Header: cdr.Header{Stamp: cdr.Time{Sec: int32(t / 1e9), Nanosec: uint32(t % 1e9)}, FrameID: "imu_link"}}
		msg.LinearAcceleration.Z = 9.81 + float64(i%13)/100
		must(w.WriteMessage(&mcap.Message{ChannelID: 1, Sequence: uint32(i), LogTime: t, PublishTime: t, Data: cdr.Marshal(msg)}))
	}
	must(w.Close())
	must(f.Close())
	return path
}

// BenchmarkRosbagReplay measures what the rosbag sensor adds to reading a
// bag: "raw-iterate" is the bare rosbag iterator (restarted at the end),
// "replay" the sensor at replay rate 0 with Loop, on the same 10,000 IMU
// messages. The difference of their ns/op is the sensor's cost per sample.
func BenchmarkRosbagReplay(b *testing.B) {
	path := writeIMUBag(b, 10_000)
	ctx := context.Background()
	b.Run("raw-iterate", func(b *testing.B) {
		bag, err := rosbag.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		defer bag.Close()
		it, err := bag.Messages(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var sink int
		for b.Loop() {
			if !it.Next() {
				if it.Err() != nil {
					b.Fatal(it.Err())
				}
				it.Close()
				if it, err = bag.Messages(ctx); err != nil || !it.Next() {
					b.Fatal(err)
				}
			}
			sink += len(it.Message().Data)
		}
		it.Close()
		_ = sink
	})
	b.Run("replay", func(b *testing.B) {
		s := openBag(b, sensor.Options{DatasetLoc: path, Loop: true})
		defer s.Close()
		b.ReportAllocs()
		for b.Loop() {
			smp, err := s.Sample(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if smp.Stamp.IsZero() {
				b.Fatal("no stamp")
			}
		}
	})
}
