// Package sensor defines where samples come from: the Sensor interface and
// the built-in sensors selected by name on the command line.
//
// A Sensor produces one [Sample] per call. The profiler times each call as the
// "sensing" stage, so a sensor should do in Sample exactly the work a robot
// does to obtain a reading, and nothing the run loop could do instead.
package sensor

import (
	"context"
	"time"
)

// Sample is one sensor reading.
type Sample struct {
	// Data is the payload. It stays valid until the next call to Sample on
	// the same sensor: sensors may reuse their buffers.
	Data []byte
	// Encoding says how to read Data; see package media.
	Encoding string
	// Time is when the reading was taken, on the local clock.
	Time time.Time

	// Topic is the source topic of replayed or subscribed ROS data (optional).
	Topic string
	// LogTime is when a replayed message was recorded (optional).
	LogTime time.Time
	// Stamp is the header.stamp of a ROS message (optional).
	Stamp time.Time
}

// Sensor produces samples. Implementations need not be safe for concurrent use.
type Sensor interface {
	// Sample returns the next reading. It returns io.EOF when a finite
	// source is exhausted, and ctx.Err() when ctx ends first.
	Sample(ctx context.Context) (Sample, error)
	// Close releases the sensor's resources.
	Close() error
}

// Func adapts a function to the Sensor interface; Close does nothing.
type Func func(ctx context.Context) (Sample, error)

// Sample calls f(ctx).
func (f Func) Sample(ctx context.Context) (Sample, error) { return f(ctx) }

// Close does nothing and returns nil.
func (Func) Close() error { return nil }

var _ Sensor = Func(nil)
