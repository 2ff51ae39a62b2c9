//go:build ros2

package ros2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tiiuae/rclgo/pkg/rclgo"
	"github.com/tiiuae/rclgo/pkg/rclgo/typemap"
	"github.com/tiiuae/rclgo/pkg/rclgo/types"

	"github.com/peernet/peernet_go/peernet_go/rosnode"

	// The generated bindings register their type supports with typemap:
	// the peernet_go messages are linked in rather than loaded at run time.
	_ "github.com/peernet/peernet_go/peernet_go/ros2/rosgen/peernet_msgs/msg"
	_ "github.com/peernet/peernet_go/peernet_go/ros2/rosgen/statistics_msgs/msg"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// Host implements rosnode.Host with an rclgo node: messages of any type are
// taken and published serialized, with the type support of the generated
// bindings or, for every other type, loaded by name from the type's
// lib<pkg>__rosidl_typesupport_c.so. Each subscription is served by a wait
// set on a goroutine of its own.
type Host struct {
	node *rclgo.Node

	mu     sync.Mutex
	types  map[string]types.MessageTypeSupport
	closed bool
	subs   map[*subscription]bool
}

var _ rosnode.Host = (*Host)(nil)

// NewHost returns a Host on node. Close it before the node.
func NewHost(node *rclgo.Node) *Host {
	return &Host{node: node, types: map[string]types.MessageTypeSupport{}, subs: map[*subscription]bool{}}
}

// typeSupport returns the type support of typeName, "pkg/msg/Type".
func (h *Host) typeSupport(typeName string) (types.MessageTypeSupport, error) {
	pkg, name, err := rosnode.SplitType(typeName)
	if err != nil {
		return nil, err
	}
	full := pkg + "/msg/" + name
	h.mu.Lock()
	defer h.mu.Unlock()
	if ts, ok := h.types[full]; ok {
		return ts, nil
	}
	ts, ok := typemap.GetMessage(full)
	if !ok {
		if ts, err = rclgo.LoadDynamicMessageTypeSupport(pkg, name); err != nil {
			return nil, fmt.Errorf("type %s: %s (is its package built and sourced?)", full, errline.First(err.Error()))
		}
	}
	h.types[full] = ts
	return ts, nil
}

// QosProfile converts q to rclgo's profile (keep last q.Depth).
func QosProfile(q rosnode.QoS) rclgo.QosProfile {
	p := rclgo.NewDefaultQosProfile()
	p.History, p.Depth = rclgo.HistoryKeepLast, q.Depth
	switch q.Reliability {
	case rosnode.BestEffort:
		p.Reliability = rclgo.ReliabilityBestEffort
	case rosnode.Reliable:
		p.Reliability = rclgo.ReliabilityReliable
	default:
		p.Reliability = rclgo.ReliabilitySystemDefault
	}
	switch q.Durability {
	case rosnode.TransientLocal:
		p.Durability = rclgo.DurabilityTransientLocal
	case rosnode.Volatile:
		p.Durability = rclgo.DurabilityVolatile
	default:
		p.Durability = rclgo.DurabilitySystemDefault
	}
	return p
}

// Subscribe takes every message on topic serialized and calls fn with it.
func (h *Host) Subscribe(topic, typeName string, q rosnode.QoS, fn func(rosnode.Message)) (io.Closer, error) {
	ts, err := h.typeSupport(typeName)
	if err != nil {
		return nil, err
	}
	s := &subscription{h: h, done: make(chan struct{})}
	opts := &rclgo.SubscriptionOptions{Qos: QosProfile(q)}
	s.sub, err = h.node.NewSubscription(topic, ts, opts, func(sub *rclgo.Subscription) {
		b, info, err := sub.TakeSerializedMessage()
		if err != nil {
			return // woken without a message (take failed): nothing to do
		}
		m := rosnode.Message{Data: b, Received: time.Now()}
		if info != nil && info.SourceTimestamp.UnixNano() > 0 {
			m.Published = info.SourceTimestamp
		}
		fn(m)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribing to %s: %s", topic, errline.First(err.Error()))
	}
	if s.ws, err = h.node.Context().NewWaitSet(); err != nil {
		s.sub.Close()
		return nil, fmt.Errorf("subscribing to %s: %s", topic, errline.First(err.Error()))
	}
	s.ws.AddSubscriptions(s.sub)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		s.ws.Close()
		s.sub.Close()
		return nil, errors.New("ros2: host closed")
	}
	h.subs[s] = true
	h.mu.Unlock()
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	go func() {
		defer close(s.done)
		_ = s.ws.Run(ctx)
	}()
	return s, nil
}

// subscription is a subscription with its wait set.
type subscription struct {
	h      *Host
	sub    *rclgo.Subscription
	ws     *rclgo.WaitSet
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	err    error
}

// Close stops the wait set, then releases it and the subscription.
func (s *subscription) Close() error {
	s.once.Do(func() {
		s.cancel()
		<-s.done
		s.err = errors.Join(s.ws.Close(), s.sub.Close())
		s.h.mu.Lock()
		delete(s.h.subs, s)
		s.h.mu.Unlock()
	})
	return s.err
}

// Publisher returns a publisher of serialized typeName messages on topic.
func (h *Host) Publisher(topic, typeName string, q rosnode.QoS) (rosnode.Publisher, error) {
	ts, err := h.typeSupport(typeName)
	if err != nil {
		return nil, err
	}
	p, err := h.node.NewPublisher(topic, ts, &rclgo.PublisherOptions{Qos: QosProfile(q)})
	if err != nil {
		return nil, fmt.Errorf("publishing on %s: %s", topic, errline.First(err.Error()))
	}
	return &publisher{pub: p, topic: topic}, nil
}

// publisher serializes Close against the other calls, which rclgo does
// not.
type publisher struct {
	mu    sync.RWMutex
	pub   *rclgo.Publisher
	topic string
}

var errClosed = errors.New("ros2: publisher closed")

func (p *publisher) Publish(msg []byte) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.pub == nil {
		return errClosed
	}
	if err := p.pub.PublishSerialized(msg); err != nil {
		return fmt.Errorf("publishing on %s: %s", p.topic, errline.First(err.Error()))
	}
	return nil
}

func (p *publisher) Matched() (int, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.pub == nil {
		return 0, errClosed
	}
	n, err := p.pub.GetSubscriptionCount()
	if err != nil {
		return 0, fmt.Errorf("%s: %s", p.topic, errline.First(err.Error()))
	}
	return n, nil
}

func (p *publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pub == nil {
		return nil
	}
	err := p.pub.Close()
	p.pub = nil
	if err != nil {
		return fmt.Errorf("closing the publisher of %s: %s", p.topic, errline.First(err.Error()))
	}
	return nil
}

// TopicType returns the type the graph knows for topic.
func (h *Host) TopicType(topic string) (string, bool, error) {
	name, err := rclgo.ExpandTopicName(topic, h.node.Name(), h.node.Namespace(), nil)
	if err != nil {
		return "", false, fmt.Errorf("topic name %q: %s", topic, errline.First(err.Error()))
	}
	all, err := h.node.GetTopicNamesAndTypes(true) // true: ROS names (rclgo passes !demangle as no_demangle)
	if err != nil {
		return "", false, fmt.Errorf("reading the ROS graph: %s", errline.First(err.Error()))
	}
	if ts := all[name]; len(ts) > 0 {
		return ts[0], true, nil
	}
	return "", false, nil
}

// Close closes the subscriptions still open.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	subs := make([]*subscription, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	var err error
	for _, s := range subs {
		err = errors.Join(err, s.Close())
	}
	return err
}

// firstLine keeps the first line of an rclgo error, whose message goes on
// with a stack trace.
