package exporter_test

import (
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/exporter"
	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// BenchmarkEdgeWrite is the cost of one record in the Prometheus sink,
// beside the summary every run keeps anyway (the baseline): their ratio is
// what --metrics-addr adds per iteration.
func BenchmarkEdgeWrite(b *testing.B) {
	r := record(metrics.OK, 200*time.Microsecond)
	b.Run("summary", func(b *testing.B) {
		s := metrics.NewSummary(metrics.SummaryOptions{})
		b.ReportAllocs()
		for b.Loop() {
			_ = s.Write(r)
		}
	})
	b.Run("exporter", func(b *testing.B) {
		e, err := exporter.NewEdge(exporter.NewRegistry(), exporter.Labels{Edge: "robot1"}, exporter.EdgeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = e.Write(r)
		}
	})
}
