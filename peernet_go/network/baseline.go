package network

import (
	"context"
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
	// until ctx ends; it then returns nil. Failing to set up (address in
	// use, unknown device) is an error.
	RawServe(ctx context.Context, cfg *Config, self string) error
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
