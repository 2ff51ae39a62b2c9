package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The lab tests run the client and the server in two network namespaces
// joined by a shaped veth pair (scripts/netlab), so the one-way delays have a
// known ground truth: the serialisation time of the shaped links.

const labSample = 256 << 10 // bytes uploaded per iteration

// lab is one running scripts/netlab instance.
type lab struct {
	name, netcfg string
}

func netlab() string { p, _ := filepath.Abs("../../../scripts/netlab"); return p }

// startLab sets up a lab with the given rates, or skips the test when this
// machine cannot (not root, no network namespaces).
func startLab(t *testing.T, up, down string) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("lab tests need root for network namespaces (run make test as root)")
	}
	probe := fmt.Sprintf("pnprobe%d", os.Getpid()%1000)
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("lab tests need network namespaces: ip netns add: %v %s", err, out)
	}
	exec.Command("ip", "netns", "del", probe).Run()

	l := &lab{name: fmt.Sprintf("pn%d", (os.Getpid()+len(t.Name()))%100000)}
	t.Cleanup(func() {
		if out, err := exec.Command(netlab(), "down", "--name", l.name).CombinedOutput(); err != nil {
			t.Errorf("netlab down: %v %s", err, out)
		}
	})
	if out, err := exec.Command(netlab(), "up", "--name", l.name, "--up", up, "--down", down).CombinedOutput(); err != nil {
		t.Fatalf("netlab up: %v\n%s", err, out)
	}
	l.netcfg = filepath.Join(t.TempDir(), "net.yaml")
	cfg := "devices:\n  edge: 10.77.0.1\n  cloud: 10.77.0.2\nserver: cloud\nstart_port: 6000\n"
	if err := os.WriteFile(l.netcfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

// in returns a command running peernet in the lab's edge or cloud namespace.
func (l *lab) in(side string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", l.name + "-" + side, peernetBin}, args...)...)
}

// profile runs a server (with serverArgs) and a client (with clientArgs) in
// the lab and returns the client's records and summary.
func (l *lab) profile(t *testing.T, iterations int, serverArgs, clientArgs []string) ([]map[string]string, labSummary) {
	t.Helper()
	srv := l.in("cloud", append([]string{"server", "--quiet", "--network-config", l.netcfg}, serverArgs...)...)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
	}()
	dir := t.TempDir()
	args := append([]string{"client", "--quiet", "--network-config", l.netcfg, "--sensor-size", fmt.Sprint(labSample),
		"--iterations", fmt.Sprint(iterations), "--warmup", "2", "--timeout", "3s", "--result-loc", dir}, clientArgs...)
	cl := l.in("edge", args...)
	out, err := cl.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	_, rows := readCSV(t, filepath.Join(dir, "data.csv"))
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum labSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r["status"] != "ok" {
			t.Fatalf("row %d: %s", i, r["status"])
		}
		total := seconds(t, r["upload"]) + seconds(t, r["server"]) + seconds(t, r["download"])
		if d := math.Abs(total - seconds(t, r["rtt"])); d > 1e-6 {
			t.Fatalf("row %d: upload+server+download differs from rtt by %g s", i, d)
		}
	}
	return rows[2:], sum // without the warmup rows
}

type labSummary struct {
	Stages map[string]struct{ P50, Max float64 } `json:"stages"`
	Clock  struct {
		Offset, Bound float64
		Synced        bool
		Unsync        bool   `json:"unsync"`
		Reason        string `json:"unsync-reason"`
	} `json:"clock"`
}

func median(rows []map[string]string, col string, t *testing.T) float64 {
	v := make([]float64, len(rows))
	for i, r := range rows {
		v[i] = seconds(t, r[col])
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// TestLabAsymmetricLink checks measured upload delays against the
// serialisation time of the shaped uplink, for several rate pairs.
func TestLabAsymmetricLink(t *testing.T) {
	for _, rates := range []struct {
		up, down string
		upBits   float64
	}{
		{"20mbit", "200mbit", 20e6},
		{"50mbit", "10mbit", 50e6},
		{"100mbit", "100mbit", 100e6},
	} {
		t.Run(rates.up+"-"+rates.down, func(t *testing.T) {
			l := startLab(t, rates.up, rates.down)
			rows, sum := l.profile(t, 22, nil, nil)
			// The payload alone, as the issue states it, and as the link
			// carries it: in 1448-byte TCP segments of 1514-byte Ethernet
			// frames, after the 88-byte peernet header.
			bare := labSample * 8 / rates.upBits
			onWire := float64(labSample+88) * 1514 / 1448 * 8 / rates.upBits
			up, down := median(rows, "upload", t), median(rows, "download", t)
			t.Logf("up %s down %s: upload p50 %.2f ms (payload %.2f ms, on the wire %.2f ms), download p50 %.3f ms, bound %.1f µs",
				rates.up, rates.down, up*1e3, bare*1e3, onWire*1e3, down*1e3, sum.Clock.Bound*1e6)
			if math.Abs(up-onWire)/onWire > 0.10 {
				t.Errorf("upload p50 %.2f ms is not within 10%% of the link's %.2f ms", up*1e3, onWire*1e3)
			}
			if rates.upBits == 20e6 && math.Abs(up-bare)/bare > 0.10 {
				t.Errorf("upload p50 %.2f ms is not within 10%% of 256 KiB × 8 / 20 Mbit/s = %.2f ms", up*1e3, bare*1e3)
			}
			if down > 5e-3 {
				t.Errorf("download p50 %.2f ms for a small reply", down*1e3)
			}
		})
	}
}

// TestLabClockSkew checks that the handshake recovers a 250 ms skew of the
// server's clock with an honest bound, and that assume-synced shows it as an
// impossible asymmetry and says the clocks are not known to be synced.
func TestLabClockSkew(t *testing.T) {
	const skew = 0.250
	l := startLab(t, "20mbit", "200mbit")
	base, _ := l.profile(t, 22, nil, nil)
	skewed, sum := l.profile(t, 22, []string{"--clock-skew", "250ms"}, []string{"--clock-interval", "500ms"})

	honest := 0
	var maxBound float64
	for _, r := range skewed {
		off, bound := seconds(t, r["clock-offset"]), seconds(t, r["clock-error"])
		maxBound = max(maxBound, bound)
		if math.Abs(off-skew) <= bound {
			honest++
		}
	}
	if frac := float64(honest) / float64(len(skewed)); frac < 0.95 {
		t.Errorf("true skew within offset ± bound for %.0f%% of records, want ≥ 95%%", frac*100)
	}
	if math.Abs(sum.Clock.Offset-skew) > sum.Clock.Bound || !sum.Clock.Synced || sum.Clock.Unsync {
		t.Errorf("summary clock: offset %.6f s ± %.6f s, synced %v", sum.Clock.Offset, sum.Clock.Bound, sum.Clock.Synced)
	}
	for _, col := range []string{"upload", "download"} {
		a, b := median(base, col, t), median(skewed, col, t)
		// The runs differ by the bound and by run-to-run spread (2 %).
		if tol := maxBound + 0.02*math.Abs(a) + 200e-6; math.Abs(a-b) > tol {
			t.Errorf("%s p50: %.3f ms unskewed, %.3f ms corrected, differ by more than %.3f ms", col, a*1e3, b*1e3, tol*1e3)
		}
		t.Logf("%s p50: unskewed %.3f ms, skewed and corrected %.3f ms (bound ≤ %.1f µs)", col, a*1e3, b*1e3, maxBound*1e6)
	}

	naive, nsum := l.profile(t, 12, []string{"--clock-skew", "250ms"}, []string{"--clock", "assume-synced"})
	down := median(naive, "download", t)
	if down > -0.2 {
		t.Errorf("assume-synced with a 250 ms skew: download p50 %.1f ms, want the skew to show as a negative delay", down*1e3)
	}
	if nsum.Clock.Synced || !nsum.Clock.Unsync || !strings.Contains(nsum.Clock.Reason, "not known") {
		t.Errorf("assume-synced summary must say the clocks are not known to be synced: %+v", nsum.Clock)
	}
	t.Logf("assume-synced: upload p50 %.1f ms, download p50 %.1f ms (%s)", median(naive, "upload", t)*1e3, down*1e3, nsum.Clock.Reason)
}

// TestLabLateAccounting samples at a rate the uplink cannot sustain and
// checks that the schedule is kept: the slots that pass during an upload
// are missed, and the iterations that run start late.
func TestLabLateAccounting(t *testing.T) {
	l := startLab(t, "20mbit", "200mbit")
	dir := t.TempDir()
	srv := l.in("cloud", "server", "--quiet", "--network-config", l.netcfg)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	// 256 KiB takes ~105 ms at 20 Mbit/s: 20 Hz (50 ms) cannot keep up.
	out, err := l.in("edge", "client", "--quiet", "--network-config", l.netcfg, "--sensor-size", fmt.Sprint(labSample),
		"--rate", "20", "--iterations", "15", "--result-loc", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("%v %s", err, out)
	}
	var sum struct {
		Iterations struct {
			Total   int `json:"total"`
			OK      int `json:"ok"`
			Missed  int `json:"missed"`
			Late    int `json:"late"`
			TooLate int `json:"too-late"`
		} `json:"iterations"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	it := sum.Iterations
	// Each upload takes about two slots: every other slot passes unused.
	if it.Total != 15 || it.Missed < 5 || it.Missed+it.Late+it.TooLate < 10 {
		t.Errorf("%+v: want 15 slots, about half of them missed and most of the others late", it)
	}
}
