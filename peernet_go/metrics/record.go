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
)

var statusNames = [...]string{"ok", "lost", "error"}

// String returns "ok", "lost" or "error".
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
// from the run loop to every sink as the run goes.
//
// Upload and Download are one-way delays across two clocks, corrected by
// ClockOffset (server clock minus client clock); whatever the offset,
// Upload + Server + Download = RTT exactly.
type Record struct {
	// Iteration counts from 0.
	Iteration int `json:"iteration"`
	// Warmup marks iterations left out of the summary (--warmup).
	Warmup bool `json:"warmup,omitempty"`
	// Status is the outcome; Err says why when it is not OK.
	Status Status `json:"status"`
	Err    string `json:"error,omitempty"`

	// Stage durations. Server is the time the server held the request
	// (its receive to its send); Queue, Preprocess, Inference and
	// Postprocess are parts of it.
	Sensing     time.Duration `json:"sensing"`
	Upload      time.Duration `json:"upload"`
	Queue       time.Duration `json:"queue"`
	Preprocess  time.Duration `json:"preprocessing"`
	Inference   time.Duration `json:"inference"`
	Postprocess time.Duration `json:"postprocessing"`
	Server      time.Duration `json:"server"`
	Download    time.Duration `json:"download"`
	RTT         time.Duration `json:"rtt"`

	// UploadBytes and DownloadBytes are the bytes each frame took on the
	// wire (header and payload).
	UploadBytes   int64 `json:"upload-bytes"`
	DownloadBytes int64 `json:"download-bytes"`

	// UploadPackets and DownloadPackets are the datagrams each frame took,
	// on transports that split frames into several (udp); zero elsewhere.
	UploadPackets   int64 `json:"upload-packets"`
	DownloadPackets int64 `json:"download-packets"`

	// ClockOffset is the server clock minus the client clock used to
	// correct the one-way delays; ClockError bounds its error.
	ClockOffset time.Duration `json:"clock-offset"`
	ClockError  time.Duration `json:"clock-error"`

	// Lag is how far behind its schedule the iteration started (only with
	// a fixed sampling rate).
	Lag time.Duration `json:"lag,omitempty"`

	// The four raw timestamps (Unix ns): client send, server receive,
	// server send, client receive.
	T0 int64 `json:"t0"`
	T1 int64 `json:"t1"`
	T2 int64 `json:"t2"`
	T3 int64 `json:"t3"`

	// Topic, LogTime and HeaderAge describe replayed or subscribed ROS
	// data: the source topic, its recording time (Unix ns) and the time from
	// the message's header.stamp to sampling (HasHeaderAge says whether it
	// is known).
	Topic        string        `json:"topic,omitempty"`
	LogTime      int64         `json:"log-time,omitempty"`
	HeaderAge    time.Duration `json:"header-age,omitempty"`
	HasHeaderAge bool          `json:"-"`

	// Output is the server's reply payload when the run records outputs,
	// with its encoding.
	Output         []byte `json:"-"`
	OutputEncoding string `json:"-"`
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
