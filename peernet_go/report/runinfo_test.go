package report_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/report"
)

func sampleRunInfo() report.RunInfo {
	info := report.NewRunInfo("v0.1.0", []string{"peernet", "client", "--name", "edge"})
	info.Start = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	info.End = info.Start.Add(90 * time.Second)
	info.Role = "client"
	info.Hosts = report.Hosts{Client: "robot-1", Server: "gpu-box"}
	info.Transport = "zmq-tcp"
	info.Network = report.NetworkInfo{
		ConfigFile: "net.yaml", Name: "edge", Server: "cloud",
		Devices:   map[string]string{"edge": "192.168.1.10", "cloud": "192.168.1.20"},
		StartPort: 5551, Endpoint: "tcp://192.168.1.20:5551",
	}
	info.Sensor = report.SensorInfo{Type: "random-string", Options: map[string]string{"size": "1024"}}
	info.Model = report.ModelInfo{Name: "dummy"}
	info.Sizes = report.Sizes{Sample: "1024", MaxFrame: 64 << 20}
	info.Iterations, info.Warmup, info.Rate, info.Timeout = 10000, 10, 30, 5*time.Second
	info.Clock = report.Clock{Mode: "handshake", Offset: 100 * time.Millisecond, Bound: 45 * time.Microsecond,
		DriftPPM: 1.5, Synced: true, Probes: 16, MinRTT: 90 * time.Microsecond, MaxError: time.Millisecond}
	info.TimeSync = map[string]string{"robot-1": "chrony: Leap status Normal\nSystem time 0.000001 seconds fast"}
	return info
}

func TestRunInfoYAMLRoundTrip(t *testing.T) {
	info := sampleRunInfo()
	var b bytes.Buffer
	if err := info.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"version: v0.1.0\n", "timeout: 5s\n", "  offset: 100ms\n", "  bound: 45µs\n",
		"start: 2025-03-01T12:00:00.123456789Z\n", "transport: zmq-tcp\n", "  client: robot-1\n", "go: go1."} {
		if !strings.Contains(out, want) {
			t.Errorf("run.yaml lacks %q:\n%s", want, out)
		}
	}
	back, err := report.ReadRunInfo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Start.Equal(info.Start) || !back.End.Equal(info.End) {
		t.Fatalf("times %v %v, want %v %v", back.Start, back.End, info.Start, info.End)
	}
	back.Start, back.End = info.Start, info.End
	if !reflect.DeepEqual(back, info) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, info)
	}
}

func TestReadRunInfoErrors(t *testing.T) {
	for in, want := range map[string]string{
		"version: 1\nbogus: 2\n": "field bogus not found",
		"timeout: soon\n":        "soon",
		"iterations: [1]\n":      "cannot unmarshal",
	} {
		_, err := report.ReadRunInfo(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "report: reading run.yaml: ") {
			t.Errorf("ReadRunInfo(%q) = %v, want an error mentioning %q", in, err, want)
		}
	}
}

// FuzzReadRunInfo checks that any input reads without panicking and that
// whatever reads re-encodes to a run.yaml that reads back and re-encodes
// identically.
func FuzzReadRunInfo(f *testing.F) {
	info := sampleRunInfo()
	var b bytes.Buffer
	_ = info.WriteYAML(&b)
	f.Add(b.Bytes())
	f.Add([]byte("version: x\nclock:\n  mode: assume-synced\n"))
	f.Add([]byte("timeout: 1h2m\nrate: .5\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		info, err := report.ReadRunInfo(bytes.NewReader(in))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := info.WriteYAML(&b); err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		first := b.String()
		back, err := report.ReadRunInfo(&b)
		if err != nil {
			t.Fatalf("re-encoded run.yaml does not read: %v\n%s", err, first)
		}
		var b2 bytes.Buffer
		if err := back.WriteYAML(&b2); err != nil {
			t.Fatal(err)
		}
		if b2.String() != first {
			t.Fatalf("round trip changed run.yaml:\n%s\nthen:\n%s", first, b2.String())
		}
	})
}
