package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// connectRetry is how often the opening probe is resent while the server
// does not answer.
const connectRetry = 250 * time.Millisecond

// minProbeSlack is the least time before the next scheduled iteration in
// which a clock probe is still sent.
const minProbeSlack = time.Millisecond

// ErrNoServer is returned when the server never answers the opening probes.
var ErrNoServer = errors.New("no reply from the server")

// Probe encodings that ask the server for more than timestamps.
const (
	// ntpEncoding + HOST asks for the server's offset to an NTP server.
	ntpEncoding = "ntp:"
	// hostEncoding asks for the server's host name and time-sync state.
	hostEncoding = "host"
)

// hostAnswer describes the server's machine and process, carried in a
// probe reply.
type hostAnswer struct {
	Host      string `json:"host"`
	SyncState string `json:"sync-state,omitempty"`
	// CPU is the server process's CPU time so far, in ns; MaxRSS its
	// peak resident memory, in bytes.
	CPU    int64 `json:"cpu-ns,omitempty"`
	MaxRSS int64 `json:"max-rss,omitempty"`
}

// ntpAnswer is the server's NTP offset, carried in a probe reply.
type ntpAnswer struct {
	Offset time.Duration `json:"offset"`
	Bound  time.Duration `json:"bound"`
	Err    string        `json:"error,omitempty"`
}

// connect waits until the server answers a probe, then runs the opening
// clock measurement of the chosen mode.
func (c *client) connect(ctx context.Context) error {
	deadline := time.Now().Add(c.Connect)
	// Probes are resent: a transport may drop what was sent before the
	// server was listening (MQTT before the subscription, UDP before the
	// bind), and a late answer to an earlier probe is skipped as stale.
	retry := min(c.Timeout, connectRetry)
	for {
		attempt := time.Now().Add(retry)
		if attempt.After(deadline) {
			attempt = deadline
		}
		pctx, cancel := context.WithDeadline(ctx, attempt)
		p, _, err := c.probe(pctx, "")
		cancel()
		if err == nil {
			if c.ClockMode.Name == clock.ModeHandshake {
				c.est.Add(p)
			}
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w within %v: %w", ErrNoServer, c.Connect, err)
		}
	}
	if h, ok := c.askHost(ctx, c.Timeout); ok {
		c.res.ServerHost, c.res.ServerSyncState = h.Host, h.SyncState
		c.res.ServerUsage.CPU0, c.res.ServerUsage.At0 = time.Duration(h.CPU), time.Now()
	}
	switch c.ClockMode.Name {
	case clock.ModeHandshake:
		c.probeBurst(ctx, time.Time{})
	case clock.ModeNTP:
		return c.ntpOffsets(ctx)
	}
	return nil
}

// probeBurst sends ClockProbes probes and feeds the estimator. A non-zero
// until (the next scheduled iteration) bounds the burst: probes never hold
// up the schedule.
func (c *client) probeBurst(ctx context.Context, until time.Time) {
	for range c.ClockProbes {
		deadline := time.Now().Add(c.Timeout)
		if !until.IsZero() {
			if time.Until(until) < minProbeSlack {
				break
			}
			deadline = until
		}
		pctx, cancel := context.WithDeadline(ctx, deadline)
		p, _, err := c.probe(pctx, "")
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		c.est.Add(p)
	}
	if c.OnClock != nil {
		c.OnClock(c.est.Estimate(c.Clock.Now()))
	}
}

// probe runs one probe exchange. A non-empty enc asks the server for more
// than timestamps (its NTP offset); the reply's payload is returned.
func (c *client) probe(ctx context.Context, enc string) (clock.Probe, []byte, error) {
	c.probeSeq++
	f := wire.Frame{Kind: wire.Probe, Seq: c.probeSeq, Encoding: enc}
	f.Times.ClientSend = c.Clock.Now()
	if err := c.Conn.Send(ctx, &f); err != nil {
		return clock.Probe{}, nil, err
	}
	rep, t3, err := c.recvReply(ctx, f.Seq, wire.ProbeReply)
	if err != nil {
		return clock.Probe{}, nil, err
	}
	return clock.Probe{T0: f.Times.ClientSend, T1: rep.Times.ServerRecv, T2: rep.Times.ServerSend, T3: t3}, rep.Payload, nil
}

// ntpOffsets combines this machine's and the server's offsets to the same
// NTP server into the server-minus-client offset.
func (c *client) ntpOffsets(ctx context.Context) error {
	query := c.NTPOffset
	if query == nil {
		query = func(ctx context.Context) (time.Duration, time.Duration, error) {
			return clock.QueryNTP(ctx, c.ClockMode.Server, c.Timeout)
		}
	}
	mine, myBound, err := query(ctx)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, c.Timeout+clock.NTPTimeout)
	defer cancel()
	_, payload, err := c.probe(pctx, ntpEncoding+c.ClockMode.Server)
	if err != nil {
		return fmt.Errorf("asking the server for its NTP offset: %w", err)
	}
	var theirs ntpAnswer
	if err := json.Unmarshal(payload, &theirs); err != nil {
		return fmt.Errorf("server's NTP answer: %w", err)
	}
	if theirs.Err != "" {
		return fmt.Errorf("server's NTP query: %s", theirs.Err)
	}
	// Each offset is NTP time minus local time: server − client follows.
	c.ntp = clock.Estimate{
		Mode: c.ClockMode.String(), Known: true,
		Offset: mine - theirs.Offset, Bound: myBound + theirs.Bound, Probes: 2,
	}
	return nil
}

// askHost asks the server for its host, time-sync state and process usage.
func (c *client) askHost(ctx context.Context, timeout time.Duration) (hostAnswer, bool) {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var h hostAnswer
	_, payload, err := c.probe(hctx, hostEncoding)
	return h, err == nil && json.Unmarshal(payload, &h) == nil
}

// ServerUsage is what the server process used over a client's run, as it
// said in probe replies at the start and at the end: CPU time and peak
// memory. At1 is zero when the end was not reported.
type ServerUsage struct {
	CPU0, CPU1 time.Duration
	At0, At1   time.Time
	MaxRSS     int64
}

// CPUPerSecond returns the server's CPU time per second of the run (1 is
// one core busy), or 0 when not known.
func (u ServerUsage) CPUPerSecond() float64 {
	if u.At1.IsZero() || !u.At1.After(u.At0) {
		return 0
	}
	return (u.CPU1 - u.CPU0).Seconds() / u.At1.Sub(u.At0).Seconds()
}
