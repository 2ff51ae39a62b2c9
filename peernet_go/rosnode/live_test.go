package rosnode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapeValue fetches url and sums the samples of the metric name whose
// labels contain every one of want.
func scrapeValue(url, name string, want ...string) (float64, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var sum float64
	found := false
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(nil, 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				continue lines
			}
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, fmt.Errorf("%s: no %s%v", url, name, want)
	}
	return sum, sc.Err()
}

// TestNodesServeMetrics runs both nodes with metrics_addr set and reads
// their endpoints as Prometheus would: the edge's while it runs, the
// cloud's after, where the request count must equal what the edge sent.
func TestNodesServeMetrics(t *testing.T) {
	h := newMemHost("/edge_node")
	port := freePort(t) - 1
	cloud := DefaultCloudConfig()
	cloud.StartPort, cloud.ModelName = port, "dummy:infer=1ms"
	cloud.MetricsAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cloudLog := startCloud(t, h, cloud)

	c := DefaultEdgeConfig()
	c.StartPort, c.Iterations, c.SensorSize, c.Rate = port, 100, "1024", 50
	c.MetricsAddr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	edgeURL := "http://" + c.MetricsAddr + "/metrics"
	during := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			ok, err := scrapeValue(edgeURL, "peernet_iterations_total", `status="ok"`, `edge="edge"`)
			if err == nil && ok >= 10 {
				_, err = scrapeValue(edgeURL, "peernet_stage_seconds_count", `stage="upload"`)
				during <- err
				return
			}
		}
		during <- fmt.Errorf("edge endpoint %s never showed 10 ok iterations", edgeURL)
	}()
	log := &testLog{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := RunEdge(ctx, Env{Host: h, Node: "/edge_node", Logf: log.logf, Version: "test"}, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-during; err != nil {
		t.Fatal(err)
	}
	if !log.has("metrics at http://"+c.MetricsAddr) || !cloudLog.has("metrics at http://"+cloud.MetricsAddr) {
		t.Errorf("the nodes do not log their endpoints: %v / %v", log.lines, cloudLog.lines)
	}
	sent := float64(res.OK + res.Lost + res.Errors)
	cloudURL := "http://" + cloud.MetricsAddr + "/metrics"
	var got float64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, err = scrapeValue(cloudURL, "peernet_server_requests_total"); err == nil && got >= sent {
			break
		}
	}
	if err != nil || got != sent {
		t.Fatalf("cloud requests_total %v, want %v (%+v): %v", got, sent, res, err)
	}
	if _, err := http.Get(edgeURL); err == nil {
		t.Error("the edge's endpoint still serves after its run ended")
	}
}
