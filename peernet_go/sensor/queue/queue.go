// Package queue turns messages pushed from elsewhere — a ROS 2
// subscription's callback, a socket reader — into a [sensor.Sensor]: a
// bounded queue that keeps the newest messages, counts those it had to drop,
// and lets Sample wait for the next message under a context.
//
// Push never blocks, so the pushing side (a middleware thread) is never held
// up by a slow profiling loop; when the queue is full the oldest message
// goes. With the default depth of 1, Sample always returns the freshest
// message, as a robot's control loop reads its latest sensor value.
//
// Usage:
//
//	q, err := queue.New(queue.Options{Encoding: media.ROS("sensor_msgs/msg/Image"), Topic: "/camera/image_raw"})
//	if err != nil { ... }
//	// in the subscription callback:
//	q.Push(queue.Message{Data: msg, Time: time.Now()})
//	// in the loop (run.ClientOptions.Sensor = q):
//	s, err := q.Sample(ctx) // waits for the next message, or ctx
package queue

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// MaxDepth bounds Options.Depth.
const MaxDepth = 1 << 16

// Options configure a Queue.
type Options struct {
	// Depth is how many messages the queue keeps; when it is full, Push
	// drops the oldest. It defaults to 1, and may be at most MaxDepth.
	Depth int
	// Encoding is the encoding of every sample (see package media). It
	// defaults to media.Bytes.
	Encoding string
	// Topic is copied to every sample's Topic (optional).
	Topic string
}

// Message is one message pushed into the queue.
type Message struct {
	// Data is the payload. The queue owns it once pushed.
	Data []byte
	// Time is when the message arrived, on the local clock; it becomes
	// the sample's Time.
	Time time.Time
	// Stamp is the message's own header stamp (optional).
	Stamp time.Time
}

// Stats count what a queue did.
type Stats struct {
	// Pushed counts the messages pushed, Dropped those the queue let go
	// unread (pushed while full, or after Close), Taken those returned by
	// Sample.
	Pushed, Dropped, Taken uint64
}

// Queue is a sensor fed by Push. Push and Stats may be called from any
// goroutine; Sample from one goroutine at a time; Close from any.
type Queue struct {
	o      Options
	mu     sync.Mutex
	ring   []Message
	head   int // index of the oldest message
	n      int // messages held
	stats  Stats
	closed bool
	ready  chan struct{} // holds a token while messages are waiting
	done   chan struct{} // closed by Close
}

var _ sensor.Sensor = (*Queue)(nil)

// New returns an empty queue. It fails when an option is out of range.
func New(o Options) (*Queue, error) {
	if o.Depth == 0 {
		o.Depth = 1
	}
	if o.Depth < 0 || o.Depth > MaxDepth {
		return nil, fmt.Errorf("sensorqueue: Depth %d out of range 1–%d", o.Depth, MaxDepth)
	}
	if o.Encoding == "" {
		o.Encoding = media.Bytes
	}
	if len(o.Encoding) > media.MaxLen {
		return nil, fmt.Errorf("sensorqueue: Encoding is %d bytes long, more than %d", len(o.Encoding), media.MaxLen)
	}
	return &Queue{
		o:     o,
		ring:  make([]Message, o.Depth),
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}, nil
}

// Push adds m. When the queue is full it drops the oldest message and
// returns true; after Close it drops m and returns true.
func (q *Queue) Push(m Message) (dropped bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats.Pushed++
	if q.closed {
		q.stats.Dropped++
		return true
	}
	if q.n == len(q.ring) {
		q.ring[q.head] = Message{}
		q.head = (q.head + 1) % len(q.ring)
		q.n--
		q.stats.Dropped++
		dropped = true
	}
	q.ring[(q.head+q.n)%len(q.ring)] = m
	q.n++
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// Sample returns the oldest message held (the newest, with depth 1), waiting
// for one when the queue is empty. It returns ctx.Err() when ctx ends
// first, and sensor.ErrClosed after Close.
func (q *Queue) Sample(ctx context.Context) (sensor.Sample, error) {
	for {
		if m, ok, err := q.take(); err != nil || ok {
			return q.sample(m), err
		}
		select {
		case <-q.ready:
		case <-q.done:
		case <-ctx.Done():
			return sensor.Sample{}, ctx.Err()
		}
	}
}

func (q *Queue) take() (Message, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return Message{}, false, sensor.ErrClosed
	}
	if q.n == 0 {
		return Message{}, false, nil
	}
	m := q.ring[q.head]
	q.ring[q.head] = Message{}
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	q.stats.Taken++
	return m, true, nil
}

func (q *Queue) sample(m Message) sensor.Sample {
	if m.Data == nil && m.Time.IsZero() {
		return sensor.Sample{}
	}
	return sensor.Sample{Data: m.Data, Encoding: q.o.Encoding, Time: m.Time, Topic: q.o.Topic, Stamp: m.Stamp}
}

// Len returns the number of messages waiting.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Stats returns the counts so far.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stats
}

// Close drops the waiting messages and wakes a blocked Sample, which then
// returns sensor.ErrClosed. A second Close does nothing.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	q.stats.Dropped += uint64(q.n)
	clear(q.ring)
	q.n = 0
	close(q.done)
	return nil
}
