// Package clock estimates the offset between the edge's clock and the
// cloud's, with an honest error bound, so that one-way delays measured across
// the two machines can be corrected and qualified.
//
// Timestamps come from a [Clock]: Unix nanoseconds that advance with the
// monotonic clock from the moment the Clock was made, so an NTP step during a
// run cannot corrupt a delay, plus an optional artificial skew for
// demonstrations and tests.
//
// Offsets come from NTP-style probes ([Probe]): the client stamps t0, the
// server t1 and t2, the client t3. For one probe the offset θ = ((t1−t0) +
// (t2−t3))/2 is wrong by at most half the probe's round-trip delay, whatever
// the path's asymmetry. An [Estimator] keeps the minimum-delay probe of each
// window, fits drift across windows with a robust (Theil–Sen) line, and
// answers, for any instant, an offset and a bound:
//
//	est := clock.NewEstimator(clock.EstimatorOptions{})
//	est.Add(p) // for every probe
//	off, bound := est.At(t) // correct a one-way delay measured at t
package clock

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Modes of clock handling.
const (
	// ModeHandshake estimates the offset with probes over the run's own
	// transport (the default).
	ModeHandshake = "handshake"
	// ModeAssumeSynced trusts both system clocks, as PEERNet did.
	ModeAssumeSynced = "assume-synced"
	// ModeNTP has each side query the same NTP server ("ntp:HOST[:PORT]").
	ModeNTP = "ntp"
	// ModeSameClock is for runs whose two ends read one clock (both in
	// one process, as in `peernet bench`): the offset is known exactly,
	// with a bound of zero, and no probes are needed.
	ModeSameClock = "same-clock"
)

// Mode is a parsed --clock value.
type Mode struct {
	// Name is ModeHandshake, ModeAssumeSynced or ModeNTP.
	Name string
	// Server is the NTP server of ModeNTP, "host" or "host:port".
	Server string
}

// String returns the mode as written on the command line.
func (m Mode) String() string {
	if m.Name == ModeNTP {
		return ModeNTP + ":" + m.Server
	}
	return m.Name
}

// ParseMode parses "handshake", "assume-synced", "same-clock" or
// "ntp:HOST[:PORT]".
func ParseMode(s string) (Mode, error) {
	switch {
	case s == "" || s == ModeHandshake:
		return Mode{Name: ModeHandshake}, nil
	case s == ModeAssumeSynced:
		return Mode{Name: ModeAssumeSynced}, nil
	case s == ModeSameClock:
		return Mode{Name: ModeSameClock}, nil
	case strings.HasPrefix(s, ModeNTP+":") && len(s) > len(ModeNTP)+1:
		return Mode{Name: ModeNTP, Server: s[len(ModeNTP)+1:]}, nil
	}
	return Mode{}, fmt.Errorf("clock mode %q: want handshake, assume-synced, same-clock or ntp:HOST[:PORT]", s)
}

// Clock stamps events in Unix nanoseconds. It reads the wall clock once, when
// made, and advances with the monotonic clock after that. The zero value is
// not usable; call New.
type Clock struct {
	base     time.Time
	baseUnix int64
	skew     int64
}

// New returns a Clock whose readings are shifted by skew, to pretend the
// machine's clock is off by that much.
func New(skew time.Duration) *Clock {
	now := time.Now()
	return &Clock{base: now, baseUnix: now.UnixNano(), skew: int64(skew)}
}

// Now returns the current time in Unix nanoseconds.
func (c *Clock) Now() int64 { return c.baseUnix + int64(time.Since(c.base)) + c.skew }

// WithSkew returns a Clock that reads exactly c's time plus skew: both share
// one base, so the offset between them is skew to the nanosecond. The two
// ends of a run in one process use it (see ModeSameClock).
func (c *Clock) WithSkew(skew time.Duration) *Clock {
	return &Clock{base: c.base, baseUnix: c.baseUnix, skew: c.skew + int64(skew)}
}

// Skew returns the artificial skew given to New.
func (c *Clock) Skew() time.Duration { return time.Duration(c.skew) }

// Probe is one clock probe's four timestamps: client send, server receive,
// server send, client receive (Unix ns, each on its own side's clock).
type Probe struct {
	T0, T1, T2, T3 int64
}

// Offset returns the server clock minus the client clock, assuming the two
// directions took equal time.
func (p Probe) Offset() time.Duration {
	return time.Duration(((p.T1 - p.T0) + (p.T2 - p.T3)) / 2)
}

// Delay returns the probe's round-trip time on the network, without the
// server's holding time.
func (p Probe) Delay() time.Duration { return time.Duration((p.T3 - p.T0) - (p.T2 - p.T1)) }

// Valid reports whether the timestamps are consistent: the client's and the
// server's intervals are not negative and the server's fits in the client's.
func (p Probe) Valid() bool {
	return p.T3 >= p.T0 && p.T2 >= p.T1 && p.Delay() >= 0
}

// Feasible returns the offsets (server minus client) the exchange allows
// by causality alone: neither direction can take negative time, so the
// true offset lies in [T2−T3, T1−T0] whatever the path. Its width is the
// probe's network delay.
func (p Probe) Feasible() (lo, hi time.Duration) {
	return time.Duration(p.T2 - p.T3), time.Duration(p.T1 - p.T0)
}

// Constrain narrows an offset estimate and its bound with what one exchange
// allows by causality (see Probe.Feasible): the offset returned lies in the
// feasible interval, so that neither one-way delay of the exchange comes out
// negative, and the bound returned covers the intersection of that interval
// with offset ± bound (or the feasible interval alone when the estimate
// disagrees with it, which means its bound was too tight). A zero bound
// (exactly known) is kept as it is.
func Constrain(offset, bound time.Duration, p Probe) (time.Duration, time.Duration) {
	if bound == 0 || !p.Valid() {
		return offset, bound
	}
	lo, hi := p.Feasible()
	elo, ehi := offset-bound, offset+bound
	if elo > hi || ehi < lo { // disjoint: causality wins
		elo, ehi = lo, hi
	} else {
		elo, ehi = max(elo, lo), min(ehi, hi)
	}
	off := min(max(offset, elo), ehi)
	return off, max(off-elo, ehi-off)
}

// ErrNoProbes is returned when an estimate is asked of an estimator that has
// not accepted any probe.
var ErrNoProbes = errors.New("clock: no valid probe")
