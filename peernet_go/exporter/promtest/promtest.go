// Package promtest runs a real Prometheus server, Debian's prometheus,
// for tests of what peernet exports: it scrapes the targets a test gives
// it and answers PromQL through its HTTP API.
//
//	func TestScraped(t *testing.T) {
//		p := promtest.Start(t, promtest.Options{Targets: []string{addr}})
//		p.WaitScrapes(2)                            // the target was read
//		v := p.Scalar(`sum(peernet_iterations_total)`) // fails the test on error
//	}
//
// The server listens on 127.0.0.1 at a free port, keeps its database in
// the test's temporary directory and is killed when the test ends.
package promtest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
)

// Binary is where Debian installs Prometheus (apt-get install prometheus).
const Binary = "/usr/bin/prometheus"

// StartTimeout bounds how long Start waits for the server to be ready.
const StartTimeout = 30 * time.Second

// Options configure Start.
type Options struct {
	// Targets are the HOST:PORT addresses to scrape at /metrics.
	Targets []string
	// Interval is the scrape interval; it defaults to 500 ms.
	Interval time.Duration
	// Native starts Prometheus with --enable-feature=native-histograms.
	// Prometheus 2.42 then stores a histogram's native form only, without
	// its classic buckets.
	Native bool
}

// Server is a Prometheus process run by a test.
type Server struct {
	t   testing.TB
	url string
	api promv1.API
	out *bytes.Buffer
	// At is the evaluation time of queries (zero: now).
	At time.Time
}

// Start writes a config scraping o.Targets, starts Prometheus and waits
// until it is ready. The test is skipped, naming the package to install,
// when the binary is missing.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Skipf("%s not found: install it with `apt-get install prometheus` (scripts/install-deps --test does)", Binary)
	}
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	quoted := make([]string, len(o.Targets))
	for i, a := range o.Targets {
		quoted[i] = strconv.Quote(a)
	}
	conf := fmt.Sprintf("global:\n  scrape_interval: %s\n  scrape_timeout: %s\nscrape_configs:\n  - job_name: peernet\n    static_configs:\n      - targets: [%s]\n",
		model.Duration(o.Interval), model.Duration(o.Interval), strings.Join(quoted, ", "))
	confFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{
		"--config.file=" + confFile, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=warn",
	}
	if o.Native {
		args = append(args, "--enable-feature=native-histograms")
	}
	cmd := exec.Command(Binary, args...)
	s := &Server{t: t, url: "http://" + addr, out: new(bytes.Buffer)}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	client, err := api.NewClient(api.Config{Address: s.url})
	if err != nil {
		t.Fatal(err)
	}
	s.api = promv1.NewAPI(client)
	hc := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(StartTimeout)
	for {
		if resp, err := hc.Get(s.url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited at start:\n%s", s.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after %v:\n%s", StartTimeout, s.out)
		}
	}
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.url }

// Query evaluates a PromQL expression at s.At (or now) and fails the test
// on an error.
func (s *Server) Query(expr string) model.Value {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at := s.At
	if at.IsZero() {
		at = time.Now()
	}
	v, _, _, err := s.api.Query(ctx, expr, at)
	if err != nil {
		s.t.Fatalf("query %s: %v", expr, err)
	}
	return v
}

// Scalar evaluates expr, which must give one sample, and returns its value
// (NaN when it gives none).
func (s *Server) Scalar(expr string) float64 {
	s.t.Helper()
	switch v := s.Query(expr).(type) {
	case model.Vector:
		if len(v) == 0 {
			return math.NaN()
		}
		if len(v) > 1 {
			s.t.Fatalf("query %s: %d samples, want one", expr, len(v))
		}
		return float64(v[0].Value)
	case *model.Scalar:
		return float64(v.Value)
	default:
		s.t.Fatalf("query %s: a %s, want a vector or scalar", expr, v.Type())
		return 0
	}
}

// WaitScrapes waits until every target has been scraped successfully n
// times since it came up, for at most deadline.
func (s *Server) WaitScrapes(n int, deadline time.Duration) {
	s.t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		v, ok := s.Query(`min(count_over_time(up[1h]))`).(model.Vector)
		up, _ := s.Query(`min(up)`).(model.Vector)
		if ok && len(v) > 0 && int(v[0].Value) >= n && len(up) > 0 && up[0].Value == 1 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("prometheus: targets not scraped %d times within %v:\n%s", n, deadline, s.out)
}
