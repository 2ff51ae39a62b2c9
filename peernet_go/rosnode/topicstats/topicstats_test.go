package topicstats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRegularStream(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	m := NewMeter(Options{}, t0)
	// 100 Hz for one second, 1000-byte messages stamped 5 ms before
	// arrival, published 1 ms before.
	for i := range 100 {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		m.Observe(Observation{Size: 1000, Arrival: at, Stamp: at.Add(-5 * time.Millisecond), Published: at.Add(-time.Millisecond)})
	}
	w := m.Window(t0.Add(time.Second))
	if w.Messages != 100 || w.Size.Count != 100 || w.Period.Count != 99 {
		t.Fatalf("counts: %d messages, %d sizes, %d periods", w.Messages, w.Size.Count, w.Period.Count)
	}
	if !near(w.Rate, 100, 1e-6) || !near(w.Bandwidth, 100_000, 1e-6) || !near(w.Jitter(), 0, 1e-9) {
		t.Fatalf("rate %v, bandwidth %v, jitter %v", w.Rate, w.Bandwidth, w.Jitter())
	}
	if !near(w.HeaderAge.P50, 0.005, 1e-9) || !near(w.HeaderAge.Max, 0.005, 1e-9) || w.HeaderAge.Count != 100 {
		t.Fatalf("header age %+v", w.HeaderAge)
	}
	if !near(w.TransportDelay.Mean, 0.001, 1e-9) {
		t.Fatalf("transport delay %+v", w.TransportDelay)
	}

	// The next window's first period is measured from the last message of
	// this one; messages without a stamp have no header age.
	m.Observe(Observation{Size: 10, Arrival: t0.Add(990*time.Millisecond + 20*time.Millisecond)})
	w2 := m.Window(t0.Add(2 * time.Second))
	if w2.Period.Count != 1 || !near(w2.Period.Min, 0.020, 1e-9) || w2.HeaderAge.Count != 0 || w2.TransportDelay.Count != 0 {
		t.Fatalf("window 2: %+v", w2)
	}
	if !w2.Start.Equal(t0.Add(time.Second)) {
		t.Fatalf("window 2 starts %v", w2.Start)
	}
	// An empty window.
	w3 := m.Window(t0.Add(3 * time.Second))
	if w3.Messages != 0 || w3.Rate != 0 || w3.Bandwidth != 0 || w3.Size != (Distribution{}) {
		t.Fatalf("empty window: %+v", w3)
	}
}

// reference computes a distribution the slow, obvious way.
func reference(v []float64) Distribution {
	s := slices.Clone(v)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	mean := sum / float64(len(s))
	var ss float64
	for _, x := range s {
		ss += (x - mean) * (x - mean)
	}
	at := func(q float64) float64 {
		return s[min(max(int(math.Round(q*float64(len(s)))), 1), len(s))-1]
	}
	return Distribution{
		Count: len(s), Mean: mean, Std: math.Sqrt(ss / float64(len(s))), Min: s[0], Max: s[len(s)-1],
		P50: at(0.5), P90: at(0.9), P99: at(0.99),
	}
}

func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Unix(0, 0)
	m := NewMeter(Options{}, t0)
	var ages []float64
	at := t0
	for range 5000 {
		at = at.Add(time.Duration(rng.IntN(2000)) * time.Microsecond)
		// Ages from -1 ms (a stamp ahead of this clock) to 99 ms.
		age := time.Duration(rng.IntN(100_000)-1000) * time.Microsecond
		m.Observe(Observation{Size: rng.IntN(100), Arrival: at, Stamp: at.Add(-age)})
		ages = append(ages, at.Sub(at.Add(-age)).Seconds())
	}
	got, want := m.Window(at).HeaderAge, reference(ages)
	for _, c := range [][2]float64{
		{got.Mean, want.Mean}, {got.Std, want.Std}, {got.Min, want.Min}, {got.Max, want.Max},
		{got.P50, want.P50}, {got.P90, want.P90}, {got.P99, want.P99},
	} {
		if !near(c[0], c[1], 1e-12) {
			t.Fatalf("header age %+v\nreference  %+v", got, want)
		}
	}
}

func TestBoundedSample(t *testing.T) {
	const keep = 1000
	m := NewMeter(Options{MaxSamples: keep, Seed: 9}, time.Unix(0, 0))
	var sizes []float64
	for i := range 100_000 {
		size := i % 1000 // uniform 0..999
		m.Observe(Observation{Size: size, Arrival: time.Unix(0, int64(i))})
		sizes = append(sizes, float64(size))
	}
	if n := len(m.size.values); n != keep {
		t.Fatalf("kept %d values, want %d", n, keep)
	}
	got, want := m.Window(time.Unix(1, 0)).Size, reference(sizes)
	if got.Count != want.Count || got.Min != want.Min || got.Max != want.Max || !near(got.Mean, want.Mean, 1e-9) || !near(got.Std, want.Std, 1e-6) {
		t.Fatalf("exact moments: %+v, want %+v", got, want)
	}
	// A 1000-value uniform sample puts the median within a few percent.
	if !near(got.P50, want.P50, 60) || !near(got.P90, want.P90, 40) {
		t.Fatalf("sampled percentiles %+v, want near %+v", got, want)
	}
	// The window's sample is released for the next window.
	if n := len(m.size.values); n != 0 {
		t.Fatalf("%d values kept after the window", n)
	}
}
