package clock

import (
	"math"
	"slices"
	"time"
)

// Defaults of EstimatorOptions.
const (
	// DefaultWindow is how long probes are pooled before the best one is kept.
	DefaultWindow = time.Second
	// DefaultMaxDriftPPM is the drift assumed, as an error term, until three
	// windows allow a fit: a generous figure for two quartz oscillators.
	DefaultMaxDriftPPM = 100
	// DefaultKeep is how many windows the estimator remembers.
	DefaultKeep = 64
	// minDriftErrPPM is the smallest drift error ever assumed.
	minDriftErrPPM = 1
)

// EstimatorOptions configure an Estimator.
type EstimatorOptions struct {
	// Window groups probes: the minimum-delay probe of each window is kept.
	// It defaults to DefaultWindow.
	Window time.Duration
	// MaxDriftPPM is the drift error assumed before a drift fit exists. It
	// defaults to DefaultMaxDriftPPM.
	MaxDriftPPM float64
	// Keep bounds the windows remembered, and so the memory used. It
	// defaults to DefaultKeep.
	Keep int
}

// window is the best probe of one window.
type window struct {
	start  int64         // client time of the window's first probe
	at     int64         // client time of the kept probe's midpoint
	offset time.Duration // its offset
	delay  time.Duration // its delay
}

// Estimator turns probes into an offset, a drift and an error bound. It is not
// safe for concurrent use.
type Estimator struct {
	opts    EstimatorOptions
	windows []window // oldest first; the last one may still be filling
	probes  int
	invalid int

	drift    float64 // fitted drift, ns per ns (ppm × 1e-6)
	driftErr float64 // its error
	fitted   bool
}

// NewEstimator returns an Estimator with the given options.
func NewEstimator(o EstimatorOptions) *Estimator {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxDriftPPM <= 0 {
		o.MaxDriftPPM = DefaultMaxDriftPPM
	}
	if o.Keep < 3 {
		o.Keep = DefaultKeep
	}
	return &Estimator{opts: o, driftErr: o.MaxDriftPPM * 1e-6}
}

// Add accepts a probe. Inconsistent probes are counted and dropped.
func (e *Estimator) Add(p Probe) {
	if !p.Valid() {
		e.invalid++
		return
	}
	e.probes++
	at := p.T0 + (p.T3-p.T0)/2
	w := window{start: at, at: at, offset: p.Offset(), delay: p.Delay()}
	if n := len(e.windows); n > 0 {
		if last := &e.windows[n-1]; at >= last.start && at-last.start < int64(e.opts.Window) {
			if w.delay < last.delay {
				w.start = last.start
				*last = w
				e.fit()
			}
			return
		}
	}
	if len(e.windows) == e.opts.Keep {
		e.windows = slices.Delete(e.windows, 0, 1)
	}
	e.windows = append(e.windows, w)
	e.fit()
}

// fit estimates the drift across windows with the Theil–Sen estimator (the
// median of pairwise slopes), robust to a window spoiled by queueing.
func (e *Estimator) fit() {
	n := len(e.windows)
	if n < 3 {
		return
	}
	slopes := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dt := float64(e.windows[j].at - e.windows[i].at)
			if dt <= 0 {
				continue
			}
			slopes = append(slopes, float64(e.windows[j].offset-e.windows[i].offset)/dt)
		}
	}
	if len(slopes) < 3 {
		return
	}
	slices.Sort(slopes)
	med := median(slopes)
	dev := make([]float64, len(slopes))
	for i, s := range slopes {
		dev[i] = math.Abs(s - med)
	}
	slices.Sort(dev)
	e.drift = med
	// The spread of the pairwise slopes (as a normal-consistent MAD) bounds
	// the drift's error; never assume it better than minDriftErrPPM.
	e.driftErr = max(1.4826*median(dev), minDriftErrPPM*1e-6)
	e.fitted = true
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// At returns the offset (server minus client) to apply at client time t and
// the bound on its error. It uses the window that gives the tightest bound at
// t, extrapolated with the fitted drift. ok is false before the first probe.
func (e *Estimator) At(t int64) (offset, bound time.Duration, ok bool) {
	if len(e.windows) == 0 {
		return 0, 0, false
	}
	best := -1
	var bestBound float64
	for i := range e.windows {
		w := &e.windows[i]
		b := float64(w.delay)/2 + e.driftErr*math.Abs(float64(t-w.at))
		if best < 0 || b < bestBound {
			best, bestBound = i, b
		}
	}
	w := e.windows[best]
	off := float64(w.offset) + e.drift*float64(t-w.at)
	return time.Duration(math.Round(off)), time.Duration(math.Ceil(bestBound)), true
}

// MinDelay returns the smallest delay of the windows kept; ok is false
// before the first probe.
func (e *Estimator) MinDelay() (d time.Duration, ok bool) {
	for i, w := range e.windows {
		if i == 0 || w.delay < d {
			d = w.delay
		}
	}
	return d, len(e.windows) > 0
}

// Estimate summarises the estimator at client time t.
func (e *Estimator) Estimate(t int64) Estimate {
	est := Estimate{Mode: ModeHandshake, Probes: e.probes, Rejected: e.invalid, Windows: len(e.windows)}
	off, bound, ok := e.At(t)
	if !ok {
		return est
	}
	est.Known = true
	est.Offset, est.Bound = off, bound
	est.MinRTT = e.windows[0].delay
	for _, w := range e.windows {
		est.MinRTT = min(est.MinRTT, w.delay)
	}
	if e.fitted {
		est.DriftPPM = e.drift * 1e6
		est.DriftFitted = true
	}
	est.DriftErrPPM = e.driftErr * 1e6
	return est
}

// Estimate is what is known of the offset between the two clocks.
type Estimate struct {
	// Mode is how the offset was obtained.
	Mode string `json:"mode" yaml:"mode"`
	// Known is false when no offset could be estimated (assume-synced, or
	// no probe got through); Offset is then 0 and Bound meaningless.
	Known bool `json:"known" yaml:"known"`
	// Offset is the server clock minus the client clock.
	Offset time.Duration `json:"offset" yaml:"offset"`
	// Bound is the largest error the offset can have.
	Bound time.Duration `json:"bound" yaml:"bound"`
	// DriftPPM is the fitted rate of change of the offset, when
	// DriftFitted; DriftErrPPM is its uncertainty.
	DriftPPM    float64 `json:"drift-ppm" yaml:"drift-ppm"`
	DriftErrPPM float64 `json:"drift-error-ppm" yaml:"drift-error-ppm"`
	DriftFitted bool    `json:"drift-fitted" yaml:"drift-fitted"`
	// MinRTT is the smallest probe delay seen.
	MinRTT time.Duration `json:"min-rtt" yaml:"min-rtt"`
	// Probes and Rejected count accepted and inconsistent probes; Windows
	// counts the windows kept.
	Probes   int `json:"probes" yaml:"probes"`
	Rejected int `json:"rejected" yaml:"rejected"`
	Windows  int `json:"windows" yaml:"windows"`
}

// Synced reports whether the offset is known within maxErr.
func (e Estimate) Synced(maxErr time.Duration) bool { return e.Known && e.Bound <= maxErr }
