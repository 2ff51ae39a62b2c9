package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
)

// writeFleetConfig writes a loopback network config with a cloud, an edge
// and edges edge0 … edgeN-1, on a free port, with extra YAML appended.
func writeFleetConfig(t *testing.T, edges int, extra string) string {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("devices:\n  cloud: 127.0.0.1\n  edge: 127.0.0.1\n")
	for i := range edges {
		fmt.Fprintf(&b, "  edge%d: 127.0.0.1\n", i)
	}
	fmt.Fprintf(&b, "server: cloud\nstart_port: %d\n%s", port, extra) // the cloud, device 0, listens on port
	p := filepath.Join(t.TempDir(), "net.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// summaryJSON is what the tests read of summary.json.
type summaryJSON struct {
	Iterations struct {
		Total, OK, Lost, Error, Missed, Warmup int
	} `json:"iterations"`
	Stages map[string]struct {
		Count         int
		P50, P99, Min float64
		Max           float64
	} `json:"stages"`
	Clock struct {
		Mode   string  `json:"mode"`
		Offset float64 `json:"offset"`
		Bound  float64 `json:"bound"`
		Unsync bool    `json:"unsync"`
	} `json:"clock"`
}

func readSummary(t *testing.T, dir string) summaryJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s summaryJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, b)
	}
	return s
}

// TestQueueingIsNotUpload runs one client alone, then four at once, against
// a server with one worker whose model takes 1 ms, over each transport: the
// four clients' requests wait for the worker, and that wait must be their
// queue stage, not their upload.
func TestQueueingIsNotUpload(t *testing.T) {
	for _, tr := range []struct{ network, extra string }{
		{"zmq-tcp", ""}, {"mqtt", ""}, {"udp", ""},
	} {
		t.Run(tr.network, func(t *testing.T) {
			netcfg := writeFleetConfig(t, 4, tr.extra)
			startServer(t, "--network", tr.network, "--network-config", netcfg, "--model-name", "dummy:infer=1ms")
			if tr.network == "mqtt" {
				waitMQTTServer(t, netcfg)
			}
			client := func(name, dir string) *exec.Cmd {
				return exec.Command(peernetBin, "client", "--quiet", "--network", tr.network, "--network-config", netcfg,
					"--name", name, "--iterations", "300", "--result-loc", dir)
			}
			alone := t.TempDir()
			if out, err := client("edge0", alone).CombinedOutput(); err != nil {
				t.Fatalf("one client: %v\n%s", err, out)
			}
			var wg sync.WaitGroup
			dirs := make([]string, 4)
			for i := range dirs {
				dirs[i] = t.TempDir()
				wg.Add(1)
				go func() {
					defer wg.Done()
					if out, err := client(fmt.Sprintf("edge%d", i), dirs[i]).CombinedOutput(); err != nil {
						t.Errorf("client %d: %v\n%s", i, err, out)
					}
				}()
			}
			wg.Wait()
			one := readSummary(t, alone)
			var ups, queues []float64
			for _, d := range dirs {
				_, rows := readCSV(t, filepath.Join(d, "data.csv"))
				for _, r := range rows {
					if r["status"] == "ok" {
						ups = append(ups, seconds(t, r["upload"]))
						queues = append(queues, seconds(t, r["queue"]))
					}
				}
			}
			slices.Sort(ups)
			slices.Sort(queues)
			up50, q50, alone50 := ups[len(ups)/2], queues[len(queues)/2], one.Stages["upload"].P50
			t.Logf("%s: one client upload p50 %.1f µs; four clients upload p50 %.1f µs, queue p50 %.3f ms",
				tr.network, alone50*1e6, up50*1e6, q50*1e3)
			if up50 > 2*alone50 {
				t.Errorf("four clients: upload p50 %.1f µs, more than twice the %.1f µs of one client alone", up50*1e6, alone50*1e6)
			}
			if q50 < 0.001 {
				t.Errorf("four clients on one 1 ms worker: queue p50 %.3f ms, want ≥ 1 ms", q50*1e3)
			}
		})
	}
}

// TestOutageIsRecorded kills the server for 3 s of a 100 Hz run: every slot
// of the schedule is an iteration, the ones that passed while the client
// could not send are missed, and the latency from the schedule shows the
// stall.
func TestOutageIsRecorded(t *testing.T) {
	netcfg := writeNetConfig(t)
	srv := startServer(t, "--name", "cloud", "--network-config", netcfg)
	dir := t.TempDir()
	client := exec.Command(peernetBin, "client", "--name", "edge", "--network-config", netcfg, "--quiet",
		"--rate", "100", "--iterations", "1200", "--timeout", "1s", "--result-loc", dir)
	var stderr bytes.Buffer
	client.Stderr = &stderr
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	srv.Process.Kill() // kill -9
	srv.Wait()
	time.Sleep(3 * time.Second)
	startServer(t, "--name", "cloud", "--network-config", netcfg)
	done := make(chan error, 1)
	go func() { done <- client.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("client: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		client.Process.Kill()
		t.Fatal("client hung")
	}
	s := readSummary(t, dir)
	it := s.Iterations
	t.Logf("iterations %+v; latency-from-schedule p99 %.3f s, rtt p99 %.3f s", it, s.Stages["latency-from-schedule"].P99, s.Stages["rtt"].P99)
	if it.Total != 1200 || it.OK+it.Lost+it.Error+it.Missed != 1200 {
		t.Fatalf("%+v: want every one of 1200 slots counted once", it)
	}
	if it.Missed < 200 {
		t.Errorf("%+v: a 3 s outage at 100 Hz should miss about 300 slots", it)
	}
	if p := s.Stages["latency-from-schedule"].P99; p < 0.5 {
		t.Errorf("latency-from-schedule p99 %.3f s: the outage should show", p)
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	missed := 0
	for _, r := range rows {
		if r["status"] == "missed" {
			missed++
		}
	}
	if len(rows) != 1200 || missed != it.Missed {
		t.Errorf("data.csv: %d rows, %d missed; summary %+v", len(rows), missed, it)
	}
}

// TestBenchKnowsItsClock: bench's two ends share one clock, so the offset is
// exactly zero with a zero bound and no one-way delay is negative.
func TestBenchKnowsItsClock(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := peernet(t, time.Minute, "bench", "--iterations", "2000", "--quiet", "--result-loc", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := readSummary(t, dir)
	if s.Clock.Mode != "same-clock" || s.Clock.Offset != 0 || s.Clock.Bound != 0 || s.Clock.Unsync {
		t.Fatalf("clock %+v, want same-clock, offset 0 ± 0", s.Clock)
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	for i, r := range rows {
		if seconds(t, r["upload"]) < 0 || seconds(t, r["download"]) < 0 || r["clock-offset"] != "0.000000000" {
			t.Fatalf("row %d: upload %s, download %s, offset %s", i, r["upload"], r["download"], r["clock-offset"])
		}
	}
	// With a skewed server clock the offset is the skew, exactly.
	dir = t.TempDir()
	if _, stderr, code := peernet(t, time.Minute, "bench", "--iterations", "200", "--quiet", "--clock-skew", "100ms", "--result-loc", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if s := readSummary(t, dir); s.Clock.Offset != 0.1 || s.Clock.Bound != 0 {
		t.Fatalf("skewed bench: clock %+v, want offset 0.1 s ± 0", s.Clock)
	}
}

// TestBrokenSensorFailsFast: a sensor or a sample that fails every time
// stops the run after --max-errors iterations with exit 1 and the first
// error, and the results directory stays valid.
func TestBrokenSensorFailsFast(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"missing program", []string{"--sensor-type", "exec:/nonexistent"}, "/nonexistent"},
		{"over max frame", []string{"--sensor-size", "68000000"}, "max_frame"},
		{"over --max-frame", []string{"--sensor-size", "2000000", "--max-frame", "1000"}, "max_frame is 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"bench", "--quiet", "--iterations", "100", "--result-loc", dir}, tc.args...)
			_, stderr, code := peernet(t, time.Minute, args...)
			// The exec program's own stderr may come first; peernet says one line.
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			if code != 1 || strings.Count(stderr, "peernet: ") != 1 || !strings.HasPrefix(last, "peernet: ") ||
				!strings.Contains(last, "10 iterations in a row failed") || !strings.Contains(last, tc.msg) {
				t.Fatalf("exit %d, stderr %q: want exit 1 and one line naming the first error (%s)", code, stderr, tc.msg)
			}
			s := readSummary(t, dir)
			if s.Iterations.Total != 10 || s.Iterations.Error != 10 {
				t.Fatalf("summary %+v: want 10 failed iterations", s.Iterations)
			}
			if run, _ := os.ReadFile(filepath.Join(dir, "run.yaml")); !bytes.Contains(run, []byte("interrupted: true")) {
				t.Errorf("run.yaml does not say the run stopped early:\n%s", run)
			}
		})
	}
}

// TestKilledRunKeepsItsRows kills a 0.2 Hz client with kill -9 after 4 s:
// the iteration it finished is on disk (the files are flushed by a timer,
// not only between iterations), and summarize rebuilds a summary whose
// counts match the rows.
func TestKilledRunKeepsItsRows(t *testing.T) {
	netcfg := writeNetConfig(t)
	startServer(t, "--name", "cloud", "--network-config", netcfg)
	dir := filepath.Join(t.TempDir(), "run")
	client := exec.Command(peernetBin, "client", "--name", "edge", "--network-config", netcfg, "--quiet",
		"--rate", "0.2", "--iterations", "10", "--result-loc", dir)
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	client.Process.Signal(syscall.SIGKILL)
	client.Wait()
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	if len(rows) != 1 || rows[0]["status"] != "ok" {
		t.Fatalf("data.csv after kill -9 at 4 s of a 0.2 Hz run: %d rows %v, want the first iteration", len(rows), rows)
	}
	jl, _ := os.ReadFile(filepath.Join(dir, "records.jsonl"))
	if bytes.Count(jl, []byte("\n")) != 1 {
		t.Fatalf("records.jsonl after kill -9: %q", jl)
	}
	stdout, stderr, code := peernet(t, time.Minute, "summarize", dir)
	if code != 0 || !strings.Contains(stdout, "iterations  1: ok 1") {
		t.Fatalf("summarize: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if s := readSummary(t, dir); s.Iterations.Total != len(rows) || s.Iterations.OK != 1 {
		t.Fatalf("summary %+v, %d rows", s.Iterations, len(rows))
	}
	run, _ := os.ReadFile(filepath.Join(dir, "run.yaml"))
	if !bytes.Contains(run, []byte("interrupted: true")) || bytes.Contains(run, []byte("end: 0001-01-01")) {
		t.Fatalf("run.yaml after summarize:\n%s", run)
	}
}

// TestResultsDirectories: plots go under plots/, an existing results
// directory is never overwritten silently, and default names are unique.
func TestResultsDirectories(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := peernet(t, time.Minute, "bench", "--iterations", "100", "--quiet", "--generate-plots", "--result-loc", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if pngs, _ := filepath.Glob(filepath.Join(dir, "plots", "*.png")); len(pngs) < 6 {
		t.Errorf("plots/: %v", pngs)
	}
	if pngs, _ := filepath.Glob(filepath.Join(dir, "*.png")); len(pngs) > 0 {
		t.Errorf("plots in the results root: %v", pngs)
	}
	_, stderr, code := peernet(t, time.Minute, "bench", "--iterations", "10", "--quiet", "--result-loc", dir)
	if code != 2 || !strings.Contains(stderr, "not empty") || !strings.Contains(stderr, "--overwrite") {
		t.Fatalf("second run into %s: exit %d, %q; want a refusal", dir, code, stderr)
	}
	if _, stderr, code := peernet(t, time.Minute, "bench", "--iterations", "10", "--quiet", "--overwrite", "--result-loc", dir); code != 0 {
		t.Fatalf("--overwrite: exit %d: %s", code, stderr)
	}
	if s := readSummary(t, dir); s.Iterations.Total != 10 {
		t.Fatalf("after --overwrite: %+v", s.Iterations)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots")); err == nil {
		t.Error("--overwrite kept the earlier run's plots")
	}

	// Two runs started at the same moment get directories of their own.
	cwd := t.TempDir()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(peernetBin, "bench", "--iterations", "20", "--quiet")
			cmd.Dir = cwd
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%v %s", err, out)
			}
		}()
	}
	wg.Wait()
	if runs, _ := filepath.Glob(filepath.Join(cwd, "results", "edge-*")); len(runs) != 2 {
		t.Fatalf("default results directories %v, want two", runs)
	}
}

// TestOptionsMeanWhatTheySay checks the limits and values of item 6.
func TestOptionsMeanWhatTheySay(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"bench", "--clock-probes", "0"}, "-clock-probes 0"},
		{[]string{"bench", "--clock-probes", "-3"}, "-clock-probes -3"},
		{[]string{"bench", "--jpeg-quality", "0"}, "-jpeg-quality 0"},
		{[]string{"bench", "--give-up", "-1s"}, "-give-up -1s"},
		{[]string{"bench", "--max-errors", "0"}, "-max-errors 0"},
		{[]string{"client", "--network-config", writeNetConfig(t), "--clock", "same-clock"}, "only for bench"},
	} {
		_, stderr, code := peernet(t, 30*time.Second, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("peernet %v: exit %d, %q; want exit 2 and one line with %q", tc.args, code, stderr, tc.msg)
		}
	}
	if stdout, stderr, code := peernet(t, 10*time.Second, "bag", "-h"); code != 0 || !strings.Contains(stdout+stderr, "bag info BAG") {
		t.Errorf("bag -h: exit %d, %q %q", code, stdout, stderr)
	}

	// --connect-timeout is what it says, whatever --timeout is.
	start := time.Now()
	_, stderr, code := peernet(t, 30*time.Second, "client", "--network-config", writeNetConfig(t), "--iterations", "1",
		"--connect-timeout", "2s", "--result-loc", t.TempDir())
	if took := time.Since(start); code != 1 || took > 3500*time.Millisecond || took < 2*time.Second {
		t.Errorf("--connect-timeout 2s gave up after %v, exit %d: %s", took, code, stderr)
	}

	// --iterations 0 means no limit in bench too.
	dir := t.TempDir()
	cmd := exec.Command(peernetBin, "bench", "--iterations", "0", "--quiet", "--result-loc", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bench --iterations 0, interrupted: %v", err)
	}
	if s := readSummary(t, dir); s.Iterations.Total <= 1000 {
		t.Errorf("bench --iterations 0 ran %d iterations in 2 s: it stopped by itself", s.Iterations.Total)
	}

	// A YAML error names the file's line.
	cfg := writeNetConfigWith(t, "udp:\n  payload_size: 1400\n  bogus: 1\n")
	_, stderr, _ = peernet(t, 30*time.Second, "client", "--network", "udp", "--network-config", cfg, "--iterations", "1",
		"--result-loc", t.TempDir())
	if !strings.Contains(stderr, `line 8: unknown key "bogus"`) {
		t.Errorf("YAML error %q does not name line 8", stderr)
	}
}

// TestJunkCostsALine sends 14000 junk datagrams to a udp server: it logs a
// few lines, not one per datagram, and its summary counts them per peer.
func TestJunkCostsALine(t *testing.T) {
	netcfg := writeNetConfig(t)
	dir := filepath.Join(t.TempDir(), "server")
	cmd := exec.Command(peernetBin, "server", "--network", "udp", "--network-config", netcfg, "--result-loc", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	b, _ := os.ReadFile(netcfg)
	var port int
	for _, line := range strings.Split(string(b), "\n") {
		fmt.Sscanf(line, "start_port: %d", &port)
	}
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 14000 {
		fmt.Fprintf(c, "junk %d", i)
		if i%500 == 0 {
			time.Sleep(5 * time.Millisecond) // let the server keep up
		}
	}
	c.Close()
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if n := strings.Count(stderr.String(), "\n"); n > 30 {
		t.Errorf("%d log lines for 14000 junk datagrams:\n%.2000s", n, stderr.String())
	}
	var sum struct {
		BadFrames int `json:"bad-frames"`
		Peers     map[string]struct {
			BadFrames int `json:"bad-frames"`
		} `json:"peers"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatalf("server summary: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	peer := sum.Peers[c.LocalAddr().String()]
	if sum.BadFrames < 13000 || peer.BadFrames != sum.BadFrames {
		t.Errorf("server summary: %d bad frames, %d from %s: want (nearly) all 14000 from that peer\n%s",
			sum.BadFrames, peer.BadFrames, c.LocalAddr(), raw)
	}
}

// TestBaselineServeStops: baseline serve --iterations N stops after
// answering N pings, on every transport.
func TestBaselineServeStops(t *testing.T) {
	for _, network := range []string{"zmq-tcp", "udp", "mqtt"} {
		t.Run(network, func(t *testing.T) {
			netcfg := writeNetConfig(t)
			srv := exec.Command(peernetBin, "baseline", "serve", "--network", network, "--network-config", netcfg, "--iterations", "50")
			var serr bytes.Buffer
			srv.Stderr = &serr
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Wait() }()
			time.Sleep(300 * time.Millisecond)
			stdout, stderr, code := peernet(t, 30*time.Second, "baseline", "ping", "--network", network, "--network-config", netcfg,
				"--iterations", "50", "--sensor-size", "64")
			if code != 0 || !strings.Contains(stdout, "n=50") {
				t.Fatalf("ping: exit %d, %q %q", code, stdout, stderr)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v %s", err, serr.String())
				}
			case <-time.After(10 * time.Second):
				srv.Process.Kill()
				t.Fatal("baseline serve --iterations 50 still runs after 50 pings")
			}
		})
	}
}
