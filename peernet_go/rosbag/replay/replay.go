// Package replay replays a rosbag2 bag as a sensor: the "rosbag" sensor
// type, which run.OpenSensor opens (package sensor does not import the bag
// readers, so that sensor plugins stay buildable).
//
// Samples carry each message's serialized bytes (CDR) with the encoding
// media.ROS(type), e.g. "cdr:sensor_msgs/msg/Image", so that consumers can
// decode Image and CompressedImage messages directly; the topic and log time
// of the message; and its header.stamp when the type starts with a
// std_msgs/Header. Replay runs as fast as possible or at a multiple of the
// recorded pace, once or in a loop.
//
// Usage:
//
//	s, err := replay.Open(ctx, sensor.Options{Type: "rosbag", DatasetLoc: "run1",
//		Topics: []string{"/camera/image_raw"}, ReplayRate: 1})
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/rosbag"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// rosbagSensor replays the messages of a rosbag2 bag as samples, in
// log-time order, paced by the recorded log times.
type rosbagSensor struct {
	closed bool
	bag    *rosbag.Bag
	topics []string
	rate   float64
	loop   bool
	types  map[string]rosType // by ROS type name

	// life bounds the iterator; it ends when a Sample's ctx ends while the
	// bag is being read, or on Close.
	life   context.Context
	cancel context.CancelFunc
	it     *rosbag.Iterator
	pass   int  // messages read in the current pass
	held   bool // the current message is read but not delivered

	// Pacing: the first message of a pass is due at passStart; the one
	// logged d later at passStart + d/rate.
	passStart time.Time
	passBase  int64
	timer     *time.Timer
}

// rosType is what a sample of one ROS type carries.
type rosType struct {
	encoding string
	header   bool // starts with std_msgs/Header: read its stamp
}

var _ sensor.Sensor = (*rosbagSensor)(nil)

// Open opens the bag at o.DatasetLoc for replay of o.Topics (all when
// empty) at o.ReplayRate times the recorded pace (0: as fast as possible),
// starting over at the end when o.Loop is set, else returning io.EOF.
//
// Each sample carries the serialized message (CDR) with the encoding
// media.ROS(type), its topic and log time, and the message's header.stamp
// when its type starts with a std_msgs/Header (only the stamp is decoded).
// A Sample whose ctx ends while the bag is being read ends the replay.
func Open(ctx context.Context, o sensor.Options) (sensor.Sensor, error) {
	if o.DatasetLoc == "" {
		return nil, errors.New("sensor rosbag: Options.DatasetLoc must name a bag directory or file")
	}
	if o.ReplayRate < 0 || math.IsNaN(o.ReplayRate) || math.IsInf(o.ReplayRate, 0) {
		return nil, fmt.Errorf("sensor rosbag: Options.ReplayRate must be 0 (as fast as possible) or positive, got %v", o.ReplayRate)
	}
	bag, err := rosbag.Open(ctx, o.DatasetLoc)
	if err != nil {
		return nil, fmt.Errorf("sensor rosbag: %w", err)
	}
	s := &rosbagSensor{bag: bag, topics: o.Topics, rate: o.ReplayRate, loop: o.Loop, types: map[string]rosType{}}
	for _, t := range bag.Info().Topics {
		rt := rosType{encoding: media.Bytes}
		if t.SerializationFormat == "cdr" {
			rt = rosType{encoding: media.ROS(t.Type), header: cdr.HasHeader(t.Type)}
		}
		s.types[t.Type] = rt
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	// Check the topics, and read the first message now: it may need a
	// file-compressed bag decompressed, which ctx bounds.
	if err := s.restart(); err != nil {
		s.Close()
		return nil, err
	}
	stop := context.AfterFunc(ctx, s.cancel)
	ok := s.it.Next()
	stop()
	if !ok && s.it.Err() != nil {
		err := s.it.Err()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		s.Close()
		return nil, fmt.Errorf("sensor rosbag: %w", err)
	}
	if !ok {
		s.Close()
		return nil, fmt.Errorf("sensor rosbag: %s has no messages%s: %w", o.DatasetLoc, onTopics(o.Topics), io.EOF)
	}
	s.pass, s.held = 1, true
	return s, nil
}

func onTopics(topics []string) string {
	if len(topics) == 0 {
		return ""
	}
	return " on " + strings.Join(topics, ", ")
}

// restart starts a new pass over the bag.
func (s *rosbagSensor) restart() error {
	if s.it != nil {
		s.it.Close()
	}
	it, err := s.bag.Messages(s.life, s.topics...)
	if err != nil {
		return fmt.Errorf("sensor rosbag: %w", err)
	}
	s.it, s.pass, s.passStart = it, 0, time.Time{}
	return nil
}

// next moves to the next message, starting over at the end when looping.
// A Sample whose ctx ends meanwhile ends the replay: that is the only way
// to stop a read under way.
func (s *rosbagSensor) next(ctx context.Context) error {
	if s.held { // read already, not delivered yet
		s.held = false
		return nil
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, s.cancel)
		defer stop()
	}
	for {
		if s.it.Next() {
			s.pass++
			return nil
		}
		if err := s.it.Err(); err != nil {
			return err
		}
		if !s.loop || s.pass == 0 {
			return io.EOF
		}
		if err := s.restart(); err != nil {
			return err
		}
	}
}

// Sample returns the next message of the bag, once it is due. When ctx
// ends before then, the message is kept for the next call.
func (s *rosbagSensor) Sample(ctx context.Context) (sensor.Sample, error) {
	if s.closed {
		return sensor.Sample{}, sensor.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return sensor.Sample{}, err
	}
	if err := s.next(ctx); err != nil {
		if ctx.Err() != nil {
			return sensor.Sample{}, ctx.Err()
		}
		if errors.Is(err, io.EOF) {
			return sensor.Sample{}, io.EOF
		}
		return sensor.Sample{}, fmt.Errorf("sensor rosbag: %w", err)
	}
	m := s.it.Message()
	if s.rate > 0 {
		if err := s.wait(ctx, m.LogTime); err != nil {
			s.held = true
			return sensor.Sample{}, err
		}
	}
	rt, ok := s.types[m.Type]
	if !ok {
		rt = rosType{encoding: media.ROS(m.Type), header: cdr.HasHeader(m.Type)}
		s.types[m.Type] = rt
	}
	out := sensor.Sample{
		Data:     m.Data,
		Encoding: rt.encoding,
		Time:     time.Now(),
		Topic:    m.Topic,
		LogTime:  time.Unix(0, m.LogTime),
	}
	if rt.header {
		if st, err := cdr.HeaderStamp(m.Data); err == nil {
			out.Stamp = st.Time()
		}
	}
	return out, nil
}

// wait sleeps until the message logged at logTime is due.
func (s *rosbagSensor) wait(ctx context.Context, logTime int64) error {
	if s.passStart.IsZero() {
		s.passStart, s.passBase = time.Now(), logTime
		return nil
	}
	offset := float64(logTime-s.passBase) / s.rate
	if offset > float64(math.MaxInt64) {
		offset = math.MaxInt64
	}
	d := time.Until(s.passStart.Add(time.Duration(offset)))
	if d <= 0 {
		return nil
	}
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	select {
	case <-s.timer.C:
		return nil
	case <-ctx.Done():
		s.timer.Stop()
		return ctx.Err()
	}
}

// Close ends the replay and releases the bag. Sample then returns
// sensor.ErrClosed.
func (s *rosbagSensor) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancel()
	if s.timer != nil {
		s.timer.Stop()
	}
	var err error
	if s.it != nil {
		err = s.it.Close()
	}
	return errors.Join(err, s.bag.Close())
}
