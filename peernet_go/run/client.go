// Package run drives the profiling loop: the client (edge) loop that samples
// a sensor, sends each sample and times the reply, and the server (cloud)
// loop that answers with an inference engine. The CLI and the ROS 2 nodes
// both drive it.
//
// A client run produces one [metrics.Record] per iteration and hands it to
// the caller's sinks in the loop's own goroutine, between iterations, so
// writing results never sits on the timed path (a goroutine woken per
// record would cost more than the buffered writes); a ticker flushes the
// sinks that buffer once a second, so a killed run loses at most that:
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
	"strings"
	"sync"
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
	DefaultMaxErrors     = 10
)

// ErrPeerDead ends a run when no reply has arrived for ClientOptions.GiveUp.
var ErrPeerDead = errors.New("run: server stopped answering")

// ErrFailing ends a run when ClientOptions.MaxErrors iterations in a row
// failed: a broken sensor, model or sample size never gets better by
// trying again.
var ErrFailing = errors.New("run: every iteration fails")

// ClientOptions configure a client run.
type ClientOptions struct {
	// Conn is the connection to the server, from a network.Transport's
	// Dial. Client uses it from the calling goroutine only.
	Conn network.Conn
	// Sensor provides the samples.
	Sensor sensor.Sensor
	// Iterations to run; 0 runs until ctx ends or the sensor is exhausted.
	// With a Rate they are scheduled slots: each one is an iteration,
	// also when it passes while the client cannot send (status missed).
	Iterations int
	// Rate is the sampling rate in Hz; 0 (the default) samples as fast as
	// the loop allows. With a rate the schedule is the truth: iteration i
	// is due at start + Phase + i/Rate; one that cannot start before the
	// next is due is recorded as missed, and every replied iteration
	// carries its latency from the schedule.
	Rate float64
	// Phase delays the schedule's first slot, so that edges of a fleet
	// sampling at one rate are not all due at the same instant.
	Phase time.Duration
	// Timeout bounds each iteration's wait for its reply; a reply that does
	// not arrive in time makes the iteration lost. It defaults to
	// DefaultTimeout.
	Timeout time.Duration
	// Connect bounds the wait for the server's first answer, before the
	// first iteration: a server started at the same moment as the client
	// has that long to come up. It defaults to DefaultConnect.
	Connect time.Duration
	// Warmup iterations are recorded but marked for the summary to skip.
	Warmup int
	// Clock stamps the client's side of each exchange. It defaults to
	// clock.New(0).
	Clock *clock.Clock
	// ClockMode selects how the server's clock offset is found. The zero
	// value means handshake.
	ClockMode clock.Mode
	// SameClockOffset is the exact offset (server minus client) in clock
	// mode same-clock: the skew given to the server's Clock.WithSkew.
	SameClockOffset time.Duration
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
	// MaxErrors ends the run with ErrFailing after that many iterations in
	// a row failed (status error: the sensor, the model, a frame too
	// large). It defaults to DefaultMaxErrors; a negative value never
	// stops.
	MaxErrors int
	// MaxFrame is the largest request frame sent; a larger sample makes
	// its iteration an error. It defaults to wire.DefaultMaxSize.
	MaxFrame int
	// RecordOutputs keeps each reply's payload in its record.
	RecordOutputs bool
	// Sinks receive every record, in order, between iterations. Sinks that
	// are metrics.Flushers are also flushed once a second from another
	// goroutine, so their Flush must be safe beside Write.
	Sinks []metrics.Sink
	// OnClock, if set, is called with the clock estimate after each probe
	// burst, from the run's goroutine.
	OnClock func(clock.Estimate)
}

// Result describes a finished client run.
type Result struct {
	// Iterations counts the records produced; OK, Lost, Errors and Missed
	// split them by status.
	Iterations, OK, Lost, Errors, Missed int
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
	// ServerUsage is the server process's CPU and memory over the run, as
	// it reported them.
	ServerUsage ServerUsage
}

type client struct {
	ClientOptions
	est      *clock.Estimator
	ntp      clock.Estimate
	probeSeq uint64
	lastOK   time.Time
	lastRecv time.Time // monotonic, when the last reply arrived
	res      Result
	werr     error                 // the first error writing a record
	packets  network.PacketCounter // the Conn's packet counts, if it keeps them

	failing  int    // iterations in a row with status error
	firstErr string // the first of them
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
	if o.MaxErrors == 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = wire.DefaultMaxSize
	}
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
	stopFlushing := flushEvery(metrics.FlushInterval, o.Sinks)
	err := c.loop(ctx)
	stopFlushing()
	flush(o.Sinks)
	werr := c.werr
	c.res.Clock = c.estimate(o.Clock.Now())
	if ctx.Err() != nil {
		c.res.Interrupted = true
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
	}
	c.usageAtEnd()
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

// flushEvery flushes the sinks every d from a goroutine of its own, so that
// a run whose iterations are slow (or hang) still has its finished records
// on disk, until the returned function is called.
func flushEvery(d time.Duration, sinks []metrics.Sink) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				flush(sinks)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
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
	if period > 0 {
		start = start.Add(c.Phase)
	}
	lastProbe := time.Now()
	for i := 0; c.Iterations == 0 || i < c.Iterations; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var due time.Time
		var lag time.Duration
		if period > 0 {
			due = start.Add(time.Duration(i) * period)
			if err := sleepUntil(ctx, due); err != nil {
				return err
			}
			lag = time.Since(due)
			if lag >= period { // the next slot has begun: this one passed unused
				c.emit(&metrics.Record{
					Iteration: i, Status: metrics.Missed, Warmup: i < c.Warmup,
					LatencyFromSchedule: lag,
				})
				continue
			}
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
		if period > 0 && r.Replied() {
			r.LatencyFromSchedule = c.lastRecv.Sub(due)
		}
		c.emit(&r)
		switch r.Status {
		case metrics.OK:
			c.lastOK = time.Now()
		case metrics.Error:
			if c.failing++; c.failing == 1 {
				c.firstErr = r.Err
			}
			if c.MaxErrors > 0 && c.failing >= c.MaxErrors {
				return fmt.Errorf("%w: %d iterations in a row failed, the first: %s", ErrFailing, c.failing, c.firstErr)
			}
		}
		if r.Status != metrics.Error {
			c.failing = 0
		}
		if r.Status != metrics.OK && time.Since(c.lastOK) > c.GiveUp {
			return fmt.Errorf("%w: no reply for %v (gave up after iteration %d)", ErrPeerDead, time.Since(c.lastOK).Round(time.Millisecond), i)
		}
		// Probe the clock between iterations, while the link answers, in
		// the time left before the next slot.
		if c.ClockMode.Name == clock.ModeHandshake && c.ClockInterval > 0 && r.Status == metrics.OK &&
			time.Since(lastProbe) >= c.ClockInterval {
			var until time.Time
			if period > 0 {
				until = start.Add(time.Duration(i+1) * period)
			}
			c.probeBurst(ctx, until)
			lastProbe = time.Now()
		}
	}
	return nil
}

// emit counts r and hands it to the sinks.
func (c *client) emit(r *metrics.Record) {
	c.count(r)
	c.write(r)
}

func (c *client) count(r *metrics.Record) {
	c.res.Iterations++
	switch r.Status {
	case metrics.OK:
		c.res.OK++
	case metrics.Lost:
		c.res.Lost++
	case metrics.Missed:
		c.res.Missed++
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
		r.Status, r.Err = metrics.Error, err.Error()
		if !strings.HasPrefix(r.Err, "sensor: ") {
			r.Err = "sensor: " + r.Err
		}
		return r, err
	}
	r.Topic = s.Topic
	if !s.LogTime.IsZero() {
		r.LogTime = s.LogTime.UnixNano()
	}
	r.HeaderAge, r.HasHeaderAge = headerAge(&s)

	req := wire.Frame{Kind: wire.Request, Seq: uint64(i) + 1, Encoding: s.Encoding, Payload: s.Data}
	r.UploadBytes = int64(req.Len())
	if err := req.CheckLen(c.MaxFrame); err != nil {
		r.Status, r.Err = metrics.Error, fmt.Sprintf("sample of %d bytes: %v", len(s.Data), err)
		return r, nil
	}
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
		c.lastRecv = time.Now()
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

// fill completes r from the reply received at t3. The exchange's four
// timestamps are a clock sample too (in handshake mode they refine the
// estimate), and the offset applied is kept where the exchange allows it
// by causality, so neither one-way delay comes out negative (see
// clock.Constrain).
func (c *client) fill(r *metrics.Record, rep *wire.Frame, t3 int64) {
	r.T1, r.T2, r.T3 = rep.Times.ServerRecv, rep.Times.ServerSend, t3
	r.DownloadBytes = int64(rep.Len())
	p := clock.Probe{T0: r.T0, T1: r.T1, T2: r.T2, T3: r.T3}
	if c.ClockMode.Name == clock.ModeHandshake && c.useAsSample(p) {
		c.est.Add(p)
	}
	off, bound := c.offsetAt(r.T0 + (t3-r.T0)/2)
	if c.ClockMode.Name != clock.ModeAssumeSynced {
		off, bound = clock.Constrain(off, bound, p)
	}
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

// maxSampleDelay is how much longer than the fastest probe an exchange's
// network delay may be for it to count as a clock sample: a large upload's
// exchange is as asymmetric as the path is, and would spoil the windows
// the drift is fitted across.
const maxSampleDelay = 2

// useAsSample reports whether an exchange is as good a clock sample as the
// probes.
func (c *client) useAsSample(p clock.Probe) bool {
	min, ok := c.est.MinDelay()
	return !ok || p.Delay() <= maxSampleDelay*min
}

// offsetAt returns the clock correction for client time t.
func (c *client) offsetAt(t int64) (offset, bound time.Duration) {
	switch c.ClockMode.Name {
	case clock.ModeHandshake:
		off, b, _ := c.est.At(t)
		return off, b
	case clock.ModeNTP:
		return c.ntp.Offset, c.ntp.Bound
	case clock.ModeSameClock:
		return c.SameClockOffset, 0
	}
	return 0, 0
}

func (c *client) estimate(t int64) clock.Estimate {
	switch c.ClockMode.Name {
	case clock.ModeHandshake:
		return c.est.Estimate(t)
	case clock.ModeNTP:
		return c.ntp
	case clock.ModeSameClock:
		return clock.Estimate{Mode: clock.ModeSameClock, Known: true, Offset: c.SameClockOffset}
	}
	return clock.Estimate{Mode: clock.ModeAssumeSynced}
}

// usageAtEnd asks a server that still answers what it used; best effort.
func (c *client) usageAtEnd() {
	if c.res.ServerUsage.At0.IsZero() || c.res.OK == 0 {
		return
	}
	if h, ok := c.askHost(context.Background(), min(c.Timeout, 500*time.Millisecond)); ok {
		c.res.ServerUsage.CPU1, c.res.ServerUsage.At1 = time.Duration(h.CPU), time.Now()
		c.res.ServerUsage.MaxRSS = h.MaxRSS
	}
}

// bye tells the server the run is over; best effort.
func (c *client) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = c.Conn.Send(ctx, &wire.Frame{Kind: wire.Bye})
}
