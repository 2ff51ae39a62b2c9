package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// referenceLTTB is the algorithm as its author's reference code states it,
// written independently of LTTB: bucket bounds computed up front, the
// next bucket's average, then the largest triangle per bucket.
func referenceLTTB(x, y []float64, threshold int) []int {
	n := len(x)
	if threshold >= n || threshold < 3 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all
	}
	size := float64(n-2) / float64(threshold-2)
	bounds := make([][2]int, threshold-2)
	for i := range bounds {
		bounds[i] = [2]int{int(math.Floor(float64(i)*size)) + 1, int(math.Floor(float64(i+1)*size)) + 1}
	}
	sampled := []int{0}
	prev := 0
	for i, b := range bounds {
		var avgX, avgY float64
		lo, hi := n-1, n
		if i+1 < len(bounds) {
			lo, hi = bounds[i+1][0], bounds[i+1][1]
		}
		for j := lo; j < hi; j++ {
			avgX += x[j]
			avgY += y[j]
		}
		avgX /= float64(hi - lo)
		avgY /= float64(hi - lo)
		maxArea, pick := -1.0, b[0]
		for j := b[0]; j < b[1]; j++ {
			area := 0.5 * math.Abs((x[prev]-avgX)*(y[j]-y[prev])-(x[prev]-x[j])*(avgY-y[prev]))
			if area > maxArea {
				maxArea, pick = area, j
			}
		}
		sampled = append(sampled, pick)
		prev = pick
	}
	return append(sampled, n-1)
}

func TestLTTBMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, threshold int }{{10, 5}, {1000, 100}, {100000, 2000}, {7, 3}, {50, 50}, {50, 2}, {12345, 777}} {
		x, y := make([]float64, tc.n), make([]float64, tc.n)
		for i := range x {
			x[i] = float64(i) + rng.Float64()*0.5
			y[i] = math.Sin(float64(i)/50) + rng.NormFloat64()*0.1
			if rng.IntN(500) == 0 {
				y[i] += 20 // spikes must survive
			}
		}
		got, want := LTTB(x, y, tc.threshold), referenceLTTB(x, y, tc.threshold)
		if !slices.Equal(got, want) {
			t.Fatalf("n %d → %d: got %d points, reference %d; first difference at %d", tc.n, tc.threshold, len(got), len(want), firstDiff(got, want))
		}
		if tc.threshold >= 3 && tc.threshold < tc.n && len(got) != tc.threshold {
			t.Fatalf("n %d → %d: %d points", tc.n, tc.threshold, len(got))
		}
	}
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestLTTBKeepsSpikes(t *testing.T) {
	n := 100000
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	y[31337] = 1000
	kept := LTTB(x, y, 500)
	if !slices.Contains(kept, 31337) {
		t.Fatal("the one spike of a flat series was dropped")
	}
}

// TestQuantileDiffCoverage: on 200 seeded trials of two skewed samples
// that differ by a known shift, the 95 % interval for the difference of
// medians and of p99 holds the true shift in at least 93 % of them.
func TestQuantileDiffCoverage(t *testing.T) {
	const trials, n, shift = 200, 800, 0.004
	for _, q := range []float64{0.5, 0.9, 0.99} {
		covered := 0
		for trial := range trials {
			rng := rand.New(rand.NewPCG(uint64(trial), 7))
			a, b := make([]float64, n), make([]float64, n)
			for i := range a {
				a[i] = 0.010 + rng.ExpFloat64()*0.003
				b[i] = 0.010 + rng.ExpFloat64()*0.003 + shift
			}
			slices.Sort(a)
			slices.Sort(b)
			if iv := QuantileDiff(a, b, q, 0.95, 1000, uint64(trial)); iv.Contains(shift) {
				covered++
			}
		}
		if share := float64(covered) / trials; share < 0.93 {
			t.Errorf("q %v: the 95 %% interval held the true shift in %.1f %% of trials", q, share*100)
		} else {
			t.Logf("q %v: coverage %.1f %%", q, share*100)
		}
	}
}

func TestQuantileDiffSeeded(t *testing.T) {
	a, b := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []float64{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	x, y := QuantileDiff(a, b, 0.5, 0.95, 500, 42), QuantileDiff(a, b, 0.5, 0.95, 500, 42)
	if x != y || x.Diff != 1 {
		t.Fatalf("%+v vs %+v", x, y)
	}
	if iv := QuantileDiff(a, a, 0.5, 0.95, 500, 1); !iv.Contains(0) {
		t.Fatalf("a sample against itself: %+v", iv)
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for q, want := range map[float64]float64{0: 1, 0.5: 5, 0.9: 9, 0.99: 10, 1: 10} {
		if got := Quantile(s, q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("empty sample")
	}
}
