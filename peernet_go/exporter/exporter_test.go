package exporter_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/peernet/peernet_go/peernet_go/exporter"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

func record(status metrics.Status, rtt time.Duration) *metrics.Record {
	if status == metrics.Missed { // never sent
		return &metrics.Record{Status: status}
	}
	return &metrics.Record{
		Status: status, Upload: rtt / 2, Server: rtt / 4, Download: rtt / 4, RTT: rtt,
		UploadBytes: 1100, DownloadBytes: 100, ClockError: 20 * time.Microsecond,
	}
}

func TestEdgeCounts(t *testing.T) {
	reg := exporter.NewRegistry()
	e, err := exporter.NewEdge(reg, exporter.Labels{Edge: "robot1", Transport: "zmq-tcp"}, exporter.EdgeOptions{MaxClockError: 10 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	sum := metrics.NewSummary(metrics.SummaryOptions{})
	rs := []*metrics.Record{record(metrics.OK, time.Millisecond), record(metrics.OK, 2*time.Millisecond), record(metrics.Lost, 0), record(metrics.Missed, 0)}
	w := record(metrics.OK, time.Millisecond)
	w.Warmup = true
	rs = append(rs, w)
	for _, r := range rs {
		if err := e.Write(r); err != nil {
			t.Fatal(err)
		}
		sum.Add(r)
	}
	c := sum.Result().Iterations
	text, err := gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]int64{"ok": c.OK, "lost": c.Lost, "missed": c.Missed, "warmup": c.Warmup, "error": 0} {
		line := fmt.Sprintf(`peernet_iterations_total{edge="robot1",status=%q,transport="zmq-tcp"} %d`, status, want)
		if !strings.Contains(text, line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	rtt, _ := sum.Result().Stage(metrics.StageRTT)
	line := fmt.Sprintf(`peernet_stage_seconds_count{edge="robot1",stage="rtt",transport="zmq-tcp"} %d`, rtt.Count)
	if !strings.Contains(text, line+"\n") {
		t.Errorf("missing %s", line)
	}
	for _, want := range []string{
		`peernet_clock_unsync{edge="robot1",transport="zmq-tcp"} 1`,
		`peernet_clock_bound_seconds{edge="robot1",transport="zmq-tcp"} 2e-05`,
		`peernet_bytes_total{direction="up",edge="robot1",transport="zmq-tcp"} 4400`, // the lost one was sent, the missed one not
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	// Two edges in one registry are told apart by their labels; the same
	// edge twice is refused.
	if _, err := exporter.NewEdge(reg, exporter.Labels{Edge: "robot2", Transport: "zmq-tcp"}, exporter.EdgeOptions{}); err != nil {
		t.Errorf("second edge: %v", err)
	}
	if _, err := exporter.NewEdge(reg, exporter.Labels{Edge: "robot1", Transport: "zmq-tcp"}, exporter.EdgeOptions{}); err == nil {
		t.Error("the same edge registered twice")
	}
}

func TestServerGauges(t *testing.T) {
	reg := exporter.NewRegistry()
	var g run.ServerGauges
	g.Workers.Store(2)
	g.Depth.Store(3)
	s, err := exporter.NewServer(reg, exporter.Labels{Server: "cloud"}, &g)
	if err != nil {
		t.Fatal(err)
	}
	s.Answer(run.Answer{Stages: wire.Stages{Queue: time.Millisecond, Inference: 2 * time.Millisecond}, Held: 3 * time.Millisecond, RequestBytes: 10, ReplyBytes: 5})
	s.Answer(run.Answer{Failed: true, Held: time.Millisecond})
	text, err := gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`peernet_server_queue_depth{server="cloud"} 3`,
		`peernet_server_workers{server="cloud"} 2`,
		`peernet_server_requests_total{server="cloud",status="ok"} 1`,
		`peernet_server_requests_total{server="cloud",status="error"} 1`,
		`peernet_server_stage_seconds_count{server="cloud",stage="server"} 2`,
		`peernet_server_stage_seconds_count{server="cloud",stage="inference"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}

func TestListenSecurity(t *testing.T) {
	reg := exporter.NewRegistry()
	// Beyond loopback without a token: refused before anything listens.
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0"} {
		if _, err := exporter.Listen(addr, reg, exporter.ListenOptions{}); err == nil || !strings.Contains(err.Error(), "token") {
			t.Errorf("Listen(%s) without a token: %v, want a refusal naming the token", addr, err)
		}
	}
	if _, err := exporter.Listen("nonsense", reg, exporter.ListenOptions{}); err == nil {
		t.Error("Listen(nonsense) succeeded")
	}
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	if _, err := exporter.Listen("127.0.0.1:0", reg, exporter.ListenOptions{TokenFile: short}); err == nil {
		t.Error("a 3-character token was accepted")
	}

	// No host means loopback.
	h, err := exporter.Listen(":0", reg, exporter.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.Addr(), "127.0.0.1:") {
		t.Errorf(":0 listens on %s, want loopback", h.Addr())
	}
	h.Close()

	// With a token, a scrape without it or with another gets 401.
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("s3cret-token-0123456789\n"), 0o600)
	h, err = exporter.Listen("127.0.0.1:0", reg, exporter.ListenOptions{TokenFile: tok})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for token, want := range map[string]int{"": 401, "wrong-token-0123456789": 401, "s3cret-token-0123456789": 200} {
		req, _ := http.NewRequest("GET", h.URL(), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: status %d, want %d", token, resp.StatusCode, want)
		}
	}
	// Only GET /metrics is served.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + h.Addr() + "/debug/pprof/")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("/debug/pprof/: %d, want 404", resp.StatusCode)
		}
	}
}

func TestWaitScrape(t *testing.T) {
	h, err := exporter.Listen("127.0.0.1:0", exporter.NewRegistry(), exporter.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.WaitScrape(100 * time.Millisecond) {
		t.Error("WaitScrape: true with no scrape")
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(h.URL()); err == nil {
			resp.Body.Close()
		}
	}()
	if !h.WaitScrape(5 * time.Second) {
		t.Error("WaitScrape: false after a scrape")
	}
}

// gather returns reg's metrics in the text format.
func gather(reg prometheus.Gatherer) (string, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
