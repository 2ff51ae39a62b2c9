package rosnode

import (
	"errors"
	"io"
	"strings"
	"sync"
	"time"
)

// memHost is an in-process message bus with the Host interface: it stands
// in for DDS in the tests that run without ROS (the rclgo host is tested
// against a real ROS 2 by peernet_go/ros2's tests). Every subscription has
// a goroutine of its own that calls its callback, as a ROS executor does;
// a subscription's queue holds its QoS depth, and a full queue drops, as a
// best-effort reader does.
type memHost struct {
	node string

	mu     sync.Mutex
	topics map[string]*memTopic
}

type memTopic struct {
	typ  string
	subs map[*memSub]bool
	pubs int
}

type memSub struct {
	ch   chan Message
	stop chan struct{}
	done chan struct{}
	once sync.Once
	h    *memHost
	name string
}

func newMemHost(node string) *memHost { return &memHost{node: node, topics: map[string]*memTopic{}} }

// resolve expands "~/x" to the node's private name and relative names to
// the root namespace.
func (h *memHost) resolve(topic string) string {
	if rest, ok := strings.CutPrefix(topic, "~/"); ok {
		return h.node + "/" + rest
	}
	if !strings.HasPrefix(topic, "/") {
		return "/" + topic
	}
	return topic
}

func (h *memHost) topic(name, typ string) (*memTopic, error) {
	t := h.topics[name]
	if t == nil {
		t = &memTopic{typ: typ, subs: map[*memSub]bool{}}
		h.topics[name] = t
	}
	if t.typ != typ {
		return nil, errors.New("memhost: topic " + name + " has type " + t.typ + ", not " + typ)
	}
	return t, nil
}

func (h *memHost) Subscribe(topic, typeName string, q QoS, fn func(Message)) (io.Closer, error) {
	name := h.resolve(topic)
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.topic(name, typeName)
	if err != nil {
		return nil, err
	}
	s := &memSub{ch: make(chan Message, max(q.Depth, 1)), stop: make(chan struct{}), done: make(chan struct{}), h: h, name: name}
	t.subs[s] = true
	go func() {
		defer close(s.done)
		for {
			select {
			case m := <-s.ch:
				fn(m)
			case <-s.stop:
				return
			}
		}
	}()
	return s, nil
}

func (s *memSub) Close() error {
	s.once.Do(func() {
		s.h.mu.Lock()
		delete(s.h.topics[s.name].subs, s)
		s.h.mu.Unlock()
		close(s.stop)
		<-s.done
	})
	return nil
}

func (h *memHost) Publisher(topic, typeName string, q QoS) (Publisher, error) {
	name := h.resolve(topic)
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.topic(name, typeName)
	if err != nil {
		return nil, err
	}
	t.pubs++
	return &memPub{h: h, t: t}, nil
}

func (h *memHost) TopicType(topic string) (string, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[h.resolve(topic)]
	if t == nil || len(t.subs)+t.pubs == 0 {
		return "", false, nil
	}
	return t.typ, true, nil
}

type memPub struct {
	h      *memHost
	t      *memTopic
	mu     sync.Mutex
	closed bool
}

func (p *memPub) Publish(msg []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("memhost: publisher closed")
	}
	now := time.Now()
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	for s := range p.t.subs {
		m := Message{Data: append([]byte(nil), msg...), Received: now, Published: now}
		select {
		case s.ch <- m:
		default: // a full reader queue drops
		}
	}
	return nil
}

func (p *memPub) Matched() (int, error) {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	return len(p.t.subs), nil
}

func (p *memPub) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.h.mu.Lock()
		p.t.pubs--
		p.h.mu.Unlock()
	}
	return nil
}

// collect subscribes to topic and gathers its messages.
type collector struct {
	mu   sync.Mutex
	msgs [][]byte
	sub  io.Closer
}

func (h *memHost) collect(topic, typ string) *collector {
	c := &collector{}
	sub, err := h.Subscribe(topic, typ, QoS{Depth: 10000}, func(m Message) {
		c.mu.Lock()
		c.msgs = append(c.msgs, m.Data)
		c.mu.Unlock()
	})
	if err != nil {
		panic(err)
	}
	c.sub = sub
	return c
}

func (c *collector) all() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.msgs...)
}
