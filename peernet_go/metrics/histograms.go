package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HistogramsJSON is the file of a results directory that holds its
// Summary's histograms, so that runs from many machines merge into exact
// pooled percentiles (see Summary.Merge, ReadHistograms).
const HistogramsJSON = "histograms.json"

// histogramsVersion is the version of histograms.json this package writes
// and reads.
const histogramsVersion = 1

// Limits of ReadHistograms: a histograms.json is a few hundred KiB at most
// (three significant digits over the whole range give about 43,000 buckets
// per histogram).
const (
	MaxHistogramsFile = 64 << 20
	maxBuckets        = 1 << 17
	maxTotalCount     = 1 << 62
)

// Merge adds what o holds to s: counts add up, means, variances, minima and
// maxima combine exactly, and the HDR histograms merge bucket by bucket, so
// the percentiles of the result are those of all the records of both (not
// an average of percentiles). s and o must not be the same Summary. When
// the two were made with different sampling periods, the merged late
// counts keep each side's own threshold and the result has no period.
func (s *Summary) Merge(o *Summary) {
	o.mu.Lock()
	other := Summary{opts: o.opts, late: o.late, counts: o.counts}
	for i := range o.stages {
		other.stages[i] = o.stages[i].clone()
	}
	o.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Period != other.opts.Period || s.late != other.late {
		s.opts, s.late = SummaryOptions{}, 0
	}
	c, oc := &s.counts, &other.counts
	c.Total += oc.Total
	c.OK += oc.OK
	c.Lost += oc.Lost
	c.Error += oc.Error
	c.Missed += oc.Missed
	c.Warmup += oc.Warmup
	c.Late += oc.Late
	c.TooLate += oc.TooLate
	for i := range s.stages {
		s.stages[i].merge(&other.stages[i])
	}
}

func (d *dist) clone() dist {
	c := *d
	if d.pos != nil {
		c.pos = hdrhistogram.Import(d.pos.Export())
	}
	if d.neg != nil {
		c.neg = hdrhistogram.Import(d.neg.Export())
	}
	return c
}

// merge adds o to d (Chan et al.'s pairwise update of mean and variance).
func (d *dist) merge(o *dist) {
	if o.n == 0 {
		return
	}
	if d.n == 0 {
		highest := d.highest
		*d = o.clone()
		d.highest = highest
		return
	}
	n := d.n + o.n
	delta := o.mean - d.mean
	d.mean += delta * float64(o.n) / float64(n)
	d.m2 += o.m2 + delta*delta*float64(d.n)*float64(o.n)/float64(n)
	d.n = n
	d.min, d.max = math.Min(d.min, o.min), math.Max(d.max, o.max)
	for _, pair := range [2][2]**hdrhistogram.Histogram{{&d.pos, &o.pos}, {&d.neg, &o.neg}} {
		dst, src := pair[0], *pair[1]
		if src == nil {
			continue
		}
		if *dst == nil {
			*dst = hdrhistogram.New(1, d.highest, histSigFigs)
		}
		(*dst).Merge(src)
	}
}

// jsonHistograms is histograms.json.
type jsonHistograms struct {
	Version       int                   `json:"version"`
	Iterations    Counts                `json:"iterations"`
	Period        int64                 `json:"period-ns,omitempty"`
	LateThreshold int64                 `json:"late-threshold-ns,omitempty"`
	Stages        map[string]*jsonStage `json:"stages"`
}

// jsonStage is one stage's distribution: its exact moments and, in base
// units (ns, bytes, bit/s, packets), the non-empty buckets of its HDR
// histograms as [value, count] pairs, the value being the lowest of its
// bucket — recording each pair again rebuilds the same histogram.
type jsonStage struct {
	Unit  Unit       `json:"unit"`
	Count int64      `json:"count"`
	Mean  float64    `json:"mean"`
	M2    float64    `json:"m2"`
	Min   float64    `json:"min"`
	Max   float64    `json:"max"`
	Pos   [][2]int64 `json:"pos,omitempty"`
	Neg   [][2]int64 `json:"neg,omitempty"`
}

func buckets(h *hdrhistogram.Histogram) [][2]int64 {
	if h == nil {
		return nil
	}
	var out [][2]int64
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			out = append(out, [2]int64{b.From, b.Count})
		}
	}
	return out
}

// WriteHistograms writes s as histograms.json: the outcome counts, the
// sampling period, and each stage's exact count, mean, second moment,
// minimum and maximum with the buckets of its HDR histograms.
func WriteHistograms(w io.Writer, s *Summary) error {
	s.mu.Lock()
	js := jsonHistograms{Version: histogramsVersion, Iterations: s.counts, Stages: map[string]*jsonStage{}}
	if s.opts.Period > 0 {
		js.Period, js.LateThreshold = int64(s.opts.Period), int64(s.late)
	}
	for i := range stageDefs {
		d := &s.stages[i]
		if d.n == 0 {
			continue
		}
		js.Stages[stageDefs[i].name()] = &jsonStage{
			Unit: stageDefs[i].unit(), Count: d.n, Mean: d.mean, M2: d.m2, Min: d.min, Max: d.max,
			Pos: buckets(d.pos), Neg: buckets(d.neg),
		}
	}
	s.mu.Unlock()
	b, err := json.Marshal(js)
	if err != nil {
		return fmt.Errorf("metrics: encoding %s: %w", HistogramsJSON, err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("metrics: writing %s: %w", HistogramsJSON, err)
	}
	return nil
}

// ReadHistograms reads a histograms.json written by WriteHistograms into a
// Summary that merges (see Summary.Merge). Input is bounded: at most
// MaxHistogramsFile bytes, a bounded number of buckets, values within each
// unit's range, and counts that agree with each other.
func ReadHistograms(r io.Reader) (*Summary, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxHistogramsFile+1))
	if err != nil {
		return nil, fmt.Errorf("metrics: reading %s: %w", HistogramsJSON, err)
	}
	if len(b) > MaxHistogramsFile {
		return nil, fmt.Errorf("metrics: %s is larger than %d bytes", HistogramsJSON, MaxHistogramsFile)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var js jsonHistograms
	if err := dec.Decode(&js); err != nil {
		return nil, fmt.Errorf("metrics: %s: %w", HistogramsJSON, err)
	}
	if js.Version != histogramsVersion {
		return nil, fmt.Errorf("metrics: %s: version %d, want %d", HistogramsJSON, js.Version, histogramsVersion)
	}
	if js.Period < 0 || js.LateThreshold < 0 {
		return nil, fmt.Errorf("metrics: %s: negative period", HistogramsJSON)
	}
	if err := js.Iterations.check(); err != nil {
		return nil, fmt.Errorf("metrics: %s: iterations: %w", HistogramsJSON, err)
	}
	s := NewSummary(SummaryOptions{Period: time.Duration(js.Period), Late: time.Duration(js.LateThreshold)})
	s.counts = js.Iterations
	for name, st := range js.Stages {
		i := stageIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("metrics: %s: unknown stage %q", HistogramsJSON, name)
		}
		if st == nil {
			continue
		}
		if err := s.stages[i].load(st, stageDefs[i].unit()); err != nil {
			return nil, fmt.Errorf("metrics: %s: stage %s: %w", HistogramsJSON, name, err)
		}
	}
	return s, nil
}

func (c *Counts) check() error {
	for _, v := range []int64{c.Total, c.OK, c.Lost, c.Error, c.Missed, c.Warmup, c.Late, c.TooLate} {
		if v < 0 || v > maxTotalCount {
			return fmt.Errorf("count %d out of range", v)
		}
	}
	if c.OK+c.Lost+c.Error+c.Missed+c.Warmup != c.Total {
		return fmt.Errorf("ok %d + lost %d + error %d + missed %d + warmup %d != total %d",
			c.OK, c.Lost, c.Error, c.Missed, c.Warmup, c.Total)
	}
	return nil
}

// load fills an empty dist from st.
func (d *dist) load(st *jsonStage, unit Unit) error {
	switch {
	case st.Unit != unit:
		return fmt.Errorf("unit %q, want %q", st.Unit, unit)
	case st.Count <= 0 || st.Count > maxTotalCount:
		return fmt.Errorf("count %d out of range", st.Count)
	case len(st.Pos)+len(st.Neg) > maxBuckets:
		return fmt.Errorf("%d buckets, more than %d", len(st.Pos)+len(st.Neg), maxBuckets)
	case !finite(st.Mean, st.M2, st.Min, st.Max) || st.M2 < 0 || st.Min > st.Max:
		return errors.New("bad moments")
	}
	var total int64
	for _, side := range []struct {
		pairs [][2]int64
		h     **hdrhistogram.Histogram
	}{{st.Pos, &d.pos}, {st.Neg, &d.neg}} {
		for _, p := range side.pairs {
			v, c := p[0], p[1]
			if v < 0 || v > d.highest || c <= 0 || c > maxTotalCount-total {
				return fmt.Errorf("bucket [%d, %d] out of range", v, c)
			}
			if *side.h == nil {
				*side.h = hdrhistogram.New(1, d.highest, histSigFigs)
			}
			if err := (*side.h).RecordValues(v, c); err != nil {
				return fmt.Errorf("bucket [%d, %d]: %w", v, c, err)
			}
			total += c
		}
	}
	if total != st.Count {
		return fmt.Errorf("buckets hold %d values, count is %d", total, st.Count)
	}
	d.n, d.mean, d.m2, d.min, d.max = st.Count, st.Mean, st.M2, st.Min, st.Max
	return nil
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
