package metrics_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// halvesRecords returns n records with spread, tailed, partly negative
// one-way delays, as a run over skewed clocks has.
func halvesRecords(n int) []metrics.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]metrics.Record, n)
	for i := range recs {
		up := time.Duration(rng.ExpFloat64()*float64(200*time.Microsecond)) - 50*time.Microsecond
		inf := time.Duration(1e6 + rng.NormFloat64()*1e5)
		if rng.IntN(100) == 0 {
			inf *= 20 // a tail
		}
		st := metrics.OK
		switch rng.IntN(50) {
		case 0:
			st = metrics.Lost
		case 1:
			st = metrics.Missed
		}
		r := metrics.Record{
			Iteration: i, Status: st, Sensing: 5 * time.Microsecond, Upload: up, Inference: inf,
			Server: inf + time.Microsecond, Download: 80 * time.Microsecond,
			UploadBytes: 1100, DownloadBytes: 109, Lag: time.Duration(rng.IntN(1000)),
			LatencyFromSchedule: time.Millisecond + inf,
		}
		r.RTT = r.Upload + r.Server + r.Download
		if st != metrics.OK {
			r.RTT, r.Upload, r.Server, r.Download, r.Inference = 0, 0, 0, 0, 0
		}
		recs[i] = r
	}
	return recs
}

func summaryOf(recs []metrics.Record) *metrics.Summary {
	s := metrics.NewSummary(metrics.SummaryOptions{Period: 10 * time.Millisecond})
	for i := range recs {
		s.Add(&recs[i])
	}
	return s
}

func roundTrip(t *testing.T, s *metrics.Summary) *metrics.Summary {
	t.Helper()
	var buf bytes.Buffer
	if err := metrics.WriteHistograms(&buf, s); err != nil {
		t.Fatal(err)
	}
	back, err := metrics.ReadHistograms(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestMergedHalvesAreTheWhole splits a run in two, stores each half's
// histograms, reads them back and merges them: every count, minimum,
// maximum and percentile equals the whole run's, and means and standard
// deviations agree to rounding.
func TestMergedHalvesAreTheWhole(t *testing.T) {
	recs := halvesRecords(20000)
	whole := summaryOf(recs).Result()
	pooled := roundTrip(t, summaryOf(recs[:7000]))
	pooled.Merge(roundTrip(t, summaryOf(recs[7000:])))
	got := pooled.Result()
	if got.Iterations != whole.Iterations {
		t.Fatalf("counts %+v, want %+v", got.Iterations, whole.Iterations)
	}
	if len(got.Stages) != len(whole.Stages) {
		t.Fatalf("%d stages, want %d", len(got.Stages), len(whole.Stages))
	}
	for i, w := range whole.Stages {
		g := got.Stages[i]
		if g.Name != w.Name || g.Count != w.Count || g.Min != w.Min || g.Max != w.Max ||
			g.P50 != w.P50 || g.P90 != w.P90 || g.P99 != w.P99 {
			t.Errorf("%s: merged %+v, whole %+v", w.Name, g, w)
		}
		if !near(g.Mean, w.Mean) || !near(g.Std, w.Std) {
			t.Errorf("%s: merged mean %g std %g, whole %g %g", w.Name, g.Mean, g.Std, w.Mean, w.Std)
		}
	}
	q1, _ := pooled.Quantile(metrics.StageUpload, 0.999)
	q2, _ := summaryOf(recs).Quantile(metrics.StageUpload, 0.999)
	if q1 != q2 {
		t.Errorf("upload p99.9: merged %g, whole %g", q1, q2)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestReadHistogramsErrors(t *testing.T) {
	good := func() string {
		var buf bytes.Buffer
		if err := metrics.WriteHistograms(&buf, summaryOf(halvesRecords(10))); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}()
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "EOF"},
		{"version", `{"version":2,"iterations":{},"stages":{}}`, "version 2"},
		{"unknown key", `{"version":1,"iterations":{},"stages":{},"x":1}`, `unknown field "x"`},
		{"counts", `{"version":1,"iterations":{"total":3,"ok":1},"stages":{}}`, "!= total 3"},
		{"stage", `{"version":1,"iterations":{},"stages":{"warp":{"unit":"s","count":1,"pos":[[1,1]]}}}`, `unknown stage "warp"`},
		{"unit", `{"version":1,"iterations":{},"stages":{"rtt":{"unit":"B","count":1,"pos":[[1,1]]}}}`, `unit "B"`},
		{"sum", `{"version":1,"iterations":{},"stages":{"rtt":{"unit":"s","count":2,"pos":[[1,1]]}}}`, "hold 1 values, count is 2"},
		{"range", `{"version":1,"iterations":{},"stages":{"rtt":{"unit":"s","count":1,"pos":[[4000000000000000,1]]}}}`, "out of range"},
		{"negative", `{"version":1,"iterations":{},"stages":{"rtt":{"unit":"s","count":1,"pos":[[5,-1]]}}}`, "out of range"},
		{"huge count", `{"version":1,"iterations":{},"stages":{"rtt":{"unit":"s","count":9000000000000000000,"pos":[[5,9000000000000000000]]}}}`, "out of range"},
		{"truncated", good[:len(good)/2], "unexpected EOF"},
	} {
		_, err := metrics.ReadHistograms(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}

// FuzzReadHistograms checks that any input reads without panicking, with
// bounded allocation, and that what reads re-encodes to what reads the
// same.
func FuzzReadHistograms(f *testing.F) {
	var buf bytes.Buffer
	_ = metrics.WriteHistograms(&buf, summaryOf(halvesRecords(50)))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1,"iterations":{"total":1,"ok":1},"stages":{"rtt":{"unit":"s","count":1,"mean":5,"m2":0,"min":5,"max":5,"pos":[[5,1]]}}}`))
	f.Add([]byte(`{"version":1,"iterations":{},"stages":{"upload":{"unit":"s","count":2,"mean":0,"m2":50,"min":-5,"max":5,"pos":[[5,1]],"neg":[[5,1]]}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := metrics.ReadHistograms(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := metrics.WriteHistograms(&out, s); err != nil {
			t.Fatal(err)
		}
		back, err := metrics.ReadHistograms(&out)
		if err != nil {
			t.Fatalf("re-encoded histograms do not read: %v\n%s", err, out.Bytes())
		}
		a, b := s.Result(), back.Result()
		if a.Iterations != b.Iterations || len(a.Stages) != len(b.Stages) {
			t.Fatalf("re-read differs: %+v vs %+v", a, b)
		}
		for i := range a.Stages {
			if a.Stages[i].P99 != b.Stages[i].P99 || a.Stages[i].Count != b.Stages[i].Count {
				t.Fatalf("stage %s re-read differs", a.Stages[i].Name)
			}
		}
	})
}
