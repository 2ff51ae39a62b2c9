package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/golden"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// result builds a deterministic run: n iterations with a few lost and
// failed, warmup, optional sampling period, one-way delays shifted by skew
// (an uncorrected clock offset) and, with udp, packet counts of a
// transport that fragments frames.
func result(n int, period, skew time.Duration, udp bool) metrics.Result {
	s := metrics.NewSummary(metrics.SummaryOptions{Period: period})
	for i := range n {
		j := time.Duration(i % 100)
		r := metrics.Record{
			Iteration: i, Status: metrics.OK, Warmup: i < 5,
			Sensing: 12*time.Microsecond + j*100*time.Nanosecond,
			Upload:  800*time.Microsecond + j*3*time.Microsecond + skew,
			Queue:   2 * time.Microsecond, Preprocess: 40 * time.Microsecond,
			Inference: 3*time.Millisecond + j*10*time.Microsecond, Postprocess: 9 * time.Microsecond,
			Download:    95*time.Microsecond + j*time.Microsecond - skew,
			UploadBytes: 262_232, DownloadBytes: 120,
			Lag: j * 250 * time.Microsecond, T3: 1,
		}
		r.Server = r.Queue + r.Preprocess + r.Inference + r.Postprocess + 5*time.Microsecond
		r.RTT = r.Upload + r.Server + r.Download
		if udp {
			r.UploadPackets, r.DownloadPackets = 179+int64(i%3), 1
		}
		switch i % 250 {
		case 7:
			r = metrics.Record{Iteration: i, Status: metrics.Lost, Sensing: 12 * time.Microsecond, UploadBytes: 262_232,
				UploadPackets: r.UploadPackets}
		case 9:
			r.Status = metrics.Error
		}
		s.Add(&r)
	}
	return s.Result()
}

var textCases = []struct {
	name  string
	res   metrics.Result
	clock report.Clock
}{
	{"handshake", result(2000, 0, 0, false), report.Clock{
		Mode: "handshake", Offset: 100*time.Millisecond + 12*time.Microsecond, Bound: 45 * time.Microsecond,
		DriftPPM: 1.2, Synced: true, Probes: 16, MinRTT: 90 * time.Microsecond, MaxError: time.Millisecond,
	}},
	{"assume-synced-skewed", result(1000, 0, -250*time.Millisecond, false), report.Clock{Mode: "assume-synced"}},
	{"rate-loose-bound", result(1000, 20*time.Millisecond, 0, true), report.Clock{
		Mode: "handshake", Offset: -3 * time.Millisecond, Bound: 2300 * time.Microsecond, Synced: false,
		Probes: 8, MinRTT: 4600 * time.Microsecond,
	}},
	{"empty", metrics.Result{}, report.Clock{}},
}

func TestWriteTextGolden(t *testing.T) {
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.WriteText(&b, tc.res, tc.clock); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tc.name+".txt.golden"), b.Bytes())
		})
	}
}

func TestWriteJSONGolden(t *testing.T) {
	for _, tc := range textCases[:3] {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.WriteJSON(&b, tc.res, tc.clock); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tc.name+".json.golden"), b.Bytes())
		})
	}
}

func TestWriteJSONShape(t *testing.T) {
	var b bytes.Buffer
	tc := textCases[1]
	if err := report.WriteJSON(&b, tc.res, tc.clock); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Iterations map[string]int64
		Stages     map[string]map[string]any
		Clock      map[string]any
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Iterations["ok"] != 987 || got.Iterations["lost"] != 4 || got.Iterations["too-late"] != 0 {
		t.Fatalf("iterations %v", got.Iterations)
	}
	up := got.Stages["upload"]
	for _, k := range []string{"unit", "count", "mean", "std", "min", "p50", "p90", "p99", "max"} {
		if _, ok := up[k]; !ok {
			t.Errorf("upload lacks %q: %v", k, up)
		}
	}
	if p50 := up["p50"].(float64); p50 > -0.24 || p50 < -0.26 {
		t.Errorf("skewed upload p50 %v, want about -0.25 s", p50)
	}
	if got.Clock["unsync"] != true || got.Clock["synced"] != false {
		t.Errorf("assume-synced clock: %v", got.Clock)
	}
	// Stage keys keep summary order.
	if i, j := bytes.Index(b.Bytes(), []byte(`"sensing"`)), bytes.Index(b.Bytes(), []byte(`"rtt"`)); i < 0 || j < i {
		t.Errorf("stages out of order")
	}
}

func TestClockUnsync(t *testing.T) {
	for _, tc := range []struct {
		c    report.Clock
		want bool
	}{
		{report.Clock{}, false},
		{report.Clock{Mode: "handshake", Bound: 100 * time.Microsecond, Synced: true}, false},
		{report.Clock{Mode: "handshake", Bound: 2 * time.Millisecond, Synced: true}, true},
		{report.Clock{Mode: "handshake", Bound: 2 * time.Millisecond, Synced: true, MaxError: 5 * time.Millisecond}, false},
		{report.Clock{Mode: "assume-synced"}, true},
		{report.Clock{Mode: "ntp:pool", Bound: time.Microsecond}, true},
	} {
		if got, why := tc.c.Unsync(); got != tc.want || got != (why != "") {
			t.Errorf("%+v: unsync %v (%q), want %v", tc.c, got, why, tc.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		u    metrics.Unit
		want string
	}{
		{0, metrics.Seconds, "0 ns"},
		{850e-9, metrics.Seconds, "850 ns"},
		{12.34e-6, metrics.Seconds, "12.3 µs"},
		{0.0999, metrics.Seconds, "99.9 ms"},
		{0.09996, metrics.Seconds, "100 ms"},
		{1.234, metrics.Seconds, "1.23 s"},
		{0.99996, metrics.Seconds, "1.00 s"},
		{9.996e-6, metrics.Seconds, "10.0 µs"},
		{-0.25, metrics.Seconds, "-250 ms"},
		{3600, metrics.Seconds, "3600 s"},
		{1000, metrics.Bytes, "1000 B"},
		{1024, metrics.Bytes, "1.00 KiB"},
		{262_232, metrics.Bytes, "256 KiB"},
		{1536.5, metrics.Bytes, "1.50 KiB"},
		{3 << 20, metrics.Bytes, "3.00 MiB"},
		{81.2e6, metrics.BitsPerSecond, "81.2 Mbit/s"},
		{999, metrics.BitsPerSecond, "999 bit/s"},
		{2.5e9, metrics.BitsPerSecond, "2.50 Gbit/s"},
		{0, metrics.Packets, "0 pkt"},
		{1, metrics.Packets, "1 pkt"},
		{45, metrics.Packets, "45 pkt"},
		{12345, metrics.Packets, "12345 pkt"},
		{44.604, metrics.Packets, "44.6 pkt"},
		{1.5, metrics.Packets, "1.50 pkt"},
	} {
		if got := report.FormatValue(tc.v, tc.u); got != tc.want {
			t.Errorf("FormatValue(%v, %s) = %q, want %q", tc.v, tc.u, got, tc.want)
		}
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	info := report.NewRunInfo("v0.1.0", []string{"peernet", "bench", "--iterations", "2000"})
	info.Transport, info.Iterations = "zmq-tcp", 2000
	tc := textCases[0]
	if err := report.WriteAll(dir, tc.res, tc.clock, &info); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "run.yaml summary.json summary.txt" {
		t.Fatalf("files %v", names)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "summary.txt"))
	want, _ := os.ReadFile(filepath.Join("testdata", "handshake.txt.golden"))
	if !bytes.Equal(txt, want) {
		t.Fatalf("summary.txt differs from WriteText")
	}
	if err := report.WriteAll(filepath.Join(dir, "missing"), tc.res, tc.clock, nil); err == nil ||
		!strings.Contains(err.Error(), "summary.json") {
		t.Fatalf("WriteAll into a missing directory: %v", err)
	}
}
