package view_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/golden"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/report/view"
)

// writeRun writes a seeded results directory: n iterations at 100 Hz with
// an upload of about upload, a 2 ms inference, some lost and missed.
func writeRun(t *testing.T, dir string, seed uint64, n int, upload time.Duration) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := metrics.CreateCSV(filepath.Join(dir, metrics.DataCSV))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	jitter := func(d time.Duration) time.Duration { return d + time.Duration(rng.ExpFloat64()*float64(d)/5) }
	for i := range n {
		r := metrics.Record{Iteration: i, Status: metrics.OK, Sensing: jitter(40 * time.Microsecond), Upload: jitter(upload),
			Queue: jitter(5 * time.Microsecond), Inference: jitter(2 * time.Millisecond), Download: jitter(60 * time.Microsecond),
			UploadBytes: 1100, DownloadBytes: 90, ClockError: 15 * time.Microsecond}
		r.Server = r.Queue + r.Inference
		r.RTT = r.Upload + r.Server + r.Download
		switch {
		case i%97 == 13:
			r = metrics.Record{Iteration: i, Status: metrics.Lost, UploadBytes: 1100, ClockError: 15 * time.Microsecond}
		case i%151 == 7:
			r = metrics.Record{Iteration: i, Status: metrics.Missed}
		}
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info := report.RunInfo{Version: "test", Command: []string{"peernet", "bench", "--rate", "100"}, Transport: "zmq-tcp",
		Sensor: report.SensorInfo{Type: "random-bytes"}, Model: report.ModelInfo{Name: "dummy:infer=2ms"}, Rate: 100,
		Start: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 4, 12, 0, 10, 0, time.UTC),
		Clock: report.Clock{Mode: "handshake", Bound: 15 * time.Microsecond, Synced: true, MaxError: time.Millisecond}}
	f, err := os.Create(filepath.Join(dir, metrics.RunYAML))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := info.WriteYAML(f); err != nil {
		t.Fatal(err)
	}
}

// twoRuns builds the report of a run and one whose upload is 4 ms slower.
func twoRuns(t *testing.T) *view.Report {
	t.Helper()
	dir := t.TempDir()
	var runs []*view.Run
	for i, up := range []time.Duration{300 * time.Microsecond, 4300 * time.Microsecond} {
		path := filepath.Join(dir, []string{"wifi", "5g"}[i])
		writeRun(t, path, uint64(i+1), 1000, up)
		r, err := view.Load(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		r.Source = filepath.Base(path) // the golden files must not hold the temporary directory
		runs = append(runs, r)
	}
	return view.Build(runs, view.Options{Seed: 1, MaxPoints: 200})
}

// TestGolden holds the three renderings of a fixed, seeded pair of runs
// to the committed files, and checks what they say: upload slower by
// about 4 ms, inference unchanged.
func TestGolden(t *testing.T) {
	rep := twoRuns(t)
	var md, js, html bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "report.md"), md.Bytes())
	golden.Check(t, filepath.Join("testdata", "report.json"), js.Bytes())
	golden.Check(t, filepath.Join("testdata", "report.html"), html.Bytes())
	verdicts := map[string]string{}
	for _, c := range rep.Comparisons {
		verdicts[c.Stage] = c.Runs[1].Verdict
	}
	if !strings.HasPrefix(verdicts["upload"], "upload +4.5") || !strings.HasSuffix(verdicts["upload"], "— slower") {
		t.Errorf("upload: %q", verdicts["upload"])
	}
	if !strings.HasSuffix(verdicts["inference"], "— no significant change") {
		t.Errorf("inference: %q", verdicts["inference"])
	}
	if c := rep.Runs[0].Counts; c.Total != 1000 || c.Lost == 0 || c.Missed == 0 || c.OK+c.Lost+c.Missed != 1000 {
		t.Errorf("counts %+v", c)
	}
	for _, needle := range []string{`data-chart="breakdown"`, `data-chart="timeline"`, `data-chart="percentiles-upload"`, `data-chart="cdf-rtt"`, "Content-Security-Policy"} {
		if !bytes.Contains(html.Bytes(), []byte(needle)) {
			t.Errorf("the HTML has no %s", needle)
		}
	}
	if bytes.Contains(html.Bytes(), []byte("<script")) || bytes.Contains(html.Bytes(), []byte("src=\"http")) {
		t.Error("the HTML loads something")
	}
}

// TestPEERNetCSV renders a data.csv in the Python PEERNet's layout (its
// columns, pickled-size logger columns, no run.yaml): the stages it has.
func TestPEERNetCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.csv")
	csv := "iteration,sensing,upload,inference,download,download-bytes,download-logger-bytes,upload-bytes,upload-logger-bytes,upload-throughput,download-throughput\n" +
		"0,0.000101,0.000512,0.1002,0.000431,1200,800,1500,900,23437500.0,22273781.9\n" +
		"1,0.000099,0.000498,0.1001,0.000420,1200,800,1500,900,24096385.5,22857142.8\n" +
		"2,0.000102,0.000530,0.1003,0.000450,1200,800,1500,900,22641509.4,21333333.3\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := view.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	rep := view.Build([]*view.Run{r}, view.Options{})
	var got []string
	for _, s := range rep.Runs[0].Stages {
		got = append(got, s.Name)
	}
	if strings.Join(got, ",") != "sensing,upload,inference,download" || rep.Runs[0].Counts.OK != 3 {
		t.Fatalf("stages %v, counts %+v", got, rep.Runs[0].Counts)
	}
	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html.Bytes(), []byte("no run.yaml")) {
		t.Error("the report does not say where the run came from")
	}
}
