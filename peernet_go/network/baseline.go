package network

import (
	"context"
	"fmt"
	"time"
)

// DefaultPingTimeout bounds one raw round trip when [Ping.Timeout] is zero.
const DefaultPingTimeout = 5 * time.Second

// Baseline is an optional capability of a [Transport]: a raw request/reply
// ping-pong over the same kind of link, with the transport's plain library
// and nothing else — no frame header, no timestamps, no profiler. Its round
// trips are what the profiler's own overhead is measured against. Find it by
// type assertion:
//
//	if b, ok := tr.(network.Baseline); ok {
//		rtts, err := b.RawPing(ctx, cfg, "edge", network.Ping{Payload: p, ReplySize: len(p), Iterations: 1000})
//	}
type Baseline interface {
	// RawServe answers raw pings as device self (the config's server)
	// until ctx ends, or, with pings > 0, until it has answered that many
	// (set-up exchanges not counted); it then returns nil. Failing to set
	// up (address in use, unknown device) is an error.
	RawServe(ctx context.Context, cfg *Config, self string, pings int) error
	// RawPing runs p against a RawServe peer as device self and returns one
	// round-trip time per completed iteration, in order. On an error it
	// returns the round trips measured so far with the error.
	RawPing(ctx context.Context, cfg *Config, self string, p Ping) ([]time.Duration, error)
}

// Ping describes one raw ping-pong run.
type Ping struct {
	// Payload is sent unchanged on every iteration.
	Payload []byte
	// ReplySize is the size in bytes of each reply; 0 means empty replies.
	ReplySize int
	// Iterations is the number of round trips; it must be positive.
	Iterations int
	// Timeout bounds each round trip. It defaults to DefaultPingTimeout.
	Timeout time.Duration
}

// Check validates p's sizes against maxFrame, the largest message the
// link carries each way, and its timeout, and returns the timeout of each
// round trip: p.Timeout, or DefaultPingTimeout when it is zero. Callers add
// their name to the error ("zmq raw ping: %w").
func (p *Ping) Check(maxFrame int) (time.Duration, error) {
	switch {
	case p.ReplySize < 0 || p.ReplySize > maxFrame:
		return 0, fmt.Errorf("reply size %d out of range [0, %d]", p.ReplySize, maxFrame)
	case len(p.Payload) > maxFrame:
		return 0, fmt.Errorf("payload of %d bytes exceeds max_frame %d", len(p.Payload), maxFrame)
	case p.Timeout < 0:
		return 0, fmt.Errorf("timeout %v is negative", p.Timeout)
	case p.Timeout == 0:
		return DefaultPingTimeout, nil
	}
	return p.Timeout, nil
}

// RawClient is the client end of one raw run, connected to a RawServe
// peer and set up for the run's sizes: what [RunPing] times.
type RawClient struct {
	// Addr names the far end in errors, e.g. "tcp://127.0.0.1:5552".
	Addr string
	// RoundTrip sends one request and waits for its whole reply, under a
	// deadline of its own, and checks the reply (see TimeRoundTrips).
	RoundTrip func() error
	// Close releases the client.
	Close func()
}

// RunPing is the body of every transport's RawPing: it checks
// p.Iterations, opens the raw client with dial, times p.Iterations round
// trips with [TimeRoundTrips], and closes the client. name prefixes the
// errors RunPing makes itself ("NAME raw ping: iterations: …" and
// "NAME raw ping ADDR: iteration I: …"); dial's errors are returned as they
// are, so dial says what failed in its own words.
//
//	func (t Transport) RawPing(ctx context.Context, cfg *network.Config, self string, p network.Ping) ([]time.Duration, error) {
//		return network.RunPing(ctx, "mytransport", p, func(ctx context.Context, p network.Ping) (*network.RawClient, error) {
//			return t.dialRaw(ctx, cfg, self, p)
//		})
//	}
func RunPing(ctx context.Context, name string, p Ping, dial func(context.Context, Ping) (*RawClient, error)) ([]time.Duration, error) {
	if p.Iterations <= 0 {
		return nil, fmt.Errorf("%s raw ping: iterations: %d, want > 0", name, p.Iterations)
	}
	r, err := dial(ctx, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rtts, err := TimeRoundTrips(ctx, p.Iterations, make([]time.Duration, 0, p.Iterations), r.RoundTrip)
	if err != nil {
		err = fmt.Errorf("%s raw ping %s: %w", name, r.Addr, err)
	}
	return rtts, err
}

// TimeRoundTrips runs roundTrip n times and appends the duration of each
// call, timed with the monotonic clock, to rtts. It is the measuring loop of
// every RawPing: roundTrip sends one request and waits for its whole reply,
// under a deadline of its own (a socket timeout, a timer), and checks the
// reply. Nothing else happens between the clock readings.
//
// Before each round trip TimeRoundTrips looks at ctx; when ctx has ended it
// returns ctx.Err() as it is. A failed round trip ends the loop with its
// error, wrapped as "iteration I: …" (I counts from 0). Either way rtts
// holds the round trips completed before, in order. Callers add what the
// error lacks, such as the transport and the address:
//
//	rtts, err := network.TimeRoundTrips(ctx, p.Iterations, make([]time.Duration, 0, p.Iterations), c.roundTrip)
//	if err != nil {
//		err = fmt.Errorf("mytransport raw ping %s: %w", addr, err)
//	}
func TimeRoundTrips(ctx context.Context, n int, rtts []time.Duration, roundTrip func() error) ([]time.Duration, error) {
	for i := range n {
		if err := ctx.Err(); err != nil {
			return rtts, err
		}
		t0 := time.Now()
		err := roundTrip()
		rtt := time.Since(t0)
		if err != nil {
			return rtts, fmt.Errorf("iteration %d: %w", i, err)
		}
		rtts = append(rtts, rtt)
	}
	return rtts, nil
}
