package metrics

import (
	"fmt"
	"time"
)

// Status is the outcome of one iteration.
type Status uint8

// Iteration outcomes.
const (
	// OK: the reply arrived before the deadline.
	OK Status = iota
	// Lost: no reply arrived before the deadline.
	Lost
	// Error: the sensor, the transport or the server's model failed.
	Error
	// Missed: a slot of a fixed-rate schedule passed while the client could
	// not send (it was still waiting for an earlier reply, or the link was
	// down): no sample was taken. Counting these keeps the schedule the
	// truth, so that an outage shows in the record (no coordinated
	// omission).
	Missed
)

var statusNames = [...]string{"ok", "lost", "error", "missed"}

// String returns "ok", "lost", "error" or "missed".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("metrics: unknown status %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) (err error) {
	*s, err = ParseStatus(string(b))
	return err
}

// Record is the flat result of one iteration of the profiling loop. It flows
// from the run loop to every sink as the run goes; data.csv and
// records.jsonl write it through one table, the record schema (see
// Columns).
//
// Upload and Download are one-way delays across two clocks, corrected by
// ClockOffset (server clock minus client clock); whatever the offset,
// Upload + Server + Download = RTT exactly.
type Record struct {
	// Iteration counts from 0.
	Iteration int
	// Warmup marks iterations left out of the summary (--warmup).
	Warmup bool
	// Status is the outcome; Err says why when it is not OK.
	Status Status
	Err    string

	// Stage durations. Server is the time the server held the request
	// (its receive to its send); Queue, Preprocess, Inference and
	// Postprocess are parts of it.
	Sensing     time.Duration
	Upload      time.Duration
	Queue       time.Duration
	Preprocess  time.Duration
	Inference   time.Duration
	Postprocess time.Duration
	Server      time.Duration
	Download    time.Duration
	RTT         time.Duration

	// UploadBytes and DownloadBytes are the bytes each frame took on the
	// wire (header and payload).
	UploadBytes   int64
	DownloadBytes int64

	// UploadPackets and DownloadPackets are the datagrams each frame took,
	// on transports that split frames into several (udp); zero elsewhere.
	UploadPackets   int64
	DownloadPackets int64

	// ClockOffset is the server clock minus the client clock used to
	// correct the one-way delays; ClockError bounds its error.
	ClockOffset time.Duration
	ClockError  time.Duration

	// Lag is how far behind its schedule the iteration started (only with
	// a fixed sampling rate).
	Lag time.Duration

	// LatencyFromSchedule is, with a fixed sampling rate, the time from the
	// iteration's scheduled start to its reply (wrk2's corrected latency):
	// lag + sensing + rtt, so that a stalled link shows in its percentiles
	// even when the rtt of the iterations that got through looks fine. For
	// a missed slot it is the time from the slot's start until the client
	// was free to sample again, a lower bound of what its latency would
	// have been. Zero means not known (no schedule, or no reply).
	LatencyFromSchedule time.Duration

	// The four raw timestamps (Unix ns): client send, server receive,
	// server send, client receive.
	T0 int64
	T1 int64
	T2 int64
	T3 int64

	// Topic, LogTime and HeaderAge describe replayed or subscribed ROS
	// data: the source topic, its recording time (Unix ns) and the time from
	// the message's header.stamp to sampling (HasHeaderAge says whether it
	// is known).
	Topic        string
	LogTime      int64
	HeaderAge    time.Duration
	HasHeaderAge bool

	// Output is the server's reply payload when the run records outputs,
	// with its encoding.
	Output         []byte
	OutputEncoding string
}

// Throughput returns bytes×8/d in bit/s, or 0 when d is not positive.
func Throughput(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) * 8 / d.Seconds()
}

// Sink consumes records as the run produces them.
type Sink interface {
	// Write stores one record. The record must not be retained.
	Write(r *Record) error
	// Close flushes and releases the sink.
	Close() error
}
