package exporter_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/exporter"
	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// An edge's records, served to Prometheus on a loopback port.
func Example() {
	reg := exporter.NewRegistry()
	edge, err := exporter.NewEdge(reg, exporter.Labels{Edge: "robot1", Transport: "zmq-tcp"}, exporter.EdgeOptions{})
	if err != nil {
		panic(err)
	}
	srv, err := exporter.Listen("127.0.0.1:0", reg, exporter.ListenOptions{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// The run gives every record to its sinks; here, two by hand.
	_ = edge.Write(&metrics.Record{Status: metrics.OK, Upload: 60 * time.Microsecond, RTT: 2 * time.Millisecond})
	_ = edge.Write(&metrics.Record{Status: metrics.Lost})

	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(srv.URL())
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "peernet_iterations_total") && !strings.HasSuffix(l, " 0") ||
			strings.HasPrefix(l, `peernet_stage_seconds_count{edge="robot1",stage="rtt"`) {
			fmt.Println(l)
		}
	}
	// Output:
	// peernet_iterations_total{edge="robot1",status="lost",transport="zmq-tcp"} 1
	// peernet_iterations_total{edge="robot1",status="ok",transport="zmq-tcp"} 1
	// peernet_stage_seconds_count{edge="robot1",stage="rtt",transport="zmq-tcp"} 1
}
