package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
)

// TestBenchFleet runs four edges against one server: four results
// directories, a pooled one whose counts are the edges' added up, and the
// server's own summary with a row per edge.
func TestBenchFleet(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := peernet(t, time.Minute, "bench", "--edges", "4", "--rate", "50", "--iterations", "100",
		"--model-name", "dummy:infer=2ms", "--result-loc", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var total, ok int
	for _, e := range []string{"edge-0", "edge-1", "edge-2", "edge-3"} {
		s := readSummary(t, filepath.Join(dir, e))
		total += s.Iterations.Total
		ok += s.Iterations.OK
		if !strings.Contains(stdout, e) {
			t.Errorf("the summary has no row for %s:\n%s", e, stdout)
		}
	}
	pooled := readSummary(t, filepath.Join(dir, "pooled"))
	if total != 400 || pooled.Iterations.Total != total || pooled.Iterations.OK != ok || pooled.Stages["rtt"].Count != ok {
		t.Fatalf("pooled %+v (rtt count %d), edges total %d ok %d", pooled.Iterations, pooled.Stages["rtt"].Count, total, ok)
	}
	if _, err := os.Stat(filepath.Join(dir, "pooled", "histograms.json")); err != nil {
		t.Error(err)
	}
	// peernet merge of the four edges' directories pools them as the fleet did.
	merged := filepath.Join(t.TempDir(), "merged")
	args := []string{"merge", "--quiet", "-o", merged}
	for _, e := range []string{"edge-0", "edge-1", "edge-2", "edge-3"} {
		args = append(args, filepath.Join(dir, e))
	}
	if _, stderr, code := peernet(t, time.Minute, args...); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	m := readSummary(t, merged)
	for _, stage := range []string{"rtt", "upload", "queue", "latency-from-schedule"} {
		if m.Stages[stage] != pooled.Stages[stage] {
			t.Errorf("%s: merged %+v, pooled %+v", stage, m.Stages[stage], pooled.Stages[stage])
		}
	}
	var srv struct {
		Requests int                        `json:"requests"`
		Peers    map[string]json.RawMessage `json:"peers"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "server", "summary.json"))
	if err != nil || json.Unmarshal(b, &srv) != nil || srv.Requests != ok || len(srv.Peers) != 4 {
		t.Fatalf("server summary: %v %s", err, b)
	}
}

func readSweep(t *testing.T, dir string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// TestSweep runs the sweep, shortened windows, over the in-process
// zmq-tcp server and over a real mosquitto: 1, 2 and 4 edges at 50 Hz meet
// a 40 ms p90 against a 3 ms model (4 edges keep it 60 % busy; a p90 of 1-s windows settles where their p99 need not), 8 do not, the queue rises, every
// counted step is stable, and sweep.csv has a row per step.
func TestSweep(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"zmq-tcp", nil},
		{"mosquitto", []string{"--network", "mqtt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"sweep", "--edges", "1,2,4,8", "--rate", "50", "--model-name", "dummy:infer=3ms",
				"--budget", "p90=40ms", "--window", "1s", "--window-iterations", "40"}
			if tc.name == "mosquitto" {
				b := mqtttest.Mosquitto(t)
				args = append(args, "--network", "mqtt", "--network-config",
					writeNetConfigWith(t, "mqtt:\n  broker: "+b.URL()+"\n"))
				// The server is a process of its own, behind the broker.
				cfgPath := args[len(args)-1]
				startServer(t, "--name", "cloud", "--network", "mqtt", "--network-config", cfgPath, "--model-name", "dummy:infer=3ms")
				waitMQTTServer(t, cfgPath)
			}
			dir := t.TempDir()
			args = append(args, "--result-loc", dir)
			stdout, stderr, code := peernet(t, 3*time.Minute, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
			}
			rows := readSweep(t, dir)
			if len(rows) != 4 {
				t.Fatalf("%d rows in sweep.csv, want 4:\n%s", len(rows), stdout)
			}
			for i, r := range rows[:3] {
				if r["stable"] != "yes" || r["meets"] != "yes" {
					t.Errorf("step %d (%s edges): stable %s, meets %s (%s)", i, r["edges"], r["stable"], r["meets"], r["why"])
				}
			}
			if tc.name == "mosquitto" && seconds(t, rows[0]["server-cpu"]) <= 0 {
				t.Errorf("the remote server's CPU was not reported: %v", rows[0])
			}
			if rows[3]["meets"] != "no" {
				t.Errorf("8 edges × 50 Hz on a 3 ms model (333 Hz at most) met the budget: %v", rows[3])
			}
			if seconds(t, rows[3]["queue-p99"]) <= seconds(t, rows[0]["queue-p99"]) {
				t.Errorf("queue p99 %s at 8 edges, %s at 1: it should rise", rows[3]["queue-p99"], rows[0]["queue-p99"])
			}
			verdict, _ := os.ReadFile(filepath.Join(dir, "verdict.txt"))
			if !strings.Contains(string(verdict), "4 edges × 50 Hz meet p90 ≤ 40.0 ms; at 8 edges") {
				t.Errorf("verdict %q", verdict)
			}
			t.Logf("%s", verdict)
		})
	}
}

// TestSweepBadInput: one line and exit 2 for what cannot be run, one line
// and exit 1 naming the edges that cannot reach the server.
func TestSweepBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"sweep", "--edges", "0", "--rate", "10", "--budget", "p99=1s"}, "-edges 0"},
		{[]string{"bench", "--edges", "0"}, "-edges 0"},
		{[]string{"sweep", "--edges", "1,2", "--rate", "10", "--budget", "p99"}, `budget "p99"`},
		{[]string{"sweep", "--edges", "1,2", "--rate", "10"}, "-budget is required"},
		{[]string{"sweep", "--edges", "1", "--rates", "10,-5", "--budget", "p99=1s"}, "-rates -5"},
		{[]string{"sweep", "--edges", "1", "--rate", "0", "--budget", "p99=1s"}, "-rate (or -rates) is required"},
		{[]string{"sweep", "--edges", "1,2", "--rates", "1,2", "--budget", "p99=1s"}, "not both"},
		{[]string{"sweep", "--edges", "1:8:x1", "--rate", "1", "--budget", "p99=1s"}, "factor > 1"},
		{[]string{"sweep", "--edges", "1", "--rate", "10", "--budget", "p99=1s", "--max-loss", "7"}, "-max-loss"},
	} {
		_, stderr, code := peernet(t, 30*time.Second, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("peernet %v: exit %d, %q; want exit 2 and one line with %q", tc.args, code, stderr, tc.msg)
		}
	}
	_, stderr, code := peernet(t, time.Minute, "sweep", "--edges", "2", "--rate", "10", "--budget", "p99=1s",
		"--network-config", writeNetConfig(t), "--connect-timeout", "1s", "--timeout", "200ms", "--quiet", "--result-loc", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "edge-0, edge-1") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("sweep with no server: exit %d, %q; want exit 1 and one line naming edge-0, edge-1", code, stderr)
	}
}
