// Package run drives the profiling loop: the client (edge) loop that samples
// a sensor, sends each sample and times the reply, and the server (cloud)
// loop that answers with an inference engine. The CLI and the ROS 2 nodes
// both drive it.
//
// A client run produces one [metrics.Record] per iteration and hands it to the
// caller's sinks from a separate goroutine, so writing results never sits on
// the timed path:
//
//	res, err := run.Client(ctx, run.ClientOptions{
//		Conn: conn, Sensor: s, Iterations: 1000, Sinks: []metrics.Sink{csv, summary},
//	})
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Defaults of ClientOptions.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultConnect       = 10 * time.Second
	DefaultClockProbes   = 8
	DefaultClockInterval = time.Second
	DefaultGiveUp        = time.Minute
	DefaultMaxClockError = time.Millisecond
)

// ErrPeerDead ends a run when no reply has arrived for ClientOptions.GiveUp.
var ErrPeerDead = errors.New("run: server stopped answering")

// ClientOptions configure a client run.
type ClientOptions struct {
	// Conn is the connection to the server, from a network.Transport's
	// Dial. Client uses it from the calling goroutine only.
	Conn network.Conn
	// Sensor provides the samples.
	Sensor sensor.Sensor
	// Iterations to run; 0 runs until ctx ends or the sensor is exhausted.
	Iterations int
	// Rate is the sampling rate in Hz; 0 (the default) samples as fast as
	// the loop allows.
	Rate float64
	// Timeout bounds each iteration's wait for its reply; a reply that does
	// not arrive in time makes the iteration lost. It defaults to
	// DefaultTimeout.
	Timeout time.Duration
	// Connect bounds the wait for the server's first answer, before the
	// first iteration: a server started at the same moment as the client
	// has that long to come up. It defaults to DefaultConnect, and is never
	// shorter than Timeout.
	Connect time.Duration
	// Warmup iterations are recorded but marked for the summary to skip.
	Warmup int
	// Clock stamps the client's side of each exchange. It defaults to
	// clock.New(0).
	Clock *clock.Clock
	// ClockMode selects how the server's clock offset is found. The zero
	// value means handshake.
	ClockMode clock.Mode
	// ClockProbes is the number of probes per burst; a burst runs before
	// the first iteration and then every ClockInterval. They default to
	// DefaultClockProbes and DefaultClockInterval; a negative
	// ClockInterval probes only before the run.
	ClockProbes   int
	ClockInterval time.Duration
	// NTPOffset, for clock mode ntp, returns this machine's offset to the
	// NTP server and its error bound. It defaults to querying
	// ClockMode.Server.
	NTPOffset func(ctx context.Context) (offset, bound time.Duration, err error)
	// GiveUp ends the run with ErrPeerDead when no reply has arrived for
	// this long. It defaults to DefaultGiveUp.
	GiveUp time.Duration
	// RecordOutputs keeps each reply's payload in its record.
	RecordOutputs bool
	// Sinks receive every record, in order, between iterations.
	Sinks []metrics.Sink
	// OnClock, if set, is called with the clock estimate after each probe
	// burst, from the run's goroutine.
	OnClock func(clock.Estimate)
}

// Result describes a finished client run.
type Result struct {
	// Iterations counts the records produced; OK, Lost and Errors split
	// them by status.
	Iterations, OK, Lost, Errors int
	// Stale counts replies that arrived after their iteration was given up.
	Stale int
	// BadFrames counts messages that failed to decode.
	BadFrames int
	// Clock is the final clock estimate.
	Clock clock.Estimate
	// Start and End bound the run on the client's clock.
	Start, End time.Time
	// Interrupted is true when ctx ended the run early.
	Interrupted bool
	// ServerHost and ServerSyncState are the server's host name and
	// time-sync state (see clock.SyncState), as it reported them.
	ServerHost, ServerSyncState string
}

type client struct {
	ClientOptions
	est      *clock.Estimator
	ntp      clock.Estimate
	probeSeq uint64
	lastOK   time.Time
	res      Result
	werr     error                 // the first error writing a record
	packets  network.PacketCounter // the Conn's packet counts, if it keeps them
}

// Client runs the client loop until the iterations are done, the sensor is
// exhausted or ctx ends, and returns what happened. Each record reaches the
// sinks as soon as its iteration ends, before the next one starts. A
// cancelled ctx is not an error: the result says Interrupted.
func Client(ctx context.Context, o ClientOptions) (Result, error) {
	if o.Conn == nil || o.Sensor == nil {
		return Result{}, errors.New("run: client needs a connection and a sensor")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Connect <= 0 {
		o.Connect = DefaultConnect
	}
	o.Connect = max(o.Connect, o.Timeout)
	if o.Clock == nil {
		o.Clock = clock.New(0)
	}
	if o.ClockMode.Name == "" {
		o.ClockMode.Name = clock.ModeHandshake
	}
	if o.ClockProbes <= 0 {
		o.ClockProbes = DefaultClockProbes
	}
	if o.ClockInterval == 0 {
		o.ClockInterval = DefaultClockInterval
	}
	if o.GiveUp <= 0 {
		o.GiveUp = DefaultGiveUp
	}
	c := &client{ClientOptions: o, est: clock.NewEstimator(clock.EstimatorOptions{})}
	c.packets, _ = o.Conn.(network.PacketCounter)
	err := c.loop(ctx)
	flush(o.Sinks)
	werr := c.werr
	c.res.Clock = c.estimate(o.Clock.Now())
	if ctx.Err() != nil {
		c.res.Interrupted = true
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
	}
	c.bye()
	return c.res, errors.Join(err, werr)
}

// write hands a record to the sinks. It runs between iterations, off the
// timed path, in the loop's own goroutine: a second goroutine woken for
// every record costs more (thread wake-ups, scheduling) than the buffered
// writes themselves. Sinks that write files flush at least once a second
// on their own.
func (c *client) write(r *metrics.Record) {
	for _, s := range c.Sinks {
		if err := s.Write(r); err != nil && c.werr == nil {
			c.werr = fmt.Errorf("writing results: %w", err)
		}
	}
}

func flush(sinks []metrics.Sink) {
	for _, s := range sinks {
		if f, ok := s.(metrics.Flusher); ok {
			_ = f.Flush()
		}
	}
}

func (c *client) loop(ctx context.Context) error {
	c.res.Start = time.Now()
	defer func() { c.res.End = time.Now() }()
	if err := c.connect(ctx); err != nil {
		return err
	}
	c.lastOK = time.Now()
	var period time.Duration
	if c.Rate > 0 {
		period = time.Duration(float64(time.Second) / c.Rate)
	}
	start := time.Now()
	next := start
	lastProbe := time.Now()
	for i := 0; c.Iterations == 0 || i < c.Iterations; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var lag time.Duration
		if period > 0 {
			if err := sleepUntil(ctx, next); err != nil {
				return err
			}
			lag = time.Since(next)
			next = next.Add(period)
			if behind := time.Since(next); behind > 0 { // skip the ticks already missed
				next = next.Add((behind/period + 1) * period)
			}
		}
		if c.ClockMode.Name == clock.ModeHandshake && c.ClockInterval > 0 && time.Since(lastProbe) >= c.ClockInterval {
			c.probeBurst(ctx)
			lastProbe = time.Now()
		}
		r, err := c.iteration(ctx, i)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		r.Lag = lag
		r.Warmup = i < c.Warmup
		c.count(&r)
		c.write(&r)
		if r.Status == metrics.OK {
			c.lastOK = time.Now()
		} else if time.Since(c.lastOK) > c.GiveUp {
			return fmt.Errorf("%w: no reply for %v (gave up after iteration %d)", ErrPeerDead, time.Since(c.lastOK).Round(time.Millisecond), i)
		}
	}
	return nil
}

func (c *client) count(r *metrics.Record) {
	c.res.Iterations++
	switch r.Status {
	case metrics.OK:
		c.res.OK++
	case metrics.Lost:
		c.res.Lost++
	default:
		c.res.Errors++
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// iteration runs one sample → request → reply exchange.
func (c *client) iteration(ctx context.Context, i int) (metrics.Record, error) {
	r := metrics.Record{Iteration: i}
	s0 := time.Now()
	s, err := c.Sensor.Sample(ctx)
	r.Sensing = time.Since(s0)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return r, io.EOF
		}
		r.Status, r.Err = metrics.Error, "sensor: "+err.Error()
		return r, err
	}
	r.Topic = s.Topic
	if !s.LogTime.IsZero() {
		r.LogTime = s.LogTime.UnixNano()
	}
	r.HeaderAge, r.HasHeaderAge = headerAge(&s)

	req := wire.Frame{Kind: wire.Request, Seq: uint64(i) + 1, Encoding: s.Encoding, Payload: s.Data}
	r.UploadBytes = int64(req.Len())
	var sent0, recv0 uint64
	if c.packets != nil {
		sent0, recv0 = c.packets.Packets()
	}
	err = c.exchange(ctx, &r, &req)
	if c.packets != nil {
		sent, recv := c.packets.Packets()
		r.UploadPackets, r.DownloadPackets = int64(sent-sent0), int64(recv-recv0)
	}
	return r, err
}

// exchange sends req and waits for its reply, filling r. A reply that does
// not come before the deadline makes r lost; other failures make it an
// error, and are returned.
func (c *client) exchange(ctx context.Context, r *metrics.Record, req *wire.Frame) error {
	ictx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req.Times.ClientSend = c.Clock.Now()
	r.T0 = req.Times.ClientSend
	if err := c.Conn.Send(ictx, req); err != nil {
		return c.failed(r, err)
	}
	rep, t3, err := c.recvReply(ictx, req.Seq, wire.Reply, wire.Error)
	if err != nil {
		return c.failed(r, err)
	}
	c.fill(r, rep, t3)
	return nil
}

// recvReply waits for the reply to request seq, of one of the given kinds,
// and returns it with its arrival time. Frames that fail to decode and
// replies to earlier, given-up requests are counted and skipped.
func (c *client) recvReply(ctx context.Context, seq uint64, kinds ...wire.Kind) (*wire.Frame, int64, error) {
	for {
		rep, err := c.Conn.Recv(ctx)
		t3 := c.Clock.Now()
		if err != nil {
			var de *network.DecodeError
			if errors.As(err, &de) {
				c.res.BadFrames++
				continue
			}
			return nil, 0, err
		}
		if rep.Seq == seq && slices.Contains(kinds, rep.Kind) {
			return rep, t3, nil
		}
		c.res.Stale++
	}
}

// maxHeaderAge bounds a plausible header age: beyond it the stamp is on
// another clock base (simulated time, a camera's own clock).
const maxHeaderAge = time.Hour

// headerAge returns the time from a sample's header.stamp to its sampling:
// for replayed data, to when it was recorded (replay moves sampling to
// now); for live data, to when it was taken. ok is false without a stamp,
// or when the stamp is on another clock base.
func headerAge(s *sensor.Sample) (age time.Duration, ok bool) {
	if s.Stamp.IsZero() {
		return 0, false
	}
	at := s.Time
	if !s.LogTime.IsZero() {
		at = s.LogTime
	}
	age = at.Sub(s.Stamp)
	if age > maxHeaderAge || age < -maxHeaderAge {
		return 0, false
	}
	return age, true
}

// failed marks r lost (deadline) or failed (anything else, returned).
func (c *client) failed(r *metrics.Record, err error) error {
	r.Status = metrics.Error
	if errors.Is(err, context.DeadlineExceeded) {
		r.Status = metrics.Lost
		err = nil
	}
	if err != nil {
		r.Err = err.Error()
	} else {
		r.Err = fmt.Sprintf("no reply within %v", c.Timeout)
	}
	r.ClockOffset, r.ClockError = c.offsetAt(r.T0)
	return err
}

// fill completes r from the reply received at t3.
func (c *client) fill(r *metrics.Record, rep *wire.Frame, t3 int64) {
	r.T1, r.T2, r.T3 = rep.Times.ServerRecv, rep.Times.ServerSend, t3
	r.DownloadBytes = int64(rep.Len())
	off, bound := c.offsetAt(r.T0 + (t3-r.T0)/2)
	r.ClockOffset, r.ClockError = off, bound
	r.RTT = time.Duration(t3 - r.T0)
	r.Server = time.Duration(r.T2 - r.T1)
	r.Upload = time.Duration(r.T1-r.T0) - off
	r.Download = r.RTT - r.Server - r.Upload
	r.Queue, r.Preprocess = rep.Stages.Queue, rep.Stages.Preprocess
	r.Inference, r.Postprocess = rep.Stages.Inference, rep.Stages.Postprocess
	if rep.Kind == wire.Error {
		r.Status, r.Err = metrics.Error, "server: "+string(rep.Payload)
		return
	}
	if c.RecordOutputs {
		r.Output = append([]byte(nil), rep.Payload...)
		r.OutputEncoding = rep.Encoding
	}
}

// offsetAt returns the clock correction for client time t.
func (c *client) offsetAt(t int64) (offset, bound time.Duration) {
	switch c.ClockMode.Name {
	case clock.ModeHandshake:
		off, b, _ := c.est.At(t)
		return off, b
	case clock.ModeNTP:
		return c.ntp.Offset, c.ntp.Bound
	}
	return 0, 0
}

func (c *client) estimate(t int64) clock.Estimate {
	switch c.ClockMode.Name {
	case clock.ModeHandshake:
		return c.est.Estimate(t)
	case clock.ModeNTP:
		return c.ntp
	}
	return clock.Estimate{Mode: clock.ModeAssumeSynced}
}

// bye tells the server the run is over; best effort.
func (c *client) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = c.Conn.Send(ctx, &wire.Frame{Kind: wire.Bye})
}
