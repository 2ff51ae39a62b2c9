// Package stats holds the statistics the reports draw and compare with:
// Largest-Triangle-Three-Buckets downsampling of a time series, quantiles
// of sorted samples, and seeded bootstrap confidence intervals for the
// difference of a quantile between two samples.
package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// LTTB downsamples the series (x[i], y[i]), x ascending, to at most n
// points with Steinarsson's Largest-Triangle-Three-Buckets: the first and
// last points are kept, and from each of n−2 equal buckets between them
// the point that forms the largest triangle with the point kept before it
// and the mean of the next bucket. It returns the indexes of the points
// kept, ascending; every index when n ≥ len(x) or n < 3.
func LTTB(x, y []float64, n int) []int {
	m := min(len(x), len(y))
	if n >= m || n < 3 {
		idx := make([]int, m)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	out := make([]int, 0, n)
	out = append(out, 0)
	every := float64(m-2) / float64(n-2)
	a := 0
	for i := 0; i < n-2; i++ {
		// The next bucket's mean.
		ns, ne := int(float64(i+1)*every)+1, int(float64(i+2)*every)+1
		ne = min(ne, m)
		var mx, my float64
		for j := ns; j < ne; j++ {
			mx += x[j]
			my += y[j]
		}
		if cnt := float64(ne - ns); cnt > 0 {
			mx, my = mx/cnt, my/cnt
		}
		// This bucket's point with the largest triangle.
		s, e := int(float64(i)*every)+1, int(float64(i+1)*every)+1
		best, bestArea := s, -1.0
		for j := s; j < e; j++ {
			area := math.Abs((x[a]-mx)*(y[j]-y[a]) - (x[a]-x[j])*(my-y[a]))
			if area > bestArea {
				best, bestArea = j, area
			}
		}
		out = append(out, best)
		a = best
	}
	return append(out, m-1)
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted, by the nearest
// rank, as HdrHistogram does; NaN for an empty sample.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	return sorted[rank(len(sorted), q)]
}

// rank is the index of the nearest-rank q-quantile of n sorted values.
func rank(n int, q float64) int {
	k := int(math.Ceil(q*float64(n))) - 1
	return min(max(k, 0), n-1)
}

// Interval is a bootstrap estimate of a difference.
type Interval struct {
	// Diff is the difference of the two samples' quantiles, b − a.
	Diff float64
	// Lo and Hi bound its confidence interval.
	Lo, Hi float64
}

// Contains reports whether v is inside the interval.
func (iv Interval) Contains(v float64) bool { return iv.Lo <= v && v <= iv.Hi }

// QuantileDiff estimates the difference b − a of the q-quantile of two
// samples, sorted ascending, with a percentile bootstrap confidence
// interval at the given level (0.95) from resamples draws, seeded so that
// the same inputs give the same interval. A resample's quantile is drawn
// without sorting: the k-th smallest of n indexes drawn with replacement
// from a sorted sample picks its k-th smallest value.
func QuantileDiff(a, b []float64, q, level float64, resamples int, seed uint64) Interval {
	iv := Interval{Diff: Quantile(b, q) - Quantile(a, q)}
	if len(a) == 0 || len(b) == 0 || resamples < 2 {
		iv.Lo, iv.Hi = iv.Diff, iv.Diff
		return iv
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	diffs := make([]float64, resamples)
	ca, cb := make([]int32, len(a)), make([]int32, len(b))
	for i := range diffs {
		diffs[i] = resampledQuantile(b, cb, q, rng) - resampledQuantile(a, ca, q, rng)
	}
	slices.Sort(diffs)
	tail := (1 - level) / 2
	iv.Lo, iv.Hi = diffs[rank(resamples, tail)], diffs[rank(resamples, 1-tail)]
	return iv
}

// resampledQuantile draws len(sorted) indexes with replacement and returns
// the value at the q-quantile of the draw; counts is scratch space.
func resampledQuantile(sorted []float64, counts []int32, q float64, rng *rand.Rand) float64 {
	n := len(sorted)
	clear(counts)
	for range n {
		counts[rng.IntN(n)]++
	}
	k := rank(n, q)
	seen := 0
	for i, c := range counts {
		seen += int(c)
		if seen > k {
			return sorted[i]
		}
	}
	return sorted[n-1]
}

// Subsample returns at most n values of v, chosen uniformly without
// replacement by a seeded shuffle, or v itself when it is not longer.
func Subsample(v []float64, n int, seed uint64) []float64 {
	if len(v) <= n {
		return v
	}
	out := slices.Clone(v)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		j := i + rng.IntN(len(out)-i)
		out[i], out[j] = out[j], out[i]
	}
	return out[:n]
}
