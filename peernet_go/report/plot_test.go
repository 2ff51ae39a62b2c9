package report_test

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// writeDataCSV writes n records like a real run's: warmup, a lost and a
// failed iteration now and then, one-way delays that go negative under a
// clock error, and a rare slow outlier.
func writeDataCSV(t testing.TB, dir string, n int) {
	t.Helper()
	w, err := metrics.CreateCSV(filepath.Join(dir, "data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range n {
		r := metrics.Record{
			Iteration: i, Status: metrics.OK, Warmup: i < 10,
			Sensing:     time.Duration(10e3 + rng.ExpFloat64()*5e3),
			Upload:      time.Duration(200e3 + rng.NormFloat64()*300e3),
			Inference:   time.Duration(3e6 + rng.NormFloat64()*2e5),
			Download:    time.Duration(80e3 + rng.ExpFloat64()*40e3),
			UploadBytes: 1 << 20, DownloadBytes: 128, T3: 1,
		}
		if i%1000 == 999 {
			r.Inference *= 40 // an outlier that should not squash the histogram
		}
		r.Server = r.Inference + 20*time.Microsecond
		r.RTT = r.Upload + r.Server + r.Download
		switch i % 97 {
		case 3:
			r = metrics.Record{Iteration: i, Status: metrics.Lost, Sensing: 9 * time.Microsecond, UploadBytes: 1 << 20}
		case 5:
			r.Status = metrics.Error
		}
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPlotDir plots a run that crashed mid-write: its truncated last row is
// skipped and reported, and every plot is still written.
func TestPlotDir(t *testing.T) {
	dir := t.TempDir()
	if err := report.PlotDir(dir); err == nil || !strings.Contains(err.Error(), "data.csv") {
		t.Fatalf("PlotDir without data.csv: %v", err)
	}
	writeDataCSV(t, dir, 5000)
	f, err := os.OpenFile(filepath.Join(dir, "data.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("5000,0.000010000,0.0002")
	f.Close()
	err = report.PlotDir(dir)
	if err == nil || !strings.Contains(err.Error(), "skipped 1 bad rows") || !strings.Contains(err.Error(), "line 5002") {
		t.Fatalf("PlotDir with a truncated row: %v", err)
	}

	entries, err := os.ReadDir(filepath.Join(dir, "plots"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"breakdown.png", "breakdown.svg", "cdf.png", "cdf.svg",
		"download-throughput.png", "download-time.png", "inference-time.png", "percentiles.png", "percentiles.svg", "rtt-series.png",
		"rtt-time.png", "sensing-time.png", "upload-throughput.png", "upload-time.png"}
	if !slices.Equal(names, want) {
		t.Fatalf("plots %v, want %v", names, want)
	}
	for _, name := range names {
		if strings.HasSuffix(name, ".svg") {
			b, err := os.ReadFile(filepath.Join(dir, "plots", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := xml.Unmarshal(b, new(struct{})); err != nil || !bytes.Contains(b, []byte("<svg")) {
				t.Fatalf("%s is not an SVG: %v", name, err)
			}
			continue
		}
		f, err := os.Open(filepath.Join(dir, "plots", name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 300 {
			t.Fatalf("%s is %v", name, b)
		}
	}
}

func TestPlotterSkipsEmptyStages(t *testing.T) {
	p := report.NewPlotter()
	r := metrics.Record{Iteration: 0, Status: metrics.Lost, Sensing: time.Microsecond}
	_ = p.Write(&r)
	paths, err := p.Save(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	// The one measured stage gets its histogram and the distribution
	// plots; no other stage gets a histogram.
	want := []string{"sensing-time.png", "percentiles.png", "percentiles.svg", "cdf.png", "cdf.svg", "breakdown.png", "breakdown.svg", "rtt-series.png"}
	if !slices.Equal(names, want) {
		t.Fatalf("plots %v, want %v", names, want)
	}
}

// BenchmarkPlotDir measures plotting a results directory per data.csv row.
func BenchmarkPlotDir(b *testing.B) {
	dir := b.TempDir()
	const rows = 100_000
	writeDataCSV(b, dir, rows)
	b.ReportAllocs()
	for b.Loop() {
		if err := report.PlotDir(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
