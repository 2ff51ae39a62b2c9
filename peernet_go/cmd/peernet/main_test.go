package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
)

// peernetBin is the command built once for the end-to-end tests, without the
// race detector so that Go plugins built by the tests match it.
var peernetBin string

func TestMain(m *testing.M) {
	soakScrape()
	dir, err := os.MkdirTemp("", "peernet-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	peernetBin = filepath.Join(dir, "peernet")
	build := exec.Command("go", "build", "-o", peernetBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building peernet:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// peernet runs the command with a deadline and returns its output and exit
// status.
func peernet(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(peernetBin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("peernet %s: still running after %v\nstderr: %s", strings.Join(args, " "), timeout, e.String())
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

func readCSV(t *testing.T, path string) (header []string, rows []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header = all[0]
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, h := range header {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return header, rows
}

func seconds(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

func TestBenchWritesResults(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := peernet(t, time.Minute, "bench", "--iterations", "2000", "--sensor-type", "random-string",
		"--sensor-size", "1024", "--result-loc", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "iterations  2000: ok 2000") {
		t.Errorf("summary not printed:\n%s", stdout)
	}
	for _, f := range []string{"data.csv", "records.jsonl", "summary.json", "summary.txt", "run.yaml"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty", f)
		}
	}
	header, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	want := []string{"iteration", "sensing", "upload", "inference", "download", "upload-bytes", "download-bytes", "upload-throughput", "download-throughput"}
	if strings.Join(header[:len(want)], ",") != strings.Join(want, ",") {
		t.Errorf("PEERNet columns: %v", header)
	}
	if len(rows) != 2000 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		sum := seconds(t, r["upload"]) + seconds(t, r["server"]) + seconds(t, r["download"])
		if d := math.Abs(sum - seconds(t, r["rtt"])); d > 1e-6 {
			t.Fatalf("row %d: upload+server+download differs from rtt by %g s", i, d)
		}
		if r["status"] != "ok" {
			t.Fatalf("row %d: status %s", i, r["status"])
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"client", "--network-config", "/nonexistent", "--iterations", "10"}, 2, "no such file or directory"},
		{[]string{"client", "--iterations", "10"}, 2, "-network-config is required"},
		{[]string{"client", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"bench", "--network", "carrier-pigeon"}, 2, `unknown network "carrier-pigeon"`},
		{[]string{"bench", "--sensor-type", "lidar"}, 2, "lidar"},
		{[]string{"bench", "--model-name", "resnet"}, 2, "resnet"},
		{[]string{"bench", "--network", "zmq-udp"}, 1, "draft API"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"bench", "--iterations", "5", "--sensor-type", "image", "--dataset-loc", "/nonexistent.png"}, 2, "nonexistent.png"},
	} {
		_, stderr, code := peernet(t, 30*time.Second, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != tc.code || !strings.Contains(stderr, tc.msg) || !strings.HasPrefix(lines[len(lines)-1], "peernet: ") {
			t.Errorf("peernet %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
			t.Errorf("peernet %v: panic trace:\n%s", tc.args, stderr)
		}
	}
}

// writeNetConfig writes a loopback network config on a free port pair.
func writeNetConfig(t *testing.T) string {
	t.Helper()
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "net.yaml")
	cfg := fmt.Sprintf("devices:\n  edge: 127.0.0.1\n  cloud: 127.0.0.1\nserver: cloud\nstart_port: %d\n", port-1)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func startServer(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(peernetBin, append([]string{"server", "--quiet"}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	return cmd
}

func TestTwoProcesses(t *testing.T) {
	netcfg := writeNetConfig(t)
	startServer(t, "--name", "cloud", "--network-config", netcfg)
	dir := t.TempDir()
	_, stderr, code := peernet(t, time.Minute, "client", "--name", "edge", "--network-config", netcfg,
		"--iterations", "1000", "--sensor-type", "random-bytes", "--result-loc", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	if len(rows) != 1000 {
		t.Fatalf("%d rows", len(rows))
	}
}

// TestPEERNetSpelling runs the README pair of the Python tool, with an exec
// sensor standing in for its Python sensor object.
func TestPEERNetSpelling(t *testing.T) {
	netcfg := writeNetConfig(t)
	startServer(t, "--name", "cloud", "--network-config", netcfg, "--model_name", "echo")
	dir := t.TempDir()
	sensorSh, _ := filepath.Abs("../../examples/exec/sensor.sh")
	_, stderr, code := peernet(t, time.Minute, "--client", "--name", "edge", "--network", "zmq-tcp", "--network-config", netcfg,
		"--sensor-type", "exec:sh "+sensorSh+" 300", "--iterations", "50", "--result-loc", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	if len(rows) != 50 || rows[0]["download-bytes"] != rows[0]["upload-bytes"] {
		t.Fatalf("%d rows; echo reply should match the request: %v", len(rows), rows[0])
	}
}

func TestServerRestartMidRun(t *testing.T) {
	netcfg := writeNetConfig(t)
	srv := startServer(t, "--name", "cloud", "--network-config", netcfg)
	dir := t.TempDir()
	client := exec.Command(peernetBin, "client", "--name", "edge", "--network-config", netcfg, "--quiet",
		"--iterations", "1000", "--rate", "400", "--timeout", "300ms", "--result-loc", dir)
	var stderr bytes.Buffer
	client.Stderr = &stderr
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	srv.Process.Kill()
	srv.Wait()
	time.Sleep(500 * time.Millisecond)
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
		t.Fatal("client hung after the server restarted")
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	if len(rows) != 1000 {
		t.Fatalf("%d rows", len(rows))
	}
	var ok, lost, missed int
	for _, r := range rows {
		switch r["status"] {
		case "ok":
			ok++
		case "lost":
			lost++
		case "missed":
			missed++
		}
	}
	// 1000 slots at 400 Hz: the ones that passed while the server was
	// down are missed, the ones in flight lost, the rest ok.
	if lost == 0 || ok < 200 || ok+lost+missed != 1000 || rows[999]["status"] != "ok" {
		t.Errorf("ok %d, lost %d, missed %d, last %s: want losses while the server was down and a working end",
			ok, lost, missed, rows[999]["status"])
	}
	t.Logf("ok %d, lost %d, missed %d", ok, lost, missed)
}

func TestUnreachableServer(t *testing.T) {
	netcfg := writeNetConfig(t)
	_, stderr, code := peernet(t, 30*time.Second, "client", "--network-config", netcfg, "--iterations", "10",
		"--timeout", "500ms", "--connect-timeout", "1s", "--result-loc", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "no reply from the server") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestInterruptAndDeadPeer checks that Ctrl-C and a server that never comes
// back both leave a valid, summarised results directory.
func TestInterruptAndDeadPeer(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(client, server *exec.Cmd)
		code int
	}{
		{"interrupt", func(c, _ *exec.Cmd) { c.Process.Signal(os.Interrupt) }, 0},
		{"dead server", func(_, s *exec.Cmd) { s.Process.Kill() }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			netcfg := writeNetConfig(t)
			srv := startServer(t, "--name", "cloud", "--network-config", netcfg)
			dir := t.TempDir()
			client := exec.Command(peernetBin, "client", "--network-config", netcfg, "--quiet", "--rate", "200",
				"--timeout", "200ms", "--give-up", "1s", "--result-loc", dir) // no iteration limit
			var stderr bytes.Buffer
			client.Stderr = &stderr
			if err := client.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			tc.stop(client, srv)
			done := make(chan error, 1)
			go func() { done <- client.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				client.Process.Kill()
				t.Fatal("client did not stop")
			}
			if code := client.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr.String())
			}
			_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
			sum, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			if err != nil || len(rows) < 50 || !bytes.Contains(sum, []byte(fmt.Sprintf(`"total": %d`, len(rows)))) {
				t.Errorf("%d rows; summary.json: %v %s", len(rows), err, sum)
			}
			if run, _ := os.ReadFile(filepath.Join(dir, "run.yaml")); !bytes.Contains(run, []byte("interrupted: true")) {
				t.Errorf("run.yaml does not say the run was interrupted:\n%s", run)
			}
		})
	}
}
