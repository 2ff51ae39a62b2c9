package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/peernet/peernet_go/peernet_go/exporter/promtest"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// Resolution of histogram_quantile: within one classic bucket (R10 series,
// ≤ 1.26 wide) or one native bucket (schema 3, 2^(1/8) ≈ 1.09 wide), plus
// the summary's own 0.1 %.
const (
	classicRatio = 1.27
	nativeRatio  = 1.1
)

// TestPrometheus runs a bench with --metrics-addr 127.0.0.1:0, has two
// real Prometheus servers scrape it (one with native histograms, one with
// the classic buckets the Grafana dashboard reads), and checks that what
// Prometheus holds at the end is what the results directory holds, and
// that every query of the dashboard returns data.
func TestPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("the Prometheus test takes 15 s; -short skips it")
	}
	if _, err := os.Stat(promtest.Binary); err != nil {
		t.Skipf("%s not found: install it with `apt-get install prometheus` (scripts/install-deps --test does)", promtest.Binary)
	}
	classic, dir, url := scrapedBench(t, false)
	native, ndir, _ := scrapedBench(t, true)
	info := readRunInfo(t, dir)
	if info.Metrics != url {
		t.Errorf("run.yaml metrics: %q, want the printed %q", info.Metrics, url)
	}
	res, nres := readResult(t, dir), readResult(t, ndir)

	// Counters: exactly the results' counts, in both servers.
	c := res.Iterations
	for _, run := range []struct {
		p *promtest.Server
		c metrics.Counts
	}{{classic, res.Iterations}, {native, nres.Iterations}} {
		p, c := run.p, run.c
		for status, want := range map[string]int64{
			"ok": c.OK, "lost": c.Lost, "error": c.Error, "missed": c.Missed,
			"warmup": c.Warmup, "late": c.Late, "too-late": c.TooLate,
		} {
			if got := p.Scalar(fmt.Sprintf(`peernet_iterations_total{status=%q}`, status)); got != float64(want) {
				t.Errorf("peernet_iterations_total{status=%q} = %v, want %d (summary.json)", status, got, want)
			}
		}
	}
	if c.OK < 1800 {
		t.Errorf("only %d of 2000 iterations ok", c.OK)
	}

	// Quantiles: each stage's p50 and p99 within the bucket resolution.
	t.Logf("%-22s %-4s %12s %12s %12s %12s", "stage", "q", "summary", "classic", "summary", "native")
	for _, name := range []string{
		metrics.StageUpload, metrics.StageDownload, metrics.StageInference, metrics.StageServer,
		metrics.StageRTT, metrics.StageLatencyFromSchedule,
	} {
		st, ok := res.Stage(name)
		nst, nok := nres.Stage(name)
		if !ok || !nok {
			t.Fatalf("summary has no %s stage", name)
		}
		if got := classic.Scalar(fmt.Sprintf(`peernet_stage_seconds_count{stage=%q}`, name)); got != float64(st.Count) {
			t.Errorf("%s: classic count %v, want %d", name, got, st.Count)
		}
		if got := native.Scalar(fmt.Sprintf(`histogram_count(peernet_stage_seconds{stage=%q})`, name)); got != float64(nst.Count) {
			t.Errorf("%s: native count %v, want %d", name, got, nst.Count)
		}
		for _, q := range []struct {
			q, want, nwant float64
		}{{0.5, st.P50, nst.P50}, {0.99, st.P99, nst.P99}} {
			cq := classic.Scalar(fmt.Sprintf(`histogram_quantile(%g, sum by (le) (peernet_stage_seconds_bucket{stage=%q}))`, q.q, name))
			nq := native.Scalar(fmt.Sprintf(`histogram_quantile(%g, sum(peernet_stage_seconds{stage=%q}))`, q.q, name))
			t.Logf("%-22s p%-3g %12s %12s %12s %12s", name, 100*q.q, secs(q.want), secs(cq), secs(q.nwant), secs(nq))
			if !within(cq, q.want, classicRatio) {
				t.Errorf("%s p%g: classic buckets give %v, summary %v: beyond ×%v", name, 100*q.q, cq, q.want, classicRatio)
			}
			if !within(nq, q.nwant, nativeRatio) {
				t.Errorf("%s p%g: native histogram gives %v, summary %v: beyond ×%v", name, 100*q.q, nq, q.nwant, nativeRatio)
			}
		}
	}
	if up, ok := res.Stage(metrics.StageUploadBytes); ok {
		got := classic.Scalar(`peernet_bytes_total{direction="up"}`)
		// The counter also has the warm-up's bytes; the summary has not.
		if lo := up.Mean * float64(up.Count); got < lo*0.999 || got > lo*1.02 {
			t.Errorf("peernet_bytes_total{direction=up} = %v, summary's upload bytes sum to %v", got, lo)
		}
	}

	// The dashboard: every expression returns data.
	exprs := dashboardExprs(t)
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions in the dashboard", len(exprs))
	}
	for _, e := range exprs {
		q := grafanaVars.Replace(e)
		if v, ok := classic.Query(q).(model.Vector); !ok || len(v) == 0 {
			t.Errorf("dashboard query returns no data: %s", q)
		}
	}
}

// scrapedBench runs a bench with a metrics endpoint that one Prometheus
// (classic or native histograms) scrapes, the only scraper, so that the
// bench's --metrics-linger ends on its scrape after the run; it returns
// the server, the results directory and the printed URL.
func scrapedBench(t *testing.T, native bool) (*promtest.Server, string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(peernetBin, "bench", "--metrics-addr", "127.0.0.1:0", "--metrics-linger", "20s",
		"--iterations", "2000", "--rate", "200", "--warmup", "20", "--model-name", "dummy:infer=2ms", "--result-loc", dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var url string
	var log []string
	for url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("bench ended before serving metrics:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			if u, ok := strings.CutPrefix(l, "metrics: "); ok && strings.HasPrefix(u, "http://") {
				url = u
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("no metrics address printed within 15 s:\n%s", strings.Join(log, "\n"))
		}
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics")
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("printed %s: want the port chosen", url)
	}
	prom := promtest.Start(t, promtest.Options{Targets: []string{addr}, Native: native})
	go func() {
		for l := range lines {
			t.Log("bench: " + l)
		}
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("bench: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("bench still running after 60 s")
	}
	// The linger's scrape came before the exit; a later one fails and marks
	// the series stale.
	prom.At = time.Now().Add(-time.Millisecond)
	return prom, dir, url

}

// grafanaVars stands in for the dashboard's variables: every edge, the rtt
// stage, and windows that cover the run's end.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5s", "$__range", "1m", "$__interval", "1s",
	"$edge", ".*", "$stage", "rtt",
)

// dashboardExprs returns every PromQL expression of the Grafana dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../../config/grafana/peernet.json")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any) []string
	walk = func(v any) []string {
		var out []string
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["expr"].(string); ok {
				out = append(out, e)
			}
			for _, c := range v {
				out = append(out, walk(c)...)
			}
		case []any:
			for _, c := range v {
				out = append(out, walk(c)...)
			}
		}
		return out
	}
	var d any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("config/grafana/peernet.json: %v", err)
	}
	exprs := walk(d)
	// label_values(METRIC, LABEL) of the variables is a series query.
	for _, m := range regexp.MustCompile(`label_values\((\w+), (\w+)\)`).FindAllStringSubmatch(string(b), -1) {
		exprs = append(exprs, fmt.Sprintf("count by (%s) (%s)", m[2], m[1]))
	}
	return exprs
}

func within(got, want, ratio float64) bool {
	return got > 0 && want > 0 && !math.IsNaN(got) && got <= want*ratio && got >= want/ratio
}

func readRunInfo(t *testing.T, dir string) report.RunInfo {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "run.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := report.ReadRunInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func readResult(t *testing.T, dir string) metrics.Result {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "histograms.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := metrics.ReadHistograms(f)
	if err != nil {
		t.Fatal(err)
	}
	return s.Result()
}

func secs(s float64) string { return time.Duration(s * 1e9).String() }
