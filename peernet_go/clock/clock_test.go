package clock

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{
		"":                 {Name: ModeHandshake},
		"handshake":        {Name: ModeHandshake},
		"assume-synced":    {Name: ModeAssumeSynced},
		"ntp:pool.local":   {Name: ModeNTP, Server: "pool.local"},
		"ntp:10.0.0.1:123": {Name: ModeNTP, Server: "10.0.0.1:123"},
	} {
		got, err := ParseMode(in)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"ntp:", "ntp", "synced", "HANDSHAKE"} {
		if _, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q) accepted", bad)
		}
	}
}

func TestClockSkewAndMonotonic(t *testing.T) {
	a, b := New(0), New(250*time.Millisecond)
	d := time.Duration(b.Now() - a.Now())
	if d < 249*time.Millisecond || d > 251*time.Millisecond {
		t.Fatalf("skewed clock differs by %v", d)
	}
	prev := a.Now()
	for range 1000 {
		now := a.Now()
		if now < prev {
			t.Fatal("clock went backwards")
		}
		prev = now
	}
}

func TestProbe(t *testing.T) {
	// Server 100 µs ahead; 30 µs up, 10 µs down, 5 µs in the server.
	p := Probe{T0: 1000, T1: 1000 + 30_000 + 100_000, T2: 1000 + 35_000 + 100_000, T3: 1000 + 45_000}
	if p.Delay() != 40*time.Microsecond {
		t.Errorf("delay %v", p.Delay())
	}
	// The asymmetry (20 µs) shows as a 10 µs error, within delay/2.
	if p.Offset() != 110*time.Microsecond {
		t.Errorf("offset %v", p.Offset())
	}
	if !p.Valid() || (Probe{T0: 5, T3: 4}).Valid() {
		t.Error("Valid")
	}
}

// simulate returns probes between a client and a server whose clock is
// offset0 ahead and drifts by ppm, over asymmetric random delays.
func simulate(r *rand.Rand, n int, offset0 time.Duration, ppm float64, every time.Duration) []Probe {
	var ps []Probe
	t := int64(1e18)
	for i := range n {
		t += int64(every)
		up := int64(20_000 + r.ExpFloat64()*50_000)   // ≥ 20 µs, queueing tail
		down := int64(5_000 + r.ExpFloat64()*200_000) // ≥ 5 µs, heavier tail
		hold := int64(2_000 + r.IntN(3_000))
		theta := func(c int64) int64 { return int64(offset0) + int64(ppm*1e-6*float64(c-1e18)) }
		t1 := t + up
		t2 := t1 + hold
		t3 := t2 + down
		ps = append(ps, Probe{T0: t, T1: t1 + theta(t1), T2: t2 + theta(t2), T3: t3})
		_ = i
	}
	return ps
}

func TestEstimatorBoundIsHonest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration
		ppm    float64
	}{
		{"no drift", 250 * time.Millisecond, 0},
		{"drift", -3 * time.Second, 40},
		{"negative drift", time.Hour, -80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			e := NewEstimator(EstimatorOptions{Window: time.Second})
			probes := simulate(r, 600, tc.offset, tc.ppm, 100*time.Millisecond)
			misses := 0
			for i, p := range probes {
				e.Add(p)
				if i < 5 {
					continue
				}
				// Check the bound at a later instant, before the next probe.
				at := p.T3 + int64(50*time.Millisecond)
				truth := tc.offset + time.Duration(tc.ppm*1e-6*float64(at-1e18))
				off, bound, ok := e.At(at)
				if !ok {
					t.Fatal("no estimate")
				}
				if d := off - truth; d > bound || -d > bound {
					misses++
				}
				if bound > 200*time.Microsecond {
					t.Fatalf("probe %d: bound %v too loose", i, bound)
				}
			}
			if misses > 0 {
				t.Errorf("true offset outside the bound %d times", misses)
			}
			est := e.Estimate(probes[len(probes)-1].T3)
			if !est.DriftFitted || abs(est.DriftPPM-tc.ppm) > 5 {
				t.Errorf("drift %.2f ppm (fitted %v), want %.0f", est.DriftPPM, est.DriftFitted, tc.ppm)
			}
			if est.MinRTT < 25*time.Microsecond || est.Windows == 0 || est.Probes != 600 {
				t.Errorf("estimate %+v", est)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestEstimatorRejectsAndEmpty(t *testing.T) {
	e := NewEstimator(EstimatorOptions{})
	if _, _, ok := e.At(0); ok {
		t.Error("estimate without probes")
	}
	e.Add(Probe{T0: 10, T1: 5, T2: 4, T3: 11})
	if est := e.Estimate(0); est.Known || est.Rejected != 1 {
		t.Errorf("%+v", est)
	}
	if est := e.Estimate(0); est.Synced(time.Millisecond) {
		t.Error("unknown estimate reported synced")
	}
}

func TestEstimatorMemoryBounded(t *testing.T) {
	e := NewEstimator(EstimatorOptions{Window: time.Millisecond, Keep: 8})
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range simulate(r, 1000, 0, 0, 2*time.Millisecond) {
		e.Add(p)
	}
	if len(e.windows) != 8 {
		t.Errorf("%d windows kept", len(e.windows))
	}
}

func BenchmarkEstimatorAt(b *testing.B) {
	e := NewEstimator(EstimatorOptions{})
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range simulate(r, 1000, time.Second, 10, 100*time.Millisecond) {
		e.Add(p)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.At(int64(1e18) + int64(50*time.Second))
	}
}
