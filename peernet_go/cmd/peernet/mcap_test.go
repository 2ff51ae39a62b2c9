package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/mcaplog"
)

// readMCAP reads a results.mcap and returns its info and the iterations
// seen, by number.
func readMCAP(t *testing.T, dir string) (mcaplog.Info, map[int]metrics.Status) {
	t.Helper()
	seen := map[int]metrics.Status{}
	info, err := mcaplog.ReadFile(context.Background(), filepath.Join(dir, mcaplog.File), func(r *metrics.Record, _ int64) error {
		if _, dup := seen[r.Iteration]; dup {
			t.Fatalf("iteration %d twice", r.Iteration)
		}
		seen[r.Iteration] = r.Status
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return info, seen
}

// TestMCAPResults runs bench --mcap and reads results.mcap back: one
// message per iteration with the status data.csv has, and the summary and
// run description as metadata that agree with summary.json.
func TestMCAPResults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := peernet(t, time.Minute, "bench", "--iterations", "400", "--rate", "200", "--mcap", "--quiet",
		"--network", "mqtt", "--result-loc", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	info, seen := readMCAP(t, dir)
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	if !info.Complete || info.Messages != 400 || len(seen) != 400 || len(rows) != 400 {
		t.Fatalf("results.mcap: %d messages (%d iterations, complete %v), data.csv %d rows", info.Messages, len(seen), info.Complete, len(rows))
	}
	for _, row := range rows {
		i, _ := strconv.Atoi(row["iteration"])
		if seen[i].String() != row["status"] {
			t.Fatalf("iteration %d: %v in results.mcap, %s in data.csv", i, seen[i], row["status"])
		}
	}
	s := readSummary(t, dir)
	sum, run := info.Metadata[mcaplog.MetadataSummary], info.Metadata[mcaplog.MetadataRun]
	if sum["iterations.ok"] != strconv.Itoa(s.Iterations.OK) || sum["iterations.total"] != "400" || sum["stages.rtt.p99"] == "" {
		t.Fatalf("summary metadata %v, summary.json %+v", sum, s.Iterations)
	}
	if run["transport"] != "mqtt" {
		t.Fatalf("run metadata %v", run)
	}
}

// TestMCAPKilled kills a client writing results.mcap: the file it leaves
// holds the iterations up to its last flush (once a second), and summarize
// rewrites it whole, closed and with its metadata.
func TestMCAPKilled(t *testing.T) {
	netcfg := writeNetConfig(t)
	startServer(t, "--name", "cloud", "--network-config", netcfg)
	dir := filepath.Join(t.TempDir(), "run")
	client := exec.Command(peernetBin, "client", "--name", "edge", "--network-config", netcfg, "--quiet",
		"--rate", "20", "--iterations", "1000", "--mcap", "--result-loc", dir)
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	client.Process.Signal(syscall.SIGKILL)
	client.Wait()
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	info, seen := readMCAP(t, dir)
	if info.Complete || len(seen) < len(rows)-25 || len(seen) > len(rows) || len(rows) < 40 {
		t.Fatalf("after kill -9: results.mcap %d iterations (complete %v), data.csv %d rows; want all but the last second's", len(seen), info.Complete, len(rows))
	}
	if _, stderr, code := peernet(t, time.Minute, "summarize", dir); code != 0 {
		t.Fatalf("summarize: exit %d: %s", code, stderr)
	}
	info, seen = readMCAP(t, dir)
	if !info.Complete || len(seen) != len(rows) || info.Metadata[mcaplog.MetadataSummary]["iterations.total"] != strconv.Itoa(len(rows)) {
		t.Fatalf("after summarize: %d iterations (complete %v), %d rows, metadata %v", len(seen), info.Complete, len(rows), info.Metadata[mcaplog.MetadataSummary])
	}
}
