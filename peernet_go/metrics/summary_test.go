package metrics_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// refStats computes the statistics exactly from all values (in seconds for
// durations), with HDR's rank rule for percentiles.
func refStats(vals []float64) (mean, std, lo, hi float64, q func(float64) float64) {
	s := slices.Clone(vals)
	slices.Sort(s)
	for _, v := range s {
		mean += v
	}
	mean /= float64(len(s))
	for _, v := range s {
		std += (v - mean) * (v - mean)
	}
	std = math.Sqrt(std / float64(len(s)))
	q = func(p float64) float64 {
		rank := int(p*float64(len(s)) + 0.5)
		rank = min(max(rank, 1), len(s))
		return s[rank-1]
	}
	return mean, std, s[0], s[len(s)-1], q
}

func closeRel(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)+abs
}

func checkStage(t *testing.T, st metrics.StageStats, vals []float64) {
	t.Helper()
	mean, std, lo, hi, q := refStats(vals)
	if st.Count != int64(len(vals)) {
		t.Errorf("%s: count %d, want %d", st.Name, st.Count, len(vals))
	}
	if !closeRel(st.Mean, mean, 1e-9, 1e-15) || !closeRel(st.Std, std, 1e-6, 1e-15) {
		t.Errorf("%s: mean %g std %g, want %g %g", st.Name, st.Mean, st.Std, mean, std)
	}
	if st.Min != lo || st.Max != hi {
		t.Errorf("%s: min %g max %g, want exactly %g %g", st.Name, st.Min, st.Max, lo, hi)
	}
	// Three significant digits: within 0.1 %, plus 1 ns of rounding.
	for _, p := range []struct {
		got, q float64
	}{{st.P50, 0.5}, {st.P90, 0.9}, {st.P99, 0.99}} {
		if want := q(p.q); !closeRel(p.got, want, 1e-3, 1e-9) {
			t.Errorf("%s: p%g = %.9g, want %.9g (±0.1 %%)", st.Name, p.q*100, p.got, want)
		}
	}
}

func TestSummaryMatchesExactStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := metrics.NewSummary(metrics.SummaryOptions{})
	var upload, rtt, ubytes, tput []float64
	for i := range 20000 {
		r := okRecord(i)
		// One-way upload under a clock error: mostly negative, some
		// positive, with a long tail.
		r.Upload = time.Duration(-3e6 + rng.ExpFloat64()*2e6)
		r.RTT = time.Duration(50e3 + rng.ExpFloat64()*400e3)
		r.UploadBytes = int64(64 + rng.IntN(1<<20))
		s.Add(&r)
		upload = append(upload, r.Upload.Seconds())
		rtt = append(rtt, r.RTT.Seconds())
		ubytes = append(ubytes, float64(r.UploadBytes))
		if r.Upload > 0 {
			tput = append(tput, metrics.Throughput(r.UploadBytes, r.Upload))
		}
	}
	res := s.Result()
	for _, c := range []struct {
		name string
		vals []float64
	}{{"upload", upload}, {"rtt", rtt}, {"upload-bytes", ubytes}, {"upload-throughput", tput}} {
		st, ok := res.Stage(c.name)
		if !ok {
			t.Fatalf("no %s stage", c.name)
		}
		checkStage(t, st, c.vals)
	}
	if neg := slices.IndexFunc(upload, func(v float64) bool { return v >= 0 }); neg < 0 {
		t.Fatal("test data has no positive upload")
	}
}

func TestSummaryNegativeOnly(t *testing.T) {
	// assume-synced with a 250 ms skew: every upload is about -250 ms.
	s := metrics.NewSummary(metrics.SummaryOptions{})
	var vals []float64
	for i := range 1000 {
		r := okRecord(i)
		r.Upload = -250*time.Millisecond + time.Duration(i)*time.Microsecond
		s.Add(&r)
		vals = append(vals, r.Upload.Seconds())
	}
	res := s.Result()
	st, _ := res.Stage("upload")
	checkStage(t, st, vals)
	if st.P50 > -0.249 || st.P50 < -0.250 || st.P99 > st.Max || st.P50 > st.P90 || st.P90 > st.P99 {
		t.Fatalf("negative percentiles out of order: %+v", st)
	}
}

func TestSummaryCountsAndExclusions(t *testing.T) {
	period := 10 * time.Millisecond // late beyond 2 ms, too late beyond 10 ms
	s := metrics.NewSummary(metrics.SummaryOptions{Period: period})
	add := func(r metrics.Record) { s.Add(&r) }
	warm := okRecord(0)
	warm.Warmup, warm.Upload = true, time.Hour
	add(warm)
	add(okRecord(1))
	lost := metrics.Record{Iteration: 2, Status: metrics.Lost, Sensing: time.Millisecond, UploadBytes: 10, Lag: 3 * time.Millisecond}
	add(lost)
	failedSensor := metrics.Record{Iteration: 3, Status: metrics.Error, Sensing: 2 * time.Millisecond, Lag: 11 * time.Millisecond}
	add(failedSensor)
	serverErr := okRecord(4)
	serverErr.Status = metrics.Error
	serverErr.Lag = 2 * time.Millisecond // exactly the threshold: not late
	add(serverErr)

	res := s.Result()
	want := metrics.Counts{Total: 5, OK: 1, Lost: 1, Error: 2, Warmup: 1, Late: 1, TooLate: 1}
	if res.Iterations != want {
		t.Fatalf("counts %+v, want %+v", res.Iterations, want)
	}
	if res.Period != period || res.LateThreshold != 2*time.Millisecond {
		t.Fatalf("period %v threshold %v", res.Period, res.LateThreshold)
	}
	counts := map[string]int64{}
	for _, st := range res.Stages {
		counts[st.Name] = st.Count
	}
	// sensing: every measured iteration; upload: the two replies (OK and
	// the server's error); upload-bytes: also the lost request; lag: all.
	wantCounts := map[string]int64{
		"sensing": 4, "upload": 2, "rtt": 2, "upload-bytes": 3, "download-bytes": 2, "lag": 4,
		"upload-throughput": 2, "download-throughput": 2, "header-age": 0,
	}
	for name, n := range wantCounts {
		if counts[name] != n {
			t.Errorf("%s: count %d, want %d", name, counts[name], n)
		}
	}
	for _, name := range []string{"header-age", "upload-packets", "download-packets"} {
		if _, ok := res.Stage(name); ok {
			t.Errorf("empty stage %s listed", name)
		}
	}
	if st, _ := res.Stage("upload"); st.Max > 0.01 {
		t.Errorf("warmup upload leaked into the stats: max %v", st.Max)
	}

	// Without a period, lag is not a stage and nothing is late.
	s2 := metrics.NewSummary(metrics.SummaryOptions{})
	s2.Add(&lost)
	res2 := s2.Result()
	if _, ok := res2.Stage("lag"); ok || res2.Iterations.Late != 0 || res2.Iterations.TooLate != 0 {
		t.Fatalf("lag summarised without a period: %+v", res2)
	}
	if d := (metrics.SummaryOptions{Period: time.Second}).LateThreshold(); d != 5*time.Millisecond {
		t.Fatalf("late threshold for 1 s: %v, want 5ms", d)
	}
}

// Packet counts are summarised only where the transport counts them: upload
// packets for every request sent, download packets for replies.
func TestSummaryPackets(t *testing.T) {
	s := metrics.NewSummary(metrics.SummaryOptions{})
	var up, down []float64
	for i := range 200 {
		r := okRecord(i)
		r.UploadPackets, r.DownloadPackets = int64(1+i%45), int64(1+i%2)
		switch i % 50 {
		case 3: // lost, with part of a fragmented reply received
			r = metrics.Record{Iteration: i, Status: metrics.Lost, UploadBytes: 64000, UploadPackets: 44, DownloadPackets: 1}
		case 4: // not counted
			r.UploadPackets, r.DownloadPackets = 0, 0
		}
		s.Add(&r)
		if r.UploadPackets > 0 {
			up = append(up, float64(r.UploadPackets))
		}
		if r.Replied() && r.DownloadPackets > 0 {
			down = append(down, float64(r.DownloadPackets))
		}
	}
	res := s.Result()
	for _, c := range []struct {
		name string
		vals []float64
	}{{metrics.StageUploadPackets, up}, {metrics.StageDownloadPackets, down}} {
		st, ok := res.Stage(c.name)
		if !ok {
			t.Fatalf("no %s stage", c.name)
		}
		if st.Unit != metrics.Packets {
			t.Errorf("%s unit %q, want %q", c.name, st.Unit, metrics.Packets)
		}
		// Means and deviations are rounded to a thousandth of a packet;
		// small counts sit in exact histogram buckets.
		mean, std, lo, hi, q := refStats(c.vals)
		if st.Count != int64(len(c.vals)) || st.Min != lo || st.Max != hi ||
			math.Abs(st.Mean-mean) > 5e-4 || math.Abs(st.Std-std) > 5e-4 ||
			st.P50 != q(0.5) || st.P90 != q(0.9) || st.P99 != q(0.99) {
			t.Errorf("%s: %+v\nwant count %d mean %g std %g min %g p50 %g p90 %g p99 %g max %g", c.name, st,
				len(c.vals), mean, std, lo, q(0.5), q(0.9), q(0.99), hi)
		}
	}
	if n := len(up); n != 196 {
		t.Fatalf("test data has %d upload counts, want 196", n)
	}
	if n := len(down); n != 192 {
		t.Fatalf("test data has %d download counts, want 192", n)
	}
	names := metrics.StageNames()
	if i, j := slices.Index(names, "download-bytes"), slices.Index(names, "upload-packets"); i < 0 || j != i+1 ||
		names[j+1] != "download-packets" {
		t.Fatalf("stage order %v", names)
	}
}

func TestSummaryBeyondHistogramRange(t *testing.T) {
	s := metrics.NewSummary(metrics.SummaryOptions{})
	r := okRecord(0)
	r.Server = 3 * time.Hour
	s.Add(&r)
	st, _ := s.Result().Stage("server")
	if st.Max != (3*time.Hour).Seconds() || st.P99 != st.Max || st.P50 != st.Max {
		t.Fatalf("a 3 h value: %+v", st)
	}
}

func TestSummaryBins(t *testing.T) {
	s := metrics.NewSummary(metrics.SummaryOptions{})
	for i := range 1000 {
		r := okRecord(i)
		r.Upload = time.Duration(i-500) * time.Millisecond // -0.5 s … 0.499 s
		s.Add(&r)
	}
	bins, err := s.Bins("upload", -0.5, 0.5, 10)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i, c := range bins {
		total += c
		if c < 95 || c > 105 {
			t.Errorf("bin %d holds %d values, want about 100", i, c)
		}
	}
	if total != 1000 {
		t.Fatalf("bins hold %d values, want 1000", total)
	}
	if _, err := s.Bins("nope", 0, 1, 10); err == nil {
		t.Fatal("unknown stage accepted")
	}
	if _, err := s.Bins("upload", 1, 0, 10); err == nil {
		t.Fatal("hi < lo accepted")
	}
	if v, ok := s.Quantile("upload", 0.5); !ok || math.Abs(v) > 0.002 {
		t.Fatalf("median upload %v %v", v, ok)
	}
}

// The summary of records read back from data.csv is the summary of the
// records themselves: data.csv carries everything the summary uses.
func TestSummaryFromCSVMatchesLive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	opts := metrics.SummaryOptions{Period: 20 * time.Millisecond}
	live := metrics.NewSummary(opts)
	var buf bytes.Buffer
	w := metrics.NewCSVWriter(&buf)
	sink := metrics.Multi(live, w)
	for i := range 3000 {
		r := okRecord(i)
		r.Warmup = i < 10
		r.Upload = time.Duration(rng.NormFloat64() * 1e6)
		r.Download = time.Duration(rng.ExpFloat64() * 1e6)
		r.Lag = time.Duration(rng.ExpFloat64() * 3e6)
		if i%2 == 0 { // half the run on a transport that counts packets
			r.UploadPackets, r.DownloadPackets = int64(1+rng.IntN(50)), int64(1+rng.IntN(3))
		}
		switch rng.IntN(20) {
		case 0:
			r = metrics.Record{Iteration: i, Status: metrics.Lost, Sensing: time.Microsecond, UploadBytes: 99, T0: 1,
				UploadPackets: int64(rng.IntN(2)), DownloadPackets: int64(rng.IntN(2))}
		case 1:
			r.Status = metrics.Error
		case 2:
			r.HeaderAge, r.HasHeaderAge = time.Duration(rng.NormFloat64()*1e7), true
		}
		if err := sink.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	back := metrics.NewSummary(opts)
	for rec, err := range metrics.ReadCSV(&buf) {
		if err != nil {
			t.Fatal(err)
		}
		back.Add(rec)
	}
	a, b := live.Result(), back.Result()
	if a.Iterations != b.Iterations || len(a.Stages) != len(b.Stages) {
		t.Fatalf("live %+v\n csv %+v", a, b)
	}
	for i := range a.Stages {
		x, y := a.Stages[i], b.Stages[i]
		if x.Name != y.Name || x.Count != y.Count || x.Min != y.Min || x.P50 != y.P50 || x.P99 != y.P99 ||
			!closeRel(y.Mean, x.Mean, 1e-12, 0) || !closeRel(y.Max, x.Max, 1e-12, 0) {
			t.Errorf("stage %s: live %+v, csv %+v", x.Name, x, y)
		}
	}
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestSummaryMemoryIsFlat(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 200_000
	}
	rng := rand.New(rand.NewPCG(5, 6))
	s := metrics.NewSummary(metrics.SummaryOptions{Period: time.Millisecond})
	r := okRecord(0)
	add := func(i int) {
		r.Iteration = i
		r.Upload = time.Duration(rng.NormFloat64() * 1e6)
		r.RTT = time.Duration(rng.ExpFloat64() * 1e6)
		r.Lag = time.Duration(rng.ExpFloat64() * 1e5)
		r.UploadBytes = int64(rng.IntN(1 << 20))
		s.Add(&r)
	}
	for i := range 10_000 {
		add(i)
	}
	before := heapAfterGC()
	for i := 10_000; i < n; i++ {
		add(i)
	}
	after := heapAfterGC()
	grew := int64(after) - int64(before)
	t.Logf("heap after 10k adds: %d KiB; after %d: %d KiB", before>>10, n, after>>10)
	if grew > 64<<10 {
		t.Fatalf("heap grew by %d KiB from 10k to %d adds", grew>>10, n)
	}
	if got := s.Counts().Total; got != int64(n) {
		t.Fatalf("total %d", got)
	}
	runtime.KeepAlive(s)
}
