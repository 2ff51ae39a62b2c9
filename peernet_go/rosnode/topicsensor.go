package rosnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/sensor/queue"
)

// typePoll is how often WaitForType looks at the graph.
const typePoll = 100 * time.Millisecond

// WaitForType returns topic's type once the graph knows it, waiting up to
// wait (and at most until ctx ends).
func WaitForType(ctx context.Context, h Host, topic string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	for {
		typ, ok, err := h.TopicType(topic)
		if err != nil {
			return "", fmt.Errorf("topic %s: %w", topic, err)
		}
		if ok {
			return typ, nil
		}
		if !time.Now().Before(deadline) {
			return "", fmt.Errorf("topic %s: not seen in the ROS graph within %v (is its publisher running? set topic_type to subscribe anyway)", topic, wait)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("topic %s: %w", topic, ctx.Err())
		case <-time.After(min(typePoll, time.Until(deadline))):
		}
	}
}

// TopicSensorOptions configure OpenTopicSensor.
type TopicSensorOptions struct {
	// Topic is the topic to sample. Required.
	Topic string
	// Type is its ROS type, "pkg/msg/Type". Required.
	Type string
	// QoS of the subscription. Empty fields take SensorDataQoS's.
	QoS QoS
	// Depth is how many messages are kept between samples (the newest
	// win). It defaults to 1: each sample is the freshest message.
	Depth int
	// Prefixes is where HeaderFirst looks for the type's definition, to
	// read header stamps; typically $AMENT_PREFIX_PATH.
	Prefixes string
}

// TopicSensor is a sensor.Sensor fed by a subscription: samples are the
// topic's serialized messages (encoding "cdr:TYPE"), timed at their
// arrival, with the header stamp of types that start with a
// std_msgs/Header.
type TopicSensor struct {
	*queue.Queue
	sub  io.Closer
	once sync.Once
	err  error
}

var _ sensor.Sensor = (*TopicSensor)(nil)

// OpenTopicSensor subscribes to o.Topic through h.
func OpenTopicSensor(h Host, o TopicSensorOptions) (*TopicSensor, error) {
	if o.Topic == "" {
		return nil, errors.New("topic sensor: no topic")
	}
	if _, _, err := SplitType(o.Type); err != nil {
		return nil, fmt.Errorf("topic sensor %s: %w", o.Topic, err)
	}
	o.QoS = o.QoS.orDefault(SensorDataQoS())
	if err := o.QoS.Validate("qos"); err != nil {
		return nil, fmt.Errorf("topic sensor %s: %w", o.Topic, err)
	}
	q, err := queue.New(queue.Options{Depth: o.Depth, Encoding: media.ROS(o.Type), Topic: o.Topic})
	if err != nil {
		return nil, fmt.Errorf("topic sensor %s: %w", o.Topic, err)
	}
	header := HeaderFirst(o.Type, o.Prefixes)
	sub, err := h.Subscribe(o.Topic, o.Type, o.QoS, func(m Message) {
		qm := queue.Message{Data: m.Data, Time: m.Received}
		if header {
			if st, err := cdr.HeaderStamp(m.Data); err == nil && !st.IsZero() {
				qm.Stamp = st.Time()
			}
		}
		q.Push(qm)
	})
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("topic sensor %s: %w", o.Topic, err)
	}
	return &TopicSensor{Queue: q, sub: sub}, nil
}

// Close unsubscribes and closes the queue; Sample then returns
// sensor.ErrClosed. A second Close does nothing.
func (s *TopicSensor) Close() error {
	s.once.Do(func() { s.err = errors.Join(s.sub.Close(), s.Queue.Close()) })
	return s.err
}
