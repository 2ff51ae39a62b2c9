package view_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report/view"
)

// BenchmarkReportMillion loads a 1,000,000-iteration run and writes its
// HTML report; it reports the page's size. Beside it, the raw baseline of
// reading the same data.csv with the metrics reader alone.
func BenchmarkReportMillion(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	t := &testing.T{}
	writeRun(t, dir, 1, 1_000_000, 300*time.Microsecond)
	b.Run("read-csv", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(filepath.Join(dir, metrics.DataCSV))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for range metrics.ReadCSV(f) {
				n++
			}
			f.Close()
		}
	})
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			r, err := view.Load(context.Background(), dir)
			if err != nil {
				b.Fatal(err)
			}
			var cw countWriter
			if err := view.Build([]*view.Run{r}, view.Options{}).WriteHTML(&cw); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cw.n)/1e6, "MB-html")
		}
	})
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
