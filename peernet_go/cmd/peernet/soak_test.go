package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// The soak: two client/server pairs run at a fixed rate for PEERNET_SOAK_S
// seconds (60 in the suite, `make soak` sets 600) while faults are injected
// on a schedule — the server killed with SIGKILL and restarted, mosquitto
// restarted under the MQTT pair, the lab link taken down for 2 s (root
// only: the zmq pair then runs in two network namespaces), junk sent to the
// server's port. The processes' memory, descriptors and goroutines must stay
// flat, every scheduled slot must be accounted for, every fault must be
// recovered from, and the results directory must be valid after each one.
// soak.json, in PEERNET_SOAK_DIR or the test's temporary directory, holds
// the figures.

const (
	soakRate    = 50               // iterations per second, per pair
	soakTimeout = time.Second      // the clients' --timeout
	soakRecover = 6 * time.Second  // timeout + reconnect: the longest a fault may keep a pair down after it ends
	soakWarmup  = 10 * time.Second // before the first fault, and before the flatness windows
	soakEvery   = 9 * time.Second  // between faults
	soakDown    = 2 * time.Second  // how long a killed server, a stopped broker, a downed link stays away
	soakFlatTol = 0.10             // ±10 %
)

// soakScrapeEnv makes the test binary fetch the URL it names, print the
// body and exit: run with `ip netns exec`, it reads a metrics endpoint that
// listens on a namespace's loopback.
const soakScrapeEnv = "PEERNET_SOAK_SCRAPE"

// soakScrape, when the environment asks for it, fetches the URL, prints the
// body and exits; TestMain calls it before anything else.
func soakScrape() {
	url := os.Getenv(soakScrapeEnv)
	if url == "" {
		return
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	io.Copy(os.Stdout, resp.Body)
	os.Exit(0)
}

// soakProc is one watched process: its samples of memory, descriptors and
// goroutines, per incarnation (a restarted server starts a new one).
type soakProc struct {
	name      string
	ns        string // network namespace, "" for this one
	metrics   string // host:port of its metrics endpoint, "" without one
	mu        sync.Mutex
	cmd       *exec.Cmd
	lives     [][]soakSample
	exited    chan struct{}
	exitErr   error
	startArgs []string
}

type soakSample struct {
	At         time.Duration `json:"at"`
	RSS        int64         `json:"rss"`
	FDs        int           `json:"fds"`
	Goroutines int           `json:"goroutines"` // -1: not scraped
}

// start starts (or restarts) the process.
func (p *soakProc) start(t *testing.T) {
	t.Helper()
	args := p.startArgs
	name := peernetBin
	if p.ns != "" {
		args = append([]string{"netns", "exec", p.ns, peernetBin}, args...)
		name = "ip"
	}
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.lives = append(p.lives, nil)
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		if err != nil && stderr.Len() > 0 {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
		}
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(exited)
	}()
}

// kill sends SIGKILL and waits for the process to go.
func (p *soakProc) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	cmd.Process.Kill()
	<-exited
}

// sample reads the process's RSS and descriptors from /proc and its
// goroutines from its metrics endpoint.
func (p *soakProc) sample(at time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	select {
	case <-exited:
		return
	default:
	}
	pid := cmd.Process.Pid
	s := soakSample{At: at, Goroutines: -1}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				s.RSS = kb << 10
			}
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.FDs = len(ents)
	}
	if s.RSS == 0 {
		return // between exec and the program's start, or gone
	}
	if p.metrics != "" {
		s.Goroutines = scrapeGoroutines(p.ns, p.metrics)
	}
	p.mu.Lock()
	p.lives[len(p.lives)-1] = append(p.lives[len(p.lives)-1], s)
	p.mu.Unlock()
}

// scrapeGoroutines returns go_goroutines of the metrics endpoint at addr,
// reached from network namespace ns, or -1.
func scrapeGoroutines(ns, addr string) int {
	url := "http://" + addr + "/metrics"
	var body []byte
	if ns == "" {
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	} else {
		cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0])
		cmd.Env = append(os.Environ(), soakScrapeEnv+"="+url)
		var err error
		if body, err = cmd.Output(); err != nil {
			return -1
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return int(f)
			}
		}
	}
	return -1
}

// soakFlat is the flatness verdict of one quantity of one incarnation: the
// mean of the first window after warm-up against the mean of the last.
type soakFlat struct {
	Process  string  `json:"process"`
	Life     int     `json:"life"`
	Quantity string  `json:"quantity"`
	First    float64 `json:"first"`
	Last     float64 `json:"last"`
	Change   float64 `json:"change"` // (last-first)/first
	OK       bool    `json:"ok"`
}

// flatness judges every incarnation that lived long enough for two
// windows after its warm-up, within ±10 %. Beside the 10 %, descriptor
// counts get one of slack and goroutine counts two, being small integers
// (a reconnected MQTT client's workers come and go), and RSS 4 MiB, the
// heap a young process still grows into before the GC settles (the
// one-minute soak of make test; make soak runs ten).
func (p *soakProc) flatness(warmup, window time.Duration) []soakFlat {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []soakFlat
	for life, samples := range p.lives {
		if len(samples) == 0 {
			continue
		}
		born := samples[0].At
		var first, last []soakSample
		end := samples[len(samples)-1].At
		if end-born < warmup+2*window {
			continue
		}
		for _, s := range samples {
			switch age := s.At - born; {
			case age >= warmup && age < warmup+window:
				first = append(first, s)
			case s.At > end-window:
				last = append(last, s)
			}
		}
		if len(first) == 0 || len(last) == 0 {
			continue
		}
		for _, q := range []struct {
			name  string
			get   func(soakSample) float64
			slack float64
		}{
			{"rss", func(s soakSample) float64 { return float64(s.RSS) }, 4 << 20},
			{"fds", func(s soakSample) float64 { return float64(s.FDs) }, 1},
			{"goroutines", func(s soakSample) float64 { return float64(s.Goroutines) }, 2},
		} {
			if q.name == "goroutines" && (first[0].Goroutines < 0 || last[0].Goroutines < 0) {
				continue
			}
			f, l := meanOf(first, q.get), meanOf(last, q.get)
			ch := (l - f) / f
			out = append(out, soakFlat{Process: p.name, Life: life, Quantity: q.name, First: f, Last: l, Change: ch,
				OK: math.Abs(l-f) <= soakFlatTol*f+q.slack})
		}
	}
	return out
}

func meanOf(s []soakSample, get func(soakSample) float64) float64 {
	var sum float64
	for _, x := range s {
		sum += get(x)
	}
	return sum / float64(len(s))
}

// soakFault is one injected fault and what it did.
type soakFault struct {
	Kind     string        `json:"kind"`
	Pair     string        `json:"pair"`
	At       time.Duration `json:"at"`
	Ended    time.Duration `json:"ended"`
	Recovery time.Duration `json:"recovery"` // from the end of the fault to the pair's next ok reply
	Rows     int64         `json:"rows"`     // rows in the results directory when it was checked
	Valid    bool          `json:"valid"`
	Problem  string        `json:"problem,omitempty"`
}

// soakPair is one client/server pair.
type soakPair struct {
	name       string
	client     *soakProc
	server     *soakProc
	dir        string
	iterations int
	summary    summaryJSON
	junk       func() error // sends junk to the server's port
}

func TestSoak(t *testing.T) {
	secs := 60
	if s := os.Getenv("PEERNET_SOAK_S"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 40 || n > 24*3600 {
			t.Fatalf("PEERNET_SOAK_S=%q: want whole seconds, 40 to 86400", s)
		}
		secs = n
	} else if testing.Short() {
		t.Skip("the soak takes a minute; -short skips it")
	}
	total := time.Duration(secs) * time.Second
	outDir := os.Getenv("PEERNET_SOAK_DIR")
	if outDir == "" {
		outDir = t.TempDir()
	} else if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(peernetBin, "client", "-h").CombinedOutput()
	withMetrics := strings.Contains(string(out), "metrics-addr")

	var pairs []*soakPair
	var lab *lab
	if os.Geteuid() == 0 && exec.Command("ip", "netns", "add", "pnsoakprobe").Run() == nil {
		exec.Command("ip", "netns", "del", "pnsoakprobe").Run()
		lab = startLab(t, "100mbit", "100mbit")
	} else {
		t.Log("not root or no network namespaces: the zmq pair runs on loopback and the link-down fault is left out")
	}
	pairs = append(pairs, soakZMQ(t, lab, total, withMetrics))
	broker := mqtttest.Mosquitto(t)
	pairs = append(pairs, soakMQTT(t, broker, total, withMetrics))

	start := time.Now()
	procs := []*soakProc{}
	for _, p := range pairs {
		p.server.start(t)
		procs = append(procs, p.server)
	}
	waitSoakServers(t, pairs)
	for _, p := range pairs {
		p.client.start(t)
		procs = append(procs, p.client)
	}
	t.Cleanup(func() {
		for _, pr := range procs {
			pr.mu.Lock()
			cmd := pr.cmd
			pr.mu.Unlock()
			cmd.Process.Kill()
		}
	})

	// Sample every process once a second until the clients end.
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				for _, pr := range procs {
					pr.sample(time.Since(start))
				}
			}
		}
	}()

	// The fault schedule: one kind after the other, soakEvery apart, the
	// last one over with time to recover before the clients' end.
	kinds := []string{"kill-server", "link-down", "junk", "broker-restart", "kill-server"}
	pairOf := []int{0, 0, 0, 1, 1}
	var faults []*soakFault
	var checks sync.WaitGroup
	for k, at := 0, soakWarmup; at+soakDown+soakRecover < total-2*time.Second; at += soakEvery {
		kind, pi := kinds[k%len(kinds)], pairOf[k%len(kinds)]
		k++
		if kind == "link-down" && lab == nil {
			continue
		}
		time.Sleep(time.Until(start.Add(at)))
		f := &soakFault{Kind: kind, Pair: pairs[pi].name, At: time.Since(start)}
		p := pairs[pi]
		switch kind {
		case "kill-server":
			p.server.kill()
			time.Sleep(soakDown)
			p.server.start(t)
		case "link-down":
			for _, side := range []string{"edge", "cloud"} {
				runOrFail(t, "ip", "-n", lab.name+"-"+side, "link", "set", labIf(lab, side), "down")
			}
			time.Sleep(soakDown)
			for _, side := range []string{"edge", "cloud"} {
				runOrFail(t, "ip", "-n", lab.name+"-"+side, "link", "set", labIf(lab, side), "up")
			}
		case "junk":
			if err := p.junk(); err != nil {
				t.Errorf("sending junk: %v", err)
			}
		case "broker-restart":
			broker.Restart(soakDown)
		}
		f.Ended = time.Since(start)
		faults = append(faults, f)
		checks.Add(1)
		go func() { defer checks.Done(); checkAfterFault(p, f, start) }()
	}

	// Every client must end by itself: its last slot is at total.
	for _, p := range pairs {
		select {
		case <-p.client.exited:
		case <-time.After(time.Until(start.Add(total + 30*time.Second))):
			t.Errorf("%s: the client hung: still running %v after its last slot", p.name, 30*time.Second)
			p.client.kill()
		}
		p.client.mu.Lock()
		if err := p.client.exitErr; err != nil {
			t.Errorf("%s client: %v", p.name, err)
		}
		p.client.mu.Unlock()
	}
	close(stopSampling)
	sampling.Wait()
	checks.Wait()

	// The verdicts.
	type pairResult struct {
		Name       string         `json:"name"`
		Scheduled  int            `json:"scheduled"`
		Iterations map[string]int `json:"iterations"`
		Accounted  bool           `json:"accounted"`
	}
	var results []pairResult
	for _, p := range pairs {
		if _, err := report.EnsureSummary(p.dir); err != nil {
			t.Errorf("%s: summary: %v", p.name, err)
		}
		p.summary = readSummary(t, p.dir)
		it := p.summary.Iterations
		r := pairResult{Name: p.name, Scheduled: p.iterations,
			Iterations: map[string]int{"ok": it.OK, "lost": it.Lost, "error": it.Error, "missed": it.Missed, "total": it.Total},
			Accounted:  it.Total == p.iterations && it.OK+it.Lost+it.Error+it.Missed == p.iterations}
		if !r.Accounted {
			t.Errorf("%s: %+v: want ok+lost+error+missed = %d scheduled slots", p.name, it, p.iterations)
		}
		results = append(results, r)
	}
	for _, f := range faults {
		if !f.Valid {
			t.Errorf("fault %s on %s at %v: %s", f.Kind, f.Pair, f.At.Round(time.Millisecond), f.Problem)
		}
	}
	var flats []soakFlat
	for _, pr := range procs {
		for _, fl := range pr.flatness(max(soakWarmup, total/5), min(30*time.Second, total/6)) {
			flats = append(flats, fl)
			if !fl.OK {
				t.Errorf("%s (life %d) %s: %.0f → %.0f (%+.1f %%), want within ±%.0f %%",
					fl.Process, fl.Life, fl.Quantity, fl.First, fl.Last, 100*fl.Change, 100*soakFlatTol)
			}
		}
	}
	if withMetrics && !slices.ContainsFunc(flats, func(f soakFlat) bool { return f.Quantity == "goroutines" }) {
		t.Errorf("no goroutine counts were scraped from the processes' metrics endpoints")
	}
	samples := map[string][][]soakSample{}
	for _, pr := range procs {
		samples[pr.name] = pr.lives
	}
	doc := map[string]any{
		"seconds": secs, "rate": soakRate, "lab": lab != nil, "passed": !t.Failed(),
		"pairs": results, "faults": faults, "flatness": flats, "samples": samples,
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	path := filepath.Join(outDir, "soak.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("soak: %d s, %d faults; %s", secs, len(faults), path)
	for _, r := range results {
		t.Logf("  %s: %v", r.Name, r.Iterations)
	}
	for _, f := range faults {
		t.Logf("  %-14s %-4s at %5.1fs: recovered in %v, %d rows valid=%v %s", f.Kind, f.Pair, f.At.Seconds(), f.Recovery.Round(time.Millisecond), f.Rows, f.Valid, f.Problem)
	}
	for _, fl := range flats {
		t.Logf("  %-12s life %d %-10s %12.0f → %12.0f (%+.1f %%)", fl.Process, fl.Life, fl.Quantity, fl.First, fl.Last, 100*fl.Change)
	}
}

// checkAfterFault waits for the pair's first ok reply after the fault ended
// and then checks that a copy of its results directory, as it is on disk
// at that moment, summarizes without a problem.
func checkAfterFault(p *soakPair, f *soakFault, start time.Time) {
	ended := start.Add(f.Ended)
	deadline := ended.Add(soakRecover)
	for {
		if at, ok := firstOKAfter(p.dir, ended); ok {
			f.Recovery = at.Sub(ended)
			break
		}
		if time.Now().After(deadline) {
			f.Problem = fmt.Sprintf("no ok reply within %v of the fault's end", soakRecover)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	copyDir := p.dir + fmt.Sprintf(".after-%s-%d", f.Kind, f.At.Milliseconds())
	defer os.RemoveAll(copyDir)
	if err := os.CopyFS(copyDir, os.DirFS(p.dir)); err != nil {
		f.Problem = err.Error()
		return
	}
	res, skipped, err := report.Summarize(copyDir)
	// The copy may catch a line half written: at most that one is skipped.
	if err != nil && skipped != 1 {
		f.Problem = "the results directory does not summarize: " + err.Error()
		return
	}
	f.Rows = res.Iterations.Total
	it := res.Iterations
	if it.OK == 0 || it.OK+it.Lost+it.Error+it.Missed != it.Total {
		f.Problem = fmt.Sprintf("summary counts do not add up: %+v", it)
		return
	}
	f.Valid = true
}

// firstOKAfter returns the receive time of the first ok record of dir
// answered after t.
func firstOKAfter(dir string, t time.Time) (time.Time, bool) {
	fh, err := os.Open(filepath.Join(dir, metrics.RecordsJSONL))
	if err != nil {
		return time.Time{}, false
	}
	defer fh.Close()
	for r, err := range metrics.ReadJSONL(fh) {
		if err != nil {
			break // a line half written
		}
		if r.Status == metrics.OK && r.T3 > t.UnixNano() {
			return time.Unix(0, r.T3), true
		}
	}
	return time.Time{}, false
}

func runOrFail(t *testing.T, name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Errorf("%s %s: %v %s", name, strings.Join(args, " "), err, out)
	}
}

// labIf names a lab side's veth end (scripts/netlab's naming).
func labIf(l *lab, side string) string {
	if side == "edge" {
		return l.name + "e0"
	}
	return l.name + "c0"
}

// soakZMQ is the zmq-tcp pair: in the lab's namespaces when there is one.
func soakZMQ(t *testing.T, l *lab, total time.Duration, withMetrics bool) *soakPair {
	host, edgeNS, cloudNS := "127.0.0.1", "", ""
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("devices:\n  cloud: 127.0.0.1\n  edge: 127.0.0.1\nserver: cloud\nstart_port: %d\n", port)
	if l != nil {
		host, edgeNS, cloudNS = "10.77.0.2", l.name+"-edge", l.name+"-cloud"
		cfg = fmt.Sprintf("devices:\n  cloud: 10.77.0.2\n  edge: 10.77.0.1\nserver: cloud\nstart_port: %d\n", port)
	}
	netcfg := filepath.Join(t.TempDir(), "net.yaml")
	if err := os.WriteFile(netcfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newSoakPair(t, "zmq", netcfg, "zmq-tcp", total, withMetrics)
	p.client.ns, p.server.ns = edgeNS, cloudNS
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	p.junk = func() error { return sendJunk(edgeNS, addr) }
	return p
}

// soakMQTT is the MQTT pair, through mosquitto on loopback.
func soakMQTT(t *testing.T, b *mqtttest.Broker, total time.Duration, withMetrics bool) *soakPair {
	netcfg := writeNetConfigWith(t, "mqtt:\n  broker: "+b.URL()+"\n  reconnect_max: 200ms\n")
	p := newSoakPair(t, "mqtt", netcfg, "mqtt", total, withMetrics)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port()))
	p.junk = func() error { return sendJunk("", addr) }
	return p
}

func newSoakPair(t *testing.T, name, netcfg, transport string, total time.Duration, withMetrics bool) *soakPair {
	p := &soakPair{name: name, dir: filepath.Join(t.TempDir(), "results"), iterations: int(total.Seconds() * soakRate)}
	p.server = &soakProc{name: name + "-server", startArgs: []string{"server", "--quiet", "--name", "cloud",
		"--network", transport, "--network-config", netcfg, "--model-name", "dummy:infer=1ms"}}
	p.client = &soakProc{name: name + "-client", startArgs: []string{"client", "--quiet", "--name", "edge",
		"--network", transport, "--network-config", netcfg, "--rate", strconv.Itoa(soakRate),
		"--iterations", strconv.Itoa(p.iterations), "--timeout", soakTimeout.String(), "--sensor-size", "4096",
		"--max-errors", "-1", "--result-loc", p.dir}}
	if withMetrics {
		for _, pr := range []*soakProc{p.server, p.client} {
			port, err := loopback.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			pr.metrics = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			pr.startArgs = append(pr.startArgs, "--metrics-addr", pr.metrics)
		}
	}
	return p
}

// waitSoakServers waits until each server listens (zmq) or answers through
// its broker (mqtt).
func waitSoakServers(t *testing.T, pairs []*soakPair) {
	for _, p := range pairs {
		if p.name == "mqtt" {
			waitMQTTServer(t, p.server.startArgs[slices.Index(p.server.startArgs, "--network-config")+1])
		}
	}
	time.Sleep(500 * time.Millisecond)
}

// sendJunk opens a few connections to addr, from network namespace ns,
// and writes random bytes and a bogus length prefix into each.
func sendJunk(ns, addr string) error {
	host, port, _ := net.SplitHostPort(addr)
	script := fmt.Sprintf(`trap '' PIPE; for i in 1 2 3; do
		{ head -c 65536 /dev/urandom; printf '\377\377\377\377\377\377\377\377'; } >/dev/tcp/%s/%s 2>/dev/null || true
	done`, host, port)
	args := []string{"bash", "-c", script}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w %s", err, out)
	}
	return nil
}
