// Package topicstats measures what a stream of messages does over time
// windows: rate, bandwidth, message size, the period between arrivals and
// its jitter, header age (arrival minus the message's header.stamp) and
// transport delay (arrival minus the publisher's source timestamp). It is
// `ros2 topic hz`, `bw` and `delay` in one, with percentiles; the
// topic_profiler node feeds it from subscriptions and publishes its windows.
//
// Count, mean, standard deviation, min and max are exact. Percentiles are
// exact while a window holds at most Options.MaxSamples values of a
// quantity; beyond that they come from a uniform random sample of that
// many values, so memory stays bounded at any rate.
//
// Usage:
//
//	m := topicstats.NewMeter(topicstats.Options{}, time.Now())
//	// for every message (from any goroutine):
//	m.Observe(topicstats.Observation{Size: len(msg), Arrival: time.Now(), Stamp: stamp})
//	// once a second:
//	w := m.Window(time.Now())
//	fmt.Printf("%.1f Hz, age p99 %.3f s\n", w.Rate, w.HeaderAge.P99)
package topicstats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// DefaultMaxSamples is Options.MaxSamples's default.
const DefaultMaxSamples = 1 << 16

// Options configure a Meter.
type Options struct {
	// MaxSamples bounds the values of each quantity kept per window for
	// the percentiles. It defaults to DefaultMaxSamples.
	MaxSamples int
	// Seed seeds the sampling beyond MaxSamples; the default 0 is a fixed
	// seed.
	Seed uint64
}

// Observation is one message seen.
type Observation struct {
	// Size is the message's size in bytes (serialized).
	Size int
	// Arrival is when it arrived, on the local clock.
	Arrival time.Time
	// Stamp is its header.stamp; zero when it has none.
	Stamp time.Time
	// Published is the publisher's source timestamp; zero when the
	// middleware does not report one.
	Published time.Time
}

// Distribution is the statistics of one quantity over a window.
type Distribution struct {
	// Count is the number of values; the other fields are 0 without any.
	Count int `json:"count"`
	// Mean, Std (population standard deviation), Min and Max are exact.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// P50, P90 and P99 are the nearest-rank percentiles.
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// Window is what the stream did between Start and Stop.
type Window struct {
	Start time.Time `json:"start"`
	Stop  time.Time `json:"stop"`
	// Messages is the number of messages observed.
	Messages int `json:"messages"`
	// Rate is 1 / Period.Mean in messages per second, as ros2 topic hz
	// reports it; 0 before two messages have arrived.
	Rate float64 `json:"rate"`
	// Bandwidth is the bytes observed per second of the window.
	Bandwidth float64 `json:"bandwidth"`
	// Size is in bytes; Period, HeaderAge and TransportDelay in seconds.
	Size           Distribution `json:"size"`
	Period         Distribution `json:"period"`
	HeaderAge      Distribution `json:"header-age"`
	TransportDelay Distribution `json:"transport-delay"`
}

// Jitter returns the standard deviation of the period, in seconds.
func (w Window) Jitter() float64 { return w.Period.Std }

// Meter accumulates observations into windows. It is safe for concurrent
// use.
type Meter struct {
	mu                       sync.Mutex
	o                        Options
	rng                      *rand.Rand
	start, last              time.Time
	messages                 int
	bytes                    int64
	size, period, age, delay sampler
}

// NewMeter returns a meter whose first window starts at start.
func NewMeter(o Options, start time.Time) *Meter {
	if o.MaxSamples <= 0 {
		o.MaxSamples = DefaultMaxSamples
	}
	m := &Meter{o: o, start: start, rng: rand.New(rand.NewPCG(o.Seed, 0x70706963))}
	for _, s := range m.samplers() {
		s.maxKeep = o.MaxSamples
	}
	return m
}

func (m *Meter) samplers() []*sampler { return []*sampler{&m.size, &m.period, &m.age, &m.delay} }

// Observe accounts for one message.
func (m *Meter) Observe(o Observation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages++
	m.bytes += int64(o.Size)
	m.size.add(float64(o.Size), m.rng)
	if !m.last.IsZero() {
		m.period.add(o.Arrival.Sub(m.last).Seconds(), m.rng)
	}
	m.last = o.Arrival
	if !o.Stamp.IsZero() {
		m.age.add(o.Arrival.Sub(o.Stamp).Seconds(), m.rng)
	}
	if !o.Published.IsZero() {
		m.delay.add(o.Arrival.Sub(o.Published).Seconds(), m.rng)
	}
}

// Window returns the statistics since the previous window (or NewMeter)
// up to now, and starts the next window at now. The period of the first
// message of a window is measured from the last message of the one
// before.
func (m *Meter) Window(now time.Time) Window {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := Window{
		Start: m.start, Stop: now, Messages: m.messages,
		Size: m.size.result(), Period: m.period.result(),
		HeaderAge: m.age.result(), TransportDelay: m.delay.result(),
	}
	if d := now.Sub(m.start).Seconds(); d > 0 {
		w.Bandwidth = float64(m.bytes) / d
	}
	if w.Period.Count > 0 && w.Period.Mean > 0 {
		w.Rate = 1 / w.Period.Mean
	}
	m.start, m.messages, m.bytes = now, 0, 0
	for _, s := range m.samplers() {
		s.reset()
	}
	return w
}

// sampler keeps exact moments and a bounded uniform sample of one
// quantity.
type sampler struct {
	n        int
	mean, m2 float64
	min, max float64
	values   []float64
	maxKeep  int
}

func (s *sampler) add(v float64, rng *rand.Rand) {
	s.n++
	if s.n == 1 {
		s.min, s.max = v, v
	} else {
		s.min, s.max = math.Min(s.min, v), math.Max(s.max, v)
	}
	d := v - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (v - s.mean)
	switch {
	case len(s.values) < s.maxKeep:
		s.values = append(s.values, v)
	default: // reservoir sampling (Algorithm R)
		if j := rng.IntN(s.n); j < s.maxKeep {
			s.values[j] = v
		}
	}
}

func (s *sampler) reset() {
	*s = sampler{values: s.values[:0], maxKeep: s.maxKeep}
}

func (s *sampler) result() Distribution {
	if s.n == 0 {
		return Distribution{}
	}
	v := slices.Clone(s.values)
	slices.Sort(v)
	return Distribution{
		Count: s.n, Mean: s.mean, Std: math.Sqrt(max(s.m2, 0) / float64(s.n)), Min: s.min, Max: s.max,
		P50: rank(v, 0.50), P90: rank(v, 0.90), P99: rank(v, 0.99),
	}
}

// rank returns the nearest-rank q-quantile of sorted values: the value of
// rank round(q·n), at least 1 (the rule package metrics uses).
func rank(sorted []float64, q float64) float64 {
	n := len(sorted)
	r := min(max(int(q*float64(n)+0.5), 1), n)
	return sorted[r-1]
}
