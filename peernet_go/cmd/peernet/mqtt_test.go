package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// writeNetConfigWith writes a loopback network config with extra YAML
// appended (a transport section).
func writeNetConfigWith(t *testing.T, extra string) string {
	t.Helper()
	p := writeNetConfig(t)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(extra); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitMQTTServer waits until the server of netcfg answers a probe through
// its broker. A message published before the server has subscribed is
// dropped by the broker, so a client must not start before that.
func waitMQTTServer(t *testing.T, netcfg string) {
	t.Helper()
	cfg, err := network.LoadConfig(netcfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := mqtt.Transport{}.Dial(ctx, cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for seq := uint64(1); ; seq++ {
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Send(pctx, &wire.Frame{Kind: wire.Probe, Seq: seq})
		for err == nil {
			var f *wire.Frame
			if f, err = c.Recv(pctx); err == nil && f.Kind == wire.ProbeReply && f.Seq == seq {
				pcancel()
				return
			}
		}
		pcancel()
		if ctx.Err() != nil {
			t.Fatalf("the server did not answer a probe within 20s: %v", err)
		}
	}
}

// TestTwoProcessesMQTT runs a server and a client process that talk
// through a real mosquitto.
func TestTwoProcessesMQTT(t *testing.T) {
	b := mqtttest.Mosquitto(t)
	netcfg := writeNetConfigWith(t, "mqtt:\n  broker: "+b.URL()+"\n  qos: 1\n")
	startServer(t, "--name", "cloud", "--network", "mqtt", "--network-config", netcfg, "--model-name", "echo")
	waitMQTTServer(t, netcfg)
	dir := t.TempDir()
	_, stderr, code := peernet(t, time.Minute, "client", "--name", "edge", "--network", "mqtt", "--network-config", netcfg,
		"--iterations", "500", "--sensor-type", "random-bytes", "--sensor-size", "4096", "--result-loc", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	if len(rows) != 500 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		if r["status"] != "ok" || r["download-bytes"] != r["upload-bytes"] {
			t.Fatalf("row %d: %v", i, r)
		}
	}
	if y, err := os.ReadFile(filepath.Join(dir, "run.yaml")); err != nil || !strings.Contains(string(y), "transport: mqtt") {
		t.Errorf("run.yaml: %v\n%s", err, y)
	}
}

// TestClientSurvivesMosquittoRestart: the broker crashes and restarts in
// the middle of a two-process run; iterations are lost, the run finishes.
func TestClientSurvivesMosquittoRestart(t *testing.T) {
	b := mqtttest.Mosquitto(t)
	netcfg := writeNetConfigWith(t, "mqtt:\n  broker: "+b.URL()+"\n  reconnect_max: 200ms\n")
	startServer(t, "--name", "cloud", "--network", "mqtt", "--network-config", netcfg)
	waitMQTTServer(t, netcfg)
	dir := t.TempDir()
	client := exec.Command(peernetBin, "client", "--name", "edge", "--network", "mqtt", "--network-config", netcfg, "--quiet",
		"--iterations", "800", "--rate", "400", "--timeout", "200ms", "--result-loc", dir)
	var stderr bytes.Buffer
	client.Stderr = &stderr
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- client.Wait() }()
	time.Sleep(700 * time.Millisecond)
	b.Restart(500 * time.Millisecond)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("client: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		client.Process.Kill()
		t.Fatalf("client did not finish\n%s", stderr.String())
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	counts := map[string]int{}
	for _, r := range rows {
		counts[r["status"]]++
	}
	t.Logf("statuses %v", counts)
	// 800 slots at 400 Hz: the ones that pass while the broker is away are
	// missed; the run must come back and end working.
	if len(rows) != 800 || counts["lost"]+counts["error"] == 0 || counts["ok"] < 150 || rows[799]["status"] != "ok" {
		t.Errorf("%d rows, statuses %v, last %s: want 800 rows, some lost, a working end", len(rows), counts, rows[len(rows)-1]["status"])
	}
}

func TestBenchMQTTEmbedded(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := peernet(t, time.Minute, "bench", "--network", "mqtt", "--iterations", "300", "--result-loc", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "iterations  300: ok 300") {
		t.Errorf("summary:\n%s", stdout)
	}
}

// TestBenchUDPLarge: 200 000-byte samples travel as 143 datagrams each,
// with no loss on loopback.
func TestBenchUDPLarge(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := peernet(t, time.Minute, "bench", "--network", "udp", "--sensor-size", "200000", "--iterations", "200", "--result-loc", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "iterations  200: ok 200, lost 0, error 0") {
		t.Errorf("summary:\n%s", stdout)
	}
}

func TestMatrixCommand(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := peernet(t, time.Minute, "matrix", "--networks", "mqtt,udp", "--qos", "0", "--sizes", "64,2KiB",
		"--iterations", "30", "--result-loc", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{`ratio`, `mqtt +0 +64B `, `udp +- +2KiB `, `matrix: ` + regexp.QuoteMeta(filepath.Join(dir, "matrix.csv"))} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	header, rows := readCSV(t, filepath.Join(dir, "matrix.csv"))
	if len(rows) != 4 || header[0] != "cell" {
		t.Fatalf("matrix.csv: %v, %d rows", header, len(rows))
	}
	for _, r := range rows {
		if r["error"] != "" || r["ok"] != "30" || r["ratio"] == "0.000" {
			t.Errorf("row %v", r)
		}
		if _, err := os.Stat(filepath.Join(dir, r["cell"], "data.csv")); err != nil {
			t.Error(err)
		}
	}
	// One report compares the cells, each against the first.
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(stdout, "report: "+filepath.Join(dir, "report.html")) {
		t.Fatalf("no matrix report: %v\n%s", err, stdout)
	}
	for _, r := range rows {
		if !strings.Contains(string(page), "<h2>"+r["cell"]+"</h2>") {
			t.Errorf("the report has no section for cell %s", r["cell"])
		}
	}
	if !strings.Contains(string(page), "Comparison against "+rows[0]["cell"]) {
		t.Error("the report compares nothing")
	}
}

func TestMatrixUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"matrix", "--qos", "3"}, `-qos "3": want 0, 1 or 2`},
		{[]string{"matrix", "--sizes", "64:128"}, `-sizes "64:128": a range is not a size`},
		{[]string{"matrix", "--sizes", "lots"}, `-sizes "lots"`},
		{[]string{"matrix", "--networks", "tin-can"}, `-networks: unknown network "tin-can"`},
		{[]string{"matrix", "--iterations", "1"}, "-iterations must be at least 2"},
	} {
		_, stderr, code := peernet(t, 30*time.Second, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("peernet %v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.msg)
		}
	}
}
