package metrics

import (
	"fmt"
	"math"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Unit is the unit a stage's statistics are in.
type Unit string

// Units of stage statistics.
const (
	Seconds       Unit = "s"
	Bytes         Unit = "B"
	BitsPerSecond Unit = "bit/s"
	Packets       Unit = "packets"
)

// Stage names, as in data.csv and summary.json.
const (
	StageSensing        = "sensing"
	StageUpload         = "upload"
	StageQueue          = "queue"
	StagePreprocessing  = "preprocessing"
	StageInference      = "inference"
	StagePostprocessing = "postprocessing"
	StageServer         = "server"
	StageDownload       = "download"
	StageRTT            = "rtt"
	// StageLatencyFromSchedule is the time from an iteration's scheduled
	// start to its reply (with a fixed rate; see
	// Record.LatencyFromSchedule).
	StageLatencyFromSchedule = "latency-from-schedule"
	StageUploadThroughput    = "upload-throughput"
	StageDownloadThroughput  = "download-throughput"
	StageUploadBytes         = "upload-bytes"
	StageDownloadBytes       = "download-bytes"
	StageUploadPackets       = "upload-packets"
	StageDownloadPackets     = "download-packets"
	StageHeaderAge           = "header-age"
	StageLag                 = "lag"
)

// stageDef says how the summary reads one stage: a column of the record
// schema, in its base unit (nanoseconds, bytes, bit/s or packets), and,
// where the summary's rule differs from the column's, when a record has a
// value for it.
type stageDef struct {
	col   int
	known func(r *Record, hasPeriod bool) bool // nil: the column's own rule
}

const numStages = 18

// stageDefs lists the stages in summary order: the loop's own order, not
// data.csv's.
var stageDefs = [numStages]stageDef{
	{col: colSensing},
	{col: colUpload},
	{col: colQueue},
	{col: colPreprocessing},
	{col: colInference},
	{col: colPostprocessing},
	{col: colServer},
	{col: colDownload},
	{col: colRTT},
	{col: colLatencyFromSchedule},
	{col: colUploadThroughput, known: func(r *Record, _ bool) bool { return r.Replied() && r.Upload > 0 }},
	{col: colDownloadThroughput, known: func(r *Record, _ bool) bool { return r.Replied() && r.Download > 0 }},
	{col: colUploadBytes, known: func(r *Record, _ bool) bool { return r.UploadBytes > 0 || r.Replied() }},
	{col: colDownloadBytes},
	// Packets are counted only by transports that fragment (udp); a zero
	// count means not counted, so that other runs do not list these stages.
	{col: colUploadPackets, known: func(r *Record, _ bool) bool { return r.UploadPackets > 0 }},
	{col: colDownloadPackets, known: func(r *Record, _ bool) bool { return r.DownloadPackets > 0 && r.Replied() }},
	{col: colHeaderAge},
	{col: colLag, known: func(_ *Record, hasPeriod bool) bool { return hasPeriod }},
}

func (d *stageDef) name() string { return columns[d.col].name }
func (d *stageDef) unit() Unit   { return columns[d.col].unit }

// get returns r's value of the stage, in base units, and whether r has one.
// A missed slot has only a latency from its schedule.
func (d *stageDef) get(r *Record, hasPeriod bool) (float64, bool) {
	c := &columns[d.col]
	if r.Status == Missed && d.col != colLatencyFromSchedule {
		return 0, false
	}
	if d.known != nil {
		if !d.known(r, hasPeriod) {
			return 0, false
		}
	} else if !c.isKnown(r) {
		return 0, false
	}
	switch c.kind {
	case kindSeconds:
		return float64(*c.dur(r)), true
	case kindCount:
		return float64(*c.cnt(r)), true
	case kindRate:
		n, dur := c.rate(r)
		return Throughput(n, dur), true
	}
	return 0, false
}

// StageNames returns the names of the stages a Summary keeps, in summary
// order.
func StageNames() []string {
	names := make([]string, len(stageDefs))
	for i := range stageDefs {
		names[i] = stageDefs[i].name()
	}
	return names
}

// Histogram ranges, in base units. Values beyond them are still counted
// and their mean, min and max stay exact; only percentiles saturate.
const (
	histSigFigs      = 3
	maxHistNanos     = int64(time.Hour)
	maxHistBytes     = int64(1) << 40
	maxHistBitsPerS  = int64(1e13)
	defaultLateLimit = 5 * time.Millisecond
)

func histMax(u Unit) int64 {
	switch u {
	case Bytes, Packets: // a frame takes no more datagrams than bytes
		return maxHistBytes
	case BitsPerSecond:
		return maxHistBitsPerS
	}
	return maxHistNanos
}

// dist is one stage's distribution: exact count, mean and variance
// (Welford), min and max, plus HDR histograms for percentiles. HDR records
// only non-negative integers, so negative values (one-way delays under a
// clock error) go to a second histogram as magnitudes; together the two give
// every rank.
type dist struct {
	n        int64
	mean, m2 float64
	min, max float64
	highest  int64
	pos, neg *hdrhistogram.Histogram // made on first use
}

func (d *dist) add(v float64) {
	d.n++
	if d.n == 1 {
		d.min, d.max = v, v
	} else {
		d.min, d.max = math.Min(d.min, v), math.Max(d.max, v)
	}
	delta := v - d.mean
	d.mean += delta / float64(d.n)
	d.m2 += delta * (v - d.mean)

	iv := math.Round(v)
	h := &d.pos
	if iv < 0 {
		iv, h = -iv, &d.neg
	}
	mag := d.highest
	if iv < float64(d.highest) {
		mag = int64(iv)
	}
	if *h == nil {
		*h = hdrhistogram.New(1, d.highest, histSigFigs)
	}
	_ = (*h).RecordValue(mag) // in range by construction
}

func count(h *hdrhistogram.Histogram) int64 {
	if h == nil {
		return 0
	}
	return h.TotalCount()
}

// quantile returns the value at quantile q in [0, 1], with HDR's rank rule
// (rank = q·n rounded, at least 1), within 0.1 % (three significant
// digits), clamped to the exact min and max.
func (d *dist) quantile(q float64) float64 {
	if d.n == 0 {
		return math.NaN()
	}
	nNeg, nPos := count(d.neg), count(d.pos)
	total := nNeg + nPos
	rank := int64(q*float64(total) + 0.5)
	rank = min(max(rank, 1), total)
	var v float64
	if rank <= nNeg {
		// The rank-th smallest value is the (nNeg-rank+1)-th smallest
		// magnitude among the negatives, negated.
		v = -float64(valueAtRank(d.neg, nNeg-rank+1))
	} else {
		v = float64(valueAtRank(d.pos, rank-nNeg))
	}
	return min(max(v, d.min), d.max)
}

// valueAtRank returns the value of h's rank-th smallest entry (1-based).
func valueAtRank(h *hdrhistogram.Histogram, rank int64) int64 {
	return h.ValueAtPercentile(100 * float64(rank) / float64(h.TotalCount()))
}

// SummaryOptions configures a Summary.
type SummaryOptions struct {
	// Period is the sampling period (1/--rate). When positive, lag is
	// summarised and late iterations are counted. The default, zero, means
	// sampling as fast as possible: no lag, nothing late.
	Period time.Duration
	// Late is how far behind schedule an iteration must start to count as
	// late. The default is min(Period/5, 5 ms).
	Late time.Duration
}

// LateThreshold returns the Late option, or its default for the Period.
func (o SummaryOptions) LateThreshold() time.Duration {
	if o.Late > 0 {
		return o.Late
	}
	return min(o.Period/5, defaultLateLimit)
}

// Counts are a run's iteration outcomes. Warmup iterations count in Total
// and Warmup only, so Total = Warmup + OK + Lost + Error + Missed: with a
// fixed rate, every scheduled slot is counted once.
type Counts struct {
	// Total is every iteration recorded.
	Total int64 `json:"total"`
	// OK, Lost, Error and Missed count the measured (non-warmup)
	// iterations by Status.
	OK     int64 `json:"ok"`
	Lost   int64 `json:"lost"`
	Error  int64 `json:"error"`
	Missed int64 `json:"missed"`
	// Warmup counts the iterations left out of the statistics.
	Warmup int64 `json:"warmup"`
	// Late counts measured iterations that started more than the late
	// threshold but at most one period behind schedule; TooLate those more
	// than a period behind. Both are zero without a sampling period.
	Late    int64 `json:"late"`
	TooLate int64 `json:"too-late"`
}

// StageStats are one stage's statistics, in Unit.
type StageStats struct {
	// Name is the stage name (StageSensing, …).
	Name string `json:"-"`
	// Unit is seconds, bytes, bit/s or packets.
	Unit Unit `json:"unit"`
	// Count is the number of values.
	Count int64 `json:"count"`
	// Mean, Std (population standard deviation), Min and Max are exact;
	// the percentiles are within 0.1 %.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Result is a Summary's statistics at one moment.
type Result struct {
	// Iterations counts outcomes.
	Iterations Counts
	// Period and LateThreshold are the options late iterations were
	// counted with (zero without a sampling period).
	Period, LateThreshold time.Duration
	// Stages holds the stages that have at least one value, in summary
	// order (see StageNames).
	Stages []StageStats
}

// Stage returns the statistics of the named stage.
func (r Result) Stage(name string) (StageStats, bool) {
	for _, s := range r.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return StageStats{}, false
}

// Summary is a Sink that keeps per-stage statistics of the records written to
// it, excluding warmup iterations, and counts outcomes. Its memory is fixed
// however many records it sees: percentiles come from HDR histograms (1 ns
// to 1 h, 1 B to 1 TiB, 1 to 2⁴⁰ packets, 1 bit/s to 10 Tbit/s; three
// significant digits), and count, mean, standard deviation, min and max are
// kept exactly beside them. Negative durations (one-way delays under an uncorrected clock
// offset) are kept correctly. It is safe for concurrent use.
type Summary struct {
	mu     sync.Mutex
	opts   SummaryOptions
	late   time.Duration
	counts Counts
	stages [numStages]dist
}

var _ Sink = (*Summary)(nil)

// NewSummary returns an empty Summary.
func NewSummary(o SummaryOptions) *Summary {
	s := &Summary{opts: o, late: o.LateThreshold()}
	for i := range stageDefs {
		s.stages[i].highest = histMax(stageDefs[i].unit())
	}
	return s
}

// Add accounts for one record.
func (s *Summary) Add(r *Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Add(r, s.opts.Period, s.late)
	if r.Warmup {
		return
	}
	for i := range stageDefs {
		if v, ok := stageDefs[i].get(r, s.opts.Period > 0); ok {
			s.stages[i].add(v)
		}
	}
}

// Add counts r as a Summary does: warm-up iterations only in Total and
// Warmup; the others by status and, with a sampling period, as late when
// they started more than late behind schedule (too late when more than the
// period).
func (c *Counts) Add(r *Record, period, late time.Duration) {
	c.Total++
	if r.Warmup {
		c.Warmup++
		return
	}
	switch r.Status {
	case OK:
		c.OK++
	case Lost:
		c.Lost++
	case Missed:
		c.Missed++
	default:
		c.Error++
	}
	if period > 0 && r.Status != Missed {
		switch {
		case r.Lag > period:
			c.TooLate++
		case r.Lag > late:
			c.Late++
		}
	}
}

// EachStage calls f with every stage value of r that a Summary adds, in
// summary order, in the stage's unit (seconds for durations). hasPeriod
// says whether the run has a sampling period (the lag stage is known only
// then). Warm-up records are not skipped here: the caller decides.
func EachStage(r *Record, hasPeriod bool, f func(name string, unit Unit, v float64)) {
	for i := range stageDefs {
		if v, ok := stageDefs[i].get(r, hasPeriod); ok {
			f(stageDefs[i].name(), stageDefs[i].unit(), toUnit(v, stageDefs[i].unit()))
		}
	}
}

// Write is Add, as a Sink.
func (s *Summary) Write(r *Record) error { s.Add(r); return nil }

// Close does nothing; the Summary stays readable.
func (s *Summary) Close() error { return nil }

// Counts returns the outcome counts so far.
func (s *Summary) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

func scale(u Unit) float64 {
	if u == Seconds {
		return 1e-9
	}
	return 1
}

// toUnit converts a base-unit value; durations convert as
// time.Duration.Seconds does, so that a min or max equals the record's own
// Seconds() exactly.
func toUnit(v float64, u Unit) float64 {
	if u == Seconds && math.Abs(v) < math.MaxInt64 {
		return time.Duration(v).Seconds()
	}
	return v * scale(u)
}

// roundStat converts a mean or standard deviation from base units, rounded
// to a thousandth of a base unit (a picosecond for durations) so that float
// noise does not show.
func roundStat(v float64, u Unit) float64 {
	v = math.Round(v*1000) / 1000
	if u == Seconds {
		return v / 1e9
	}
	return v
}

// Result returns the statistics so far.
func (s *Summary) Result() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := Result{Iterations: s.counts}
	if s.opts.Period > 0 {
		res.Period, res.LateThreshold = s.opts.Period, s.late
	}
	for i := range stageDefs {
		d := &s.stages[i]
		if d.n == 0 {
			continue
		}
		name, unit := stageDefs[i].name(), stageDefs[i].unit()
		res.Stages = append(res.Stages, StageStats{
			Name: name, Unit: unit, Count: d.n,
			Mean: roundStat(d.mean, unit), Std: roundStat(math.Sqrt(max(d.m2, 0)/float64(d.n)), unit),
			Min: toUnit(d.min, unit), Max: toUnit(d.max, unit),
			P50: toUnit(d.quantile(0.50), unit),
			P90: toUnit(d.quantile(0.90), unit),
			P99: toUnit(d.quantile(0.99), unit),
		})
	}
	return res
}

func stageIndex(name string) int {
	for i := range stageDefs {
		if stageDefs[i].name() == name {
			return i
		}
	}
	return -1
}

// Quantile returns the named stage's value at quantile q in [0, 1], in the
// stage's unit; ok is false for an unknown or empty stage.
func (s *Summary) Quantile(stage string, q float64) (v float64, ok bool) {
	i := stageIndex(stage)
	if i < 0 {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.stages[i]
	if d.n == 0 {
		return 0, false
	}
	return toUnit(d.quantile(q), stageDefs[i].unit()), true
}

// Bins spreads the named stage's values over n equal-width bins from lo to
// hi, in the stage's unit, for a histogram plot: counts[i] holds the values
// in [lo + i·w, lo + (i+1)·w) with w = (hi−lo)/n, the last bin including hi.
// Values outside [lo, hi] are left out. Each value is placed by the middle
// of its HDR bucket, so a value can land one bin off when a bucket (0.1 %
// wide) straddles a bin edge.
func (s *Summary) Bins(stage string, lo, hi float64, n int) ([]int64, error) {
	i := stageIndex(stage)
	if i < 0 {
		return nil, fmt.Errorf("metrics: unknown stage %q", stage)
	}
	if n <= 0 || !(hi >= lo) || math.IsInf(hi-lo, 0) {
		return nil, fmt.Errorf("metrics: bins for %q: want n > 0 and lo ≤ hi, got n=%d [%g, %g]", stage, n, lo, hi)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := make([]int64, n)
	k := scale(stageDefs[i].unit())
	w := (hi - lo) / float64(n)
	place := func(v float64, c int64) {
		if v < lo || v > hi || c == 0 {
			return
		}
		b := n - 1
		if w > 0 {
			b = min(int((v-lo)/w), n-1)
		}
		counts[b] += c
	}
	d := &s.stages[i]
	for _, sign := range [2]float64{1, -1} {
		h := d.pos
		if sign < 0 {
			h = d.neg
		}
		if h == nil {
			continue
		}
		for _, bar := range h.Distribution() {
			mid := float64(bar.From) + float64(bar.To-bar.From)/2
			v := min(max(sign*mid*k, d.min*k), d.max*k)
			place(v, bar.Count)
		}
	}
	return counts, nil
}
