package rosnode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// TransportName is the --network name of the ros2 network.
const TransportName = "ros2"

// Defaults of the ros2 section of a network config.
const (
	DefaultSampleTopic     = "/peernet/{device}/sample"
	DefaultReplyTopic      = "/peernet/{device}/reply"
	DefaultNetworkQoSDepth = 100
)

// matchPoll is how often Send checks whether the other side has matched.
const matchPoll = 2 * time.Millisecond

// ROS2Network is the ros2 section of a network config:
//
//	ros2:
//	  sample_topic: /peernet/{device}/sample   # edge → cloud, per edge device
//	  reply_topic: /peernet/{device}/reply     # cloud → edge
//	  reliability: reliable                    # QoS of both topics
//	  durability: volatile
//	  depth: 100
//	  max_frame: 67108864                      # largest frame, header included
//
// {device} stands for the edge's device name, made a valid topic token.
type ROS2Network struct {
	// SampleTopic and ReplyTopic are the topic templates. They default to
	// DefaultSampleTopic and DefaultReplyTopic.
	SampleTopic string `yaml:"sample_topic"`
	ReplyTopic  string `yaml:"reply_topic"`
	// QoS of both topics; it defaults to reliable, volatile, depth
	// DefaultNetworkQoSDepth.
	QoS `yaml:",inline"`
	// MaxFrame bounds a frame as wire.Frame.Len counts it. It defaults to
	// wire.DefaultMaxSize.
	MaxFrame int `yaml:"max_frame"`
}

// ROS2NetworkFrom reads the ros2 section of cfg, filling defaults.
func ROS2NetworkFrom(cfg *network.Config) (ROS2Network, error) {
	var n ROS2Network
	if err := cfg.Section(TransportName, &n); err != nil {
		return n, fmt.Errorf("network config: %w", err)
	}
	if n.SampleTopic == "" {
		n.SampleTopic = DefaultSampleTopic
	}
	if n.ReplyTopic == "" {
		n.ReplyTopic = DefaultReplyTopic
	}
	n.QoS = n.QoS.orDefault(QoS{Reliability: Reliable, Durability: Volatile, Depth: DefaultNetworkQoSDepth})
	if n.MaxFrame == 0 {
		n.MaxFrame = wire.DefaultMaxSize
	}
	if err := n.QoS.Validate("ros2"); err != nil {
		return n, fmt.Errorf("network config: %w", err)
	}
	if n.MaxFrame < wire.FixedHeaderSize || n.MaxFrame > 1<<31 {
		return n, fmt.Errorf("network config: ros2.max_frame %d out of range %d–%d", n.MaxFrame, wire.FixedHeaderSize, 1<<31)
	}
	for _, t := range []string{n.SampleTopic, n.ReplyTopic} {
		if !strings.Contains(t, "{device}") {
			return n, fmt.Errorf("network config: ros2 topic %q must contain {device}", t)
		}
	}
	if n.SampleTopic == n.ReplyTopic {
		return n, fmt.Errorf("network config: ros2 sample_topic and reply_topic are both %q", n.SampleTopic)
	}
	return n, nil
}

// Topics returns device's sample and reply topics.
func (n ROS2Network) Topics(device string) (sample, reply string) {
	tok := TopicToken(device)
	return strings.ReplaceAll(n.SampleTopic, "{device}", tok), strings.ReplaceAll(n.ReplyTopic, "{device}", tok)
}

// TopicToken makes name a valid ROS 2 topic name token: characters other
// than letters, digits and '_' become '_', and a leading digit gets a '_'
// before it. Device names "edge-1" and "edge_1" share a token.
func TopicToken(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

// Transport is the ros2 network: frames travel as msgs.Sample from the
// edges to the cloud and as msgs.Reply back, serialized, on per-device
// topics (see ROS2Network). Each client connection has an id,
// "<device>/<hex>", that its samples carry as their source and the
// replies as their destination, so that several connections of one device
// share its reply topic. A Send waits, under its context, until the other
// side's subscription has matched (DDS discovery), so that the first frames
// of a run are not published to nobody.
type Transport struct {
	// Host is the ROS 2 client library. Required.
	Host Host
}

var _ network.Transport = Transport{}

// Dial opens the edge end as device self: it publishes on self's sample
// topic and subscribes to self's reply topic.
func (t Transport) Dial(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if _, err := cfg.Device(self); err != nil {
		return nil, fmt.Errorf("ros2: %w", err)
	}
	n, err := ROS2NetworkFrom(cfg)
	if err != nil {
		return nil, err
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	c := newConn(n, self, self+"/"+hex.EncodeToString(id[:]))
	sample, reply := n.Topics(self)
	pub, err := t.Host.Publisher(sample, msgs.TypeSample, n.QoS)
	if err != nil {
		return nil, fmt.Errorf("ros2: publishing on %s: %w", sample, err)
	}
	c.pubs[self] = pub
	sub, err := t.Host.Subscribe(reply, msgs.TypeReply, n.QoS, c.onReply)
	if err != nil {
		pub.Close()
		return nil, fmt.Errorf("ros2: subscribing to %s: %w", reply, err)
	}
	c.subs = append(c.subs, sub)
	return c, nil
}

// Listen opens the cloud end as device self: it subscribes to the sample
// topic of every other device of cfg and publishes on their reply topics.
func (t Transport) Listen(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if _, err := cfg.Device(self); err != nil {
		return nil, fmt.Errorf("ros2: %w", err)
	}
	n, err := ROS2NetworkFrom(cfg)
	if err != nil {
		return nil, err
	}
	c := newConn(n, self, "")
	for _, d := range cfg.Devices {
		if d.Name == self {
			continue
		}
		sample, reply := n.Topics(d.Name)
		pub, err := t.Host.Publisher(reply, msgs.TypeReply, n.QoS)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("ros2: publishing on %s: %w", reply, err)
		}
		c.pubs[d.Name] = pub
		sub, err := t.Host.Subscribe(sample, msgs.TypeSample, n.QoS, c.onSample(d.Name))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("ros2: subscribing to %s: %w", sample, err)
		}
		c.subs = append(c.subs, sub)
	}
	if len(c.subs) == 0 {
		c.Close()
		return nil, fmt.Errorf("ros2: the network config has no device besides the server %q to listen to", self)
	}
	return c, nil
}

// item is a received frame or the reason a message was not one.
type item struct {
	f   wire.Frame
	err error
}

// conn is either end: a client has one publisher (its sample topic) and an
// id; a server has a publisher per client device and no id.
type conn struct {
	n      ROS2Network
	device string
	id     string // the client connection id; "" on the server

	pubs map[string]Publisher // by device
	subs []io.Closer
	in   chan item
	buf  []byte // encoding buffer, used by Send only

	closeOnce sync.Once
	closed    chan struct{}
	wake      chan struct{} // network.Waker: one pending wake-up
	last      wire.Frame    // the frame Recv returned last
}

var _ network.Waker = (*conn)(nil)

func newConn(n ROS2Network, device, id string) *conn {
	return &conn{
		n: n, device: device, id: id,
		pubs:   map[string]Publisher{},
		in:     make(chan item, max(n.Depth, 64)),
		closed: make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
}

// deliver queues it for Recv; a full queue drops it, as a full DDS
// history would: the run counts the frame lost.
func (c *conn) deliver(it item) {
	select {
	case <-c.closed:
	case c.in <- it:
	default:
	}
}

// onSample returns the callback of device's sample topic.
func (c *conn) onSample(device string) func(Message) {
	return func(m Message) {
		var s msgs.Sample
		if err := cdr.Unmarshal(m.Data, &s); err != nil {
			c.deliver(item{err: &network.DecodeError{Peer: device, Err: err}})
			return
		}
		f, err := s.Frame()
		if err == nil {
			err = f.CheckLen(c.n.MaxFrame)
		}
		if d, id, _ := strings.Cut(s.Source, "/"); err == nil && (d != device || id == "") {
			err = fmt.Errorf("ros2: sample on %s's topic from %q, want %s/<id>", device, s.Source, device)
		}
		if err != nil {
			c.deliver(item{err: &network.DecodeError{Peer: device, Err: err}})
			return
		}
		c.deliver(item{f: f})
	}
}

func (c *conn) onReply(m Message) {
	var r msgs.Reply
	if err := cdr.Unmarshal(m.Data, &r); err != nil {
		c.deliver(item{err: &network.DecodeError{Err: err}})
		return
	}
	if r.Destination != c.id {
		return // another connection's reply
	}
	f, err := r.Frame()
	if err == nil {
		err = f.CheckLen(c.n.MaxFrame)
	}
	if err != nil {
		c.deliver(item{err: &network.DecodeError{Err: err}})
		return
	}
	f.Peer = ""
	c.deliver(item{f: f})
}

// Send publishes f: as a Sample from a client, as a Reply to f.Peer from
// the server. It first waits until the topic has a matched subscription.
func (c *conn) Send(ctx context.Context, f *wire.Frame) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	if err := f.CheckLen(c.n.MaxFrame); err != nil {
		return fmt.Errorf("ros2: %w", err)
	}
	var (
		pub Publisher
		msg cdr.Message
	)
	if c.id != "" {
		s, err := msgs.SampleFromFrame(f, c.id, c.device)
		if err != nil {
			return fmt.Errorf("ros2: %w", err)
		}
		pub, msg = c.pubs[c.device], &s
	} else {
		device, _, ok := strings.Cut(f.Peer, "/")
		if pub = c.pubs[device]; !ok || pub == nil {
			return fmt.Errorf("ros2: no client device for peer %q", f.Peer)
		}
		r, err := msgs.ReplyFromFrame(f, f.Peer, c.device)
		if err != nil {
			return fmt.Errorf("ros2: %w", err)
		}
		msg = &r
	}
	if err := c.waitMatched(ctx, pub); err != nil {
		return err
	}
	c.buf = cdr.MarshalAppend(c.buf[:0], msg, false)
	if err := pub.Publish(c.buf); err != nil {
		if c.isClosed() {
			return network.ErrClosed
		}
		return fmt.Errorf("ros2: publish: %w", err)
	}
	return nil
}

// waitMatched waits until pub has a matched subscription.
func (c *conn) waitMatched(ctx context.Context, pub Publisher) error {
	var tick *time.Ticker
	for {
		n, err := pub.Matched()
		switch {
		case c.isClosed():
			return network.ErrClosed
		case err != nil:
			return fmt.Errorf("ros2: %w", err)
		case n > 0:
			return nil
		}
		if tick == nil {
			tick = time.NewTicker(matchPoll)
			defer tick.Stop()
		}
		select {
		case <-tick.C:
		case <-c.closed:
			return network.ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("ros2: waiting for a subscriber: %w", ctx.Err())
		}
	}
}

// Recv returns the next frame for this end.
func (c *conn) Recv(ctx context.Context) (*wire.Frame, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	select {
	case it := <-c.in:
		if it.err != nil {
			return nil, it.err
		}
		c.last = it.f
		return &c.last, nil
	case <-c.wake:
		return nil, fmt.Errorf("ros2: receive: %w", network.ErrWoken)
	case <-c.closed:
		return nil, network.ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("ros2: receive: %w", ctx.Err())
	}
}

// Wake implements network.Waker.
func (c *conn) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) check(ctx context.Context) error {
	if c.isClosed() {
		return network.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ros2: %w", err)
	}
	return nil
}

func (c *conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Close unsubscribes and closes the publishers. Blocked calls return
// network.ErrClosed.
func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		for _, s := range c.subs {
			err = errors.Join(err, s.Close())
		}
		for _, p := range c.pubs {
			err = errors.Join(err, p.Close())
		}
	})
	return err
}
