// Package memnet is an in-memory network for tests: a [Transport] whose
// frames travel through Go channels with a fixed, known one-way delay in
// each direction, so that a test of the profiling loop can check upload and
// download against the truth. Frames are encoded and decoded with package
// wire on the way, exactly as on a real transport, so bad frames, size
// limits and several clients behave as they do on real sockets. It passes
// the transport conformance kit (package transporttest) and implements
// network.Waker.
//
//	n := memnet.New(memnet.Options{Up: 2 * time.Millisecond, Down: time.Millisecond})
//	srv, _ := n.Listen(ctx, cfg, cfg.Server)
//	cli, _ := n.Dial(ctx, cfg, "edge")
//
// A Network is safe for concurrent use; each Conn follows the network.Conn
// rules (one goroutine at a time, Close and Wake from anywhere).
package memnet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Name is the transport's name.
const Name = "memnet"

// Defaults of Options.
const (
	// DefaultQueue is how many frames wait at a receiver before a Send
	// blocks.
	DefaultQueue = 1024
)

// Options configure a Network.
type Options struct {
	// Up and Down are the one-way delays from clients to servers and back.
	// They default to zero; SetDelays changes them while frames flow.
	Up, Down time.Duration
	// MaxFrame is the largest encoded frame carried; larger ones are
	// refused by Send. It defaults to wire.DefaultMaxSize.
	MaxFrame int
	// Queue is how many frames wait at a receiver before Send blocks. It
	// defaults to DefaultQueue.
	Queue int
}

// Network is a set of in-memory endpoints, addressed by the server address
// of a network.Config (host:port).
type Network struct {
	o        Options
	up, down atomic.Int64 // current delays, ns
	dropping atomic.Bool

	mu      sync.Mutex
	servers map[string]*conn // by address
	clients map[string]*conn // by peer name
	nextID  int
	changed chan struct{} // closed and replaced when a server starts listening
}

// New returns an empty Network.
func New(o Options) *Network {
	if o.MaxFrame <= 0 {
		o.MaxFrame = wire.DefaultMaxSize
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	n := &Network{o: o, servers: map[string]*conn{}, clients: map[string]*conn{}, changed: make(chan struct{})}
	n.SetDelays(o.Up, o.Down)
	return n
}

// SetDelays changes the one-way delays for frames sent from now on.
func (n *Network) SetDelays(up, down time.Duration) {
	n.up.Store(int64(up))
	n.down.Store(int64(down))
}

// SetDropping makes every Send from now on succeed without delivering
// anything (a link that is down), until called again with false.
func (n *Network) SetDropping(drop bool) { n.dropping.Store(drop) }

// Transport returns n as a network.Transport.
func (n *Network) Transport() network.Transport { return transport{n} }

type transport struct{ n *Network }

func (t transport) Dial(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	return t.n.Dial(ctx, cfg, self)
}

func (t transport) Listen(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	return t.n.Listen(ctx, cfg, self)
}

// Listen opens the serving end at cfg's server address. Only one server
// listens on an address at a time.
func (n *Network) Listen(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memnet: listen: %w", err)
	}
	addr := cfg.ServerAddr()
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, busy := n.servers[addr]; busy {
		return nil, fmt.Errorf("memnet: listen %s: address in use", addr)
	}
	c := n.newConn(addr, true, self)
	n.servers[addr] = c
	close(n.changed)
	n.changed = make(chan struct{})
	return c, nil
}

// Dial opens a client end that talks to the server at cfg's server address
// (now or once it listens).
func (n *Network) Dial(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memnet: dial: %w", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nextID++
	c := n.newConn(cfg.ServerAddr(), false, self+"-"+strconv.Itoa(n.nextID))
	c.server = cfg.Server
	n.clients[c.name] = c
	return c, nil
}

// Inject delivers b, raw bytes that need not be a frame, to the server at
// addr as from a peer called "injected".
func (n *Network) Inject(addr string, b []byte) error {
	n.mu.Lock()
	srv := n.servers[addr]
	n.mu.Unlock()
	if srv == nil {
		return fmt.Errorf("memnet: inject: no server at %s", addr)
	}
	select {
	case srv.in <- message{from: "injected", data: append([]byte(nil), b...), due: time.Now()}:
		return nil
	default:
		return fmt.Errorf("memnet: inject: %s's queue is full", addr)
	}
}

func (n *Network) newConn(addr string, serving bool, name string) *conn {
	return &conn{
		net: n, addr: addr, serving: serving, name: name,
		in: make(chan message, n.o.Queue), wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

// message is one encoded frame in flight.
type message struct {
	from string // sender's peer name
	data []byte
	due  time.Time // when it arrives
}

// conn is one end.
type conn struct {
	net     *Network
	addr    string
	serving bool
	name    string // a client's peer name, or the server's device name
	server  string // a client's server device name, for Frame.Peer

	in        chan message
	wake      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closed    atomic.Bool

	pending *message // received from in, not yet due
	frame   wire.Frame
}

var (
	_ network.Conn  = (*conn)(nil)
	_ network.Waker = (*conn)(nil)
)

// Send encodes f and queues it at the receiver: the server at the address
// for a client, the client f.Peer names for a server. A client whose server
// is not listening waits for one until ctx ends.
func (c *conn) Send(ctx context.Context, f *wire.Frame) error {
	if c.closed.Load() {
		return c.errorf("send", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return c.errorf("send", err)
	}
	if err := f.CheckLen(c.net.o.MaxFrame); err != nil {
		return c.errorf("send", err)
	}
	data, err := f.Marshal()
	if err != nil {
		return c.errorf("send", err)
	}
	delay := c.net.up.Load()
	if c.serving {
		delay = c.net.down.Load()
	}
	m := message{from: c.name, data: data, due: time.Now().Add(time.Duration(delay))}
	for {
		to, changed, err := c.target(f)
		if err != nil {
			return c.errorf("send", err)
		}
		if to == nil { // no server yet: wait for one
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return c.errorf("send", ctx.Err())
			case <-c.done:
				return c.errorf("send", network.ErrClosed)
			}
		}
		if c.net.dropping.Load() {
			return nil
		}
		select {
		case to.in <- m:
			return nil
		case <-to.done: // it closed meanwhile: find the next one
			if c.serving {
				return c.errorf("send", fmt.Errorf("peer %q is not connected", f.Peer))
			}
		case <-ctx.Done():
			return c.errorf("send", ctx.Err())
		case <-c.done:
			return c.errorf("send", network.ErrClosed)
		}
	}
}

// target returns the receiving end, or nil and a channel that is closed
// when a server starts listening.
func (c *conn) target(f *wire.Frame) (*conn, <-chan struct{}, error) {
	n := c.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.serving {
		to := n.clients[f.Peer]
		if to == nil || to.closed.Load() {
			return nil, nil, fmt.Errorf("peer %q is not connected", f.Peer)
		}
		return to, nil, nil
	}
	if to := n.servers[c.addr]; to != nil && !to.closed.Load() {
		return to, nil, nil
	}
	return nil, n.changed, nil
}

// Recv returns the next frame once its delay has passed.
func (c *conn) Recv(ctx context.Context) (*wire.Frame, error) {
	if c.closed.Load() {
		return nil, c.errorf("recv", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, c.errorf("recv", err)
	}
	if c.pending == nil {
		select {
		case m := <-c.in:
			c.pending = &m
		case <-c.wake:
			return nil, c.errorf("recv", network.ErrWoken)
		case <-ctx.Done():
			return nil, c.errorf("recv", ctx.Err())
		case <-c.done:
			return nil, c.errorf("recv", network.ErrClosed)
		}
	}
	if wait := time.Until(c.pending.due); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.wake:
			return nil, c.errorf("recv", network.ErrWoken)
		case <-ctx.Done():
			return nil, c.errorf("recv", ctx.Err())
		case <-c.done:
			return nil, c.errorf("recv", network.ErrClosed)
		}
	}
	m := *c.pending
	c.pending = nil
	peer := c.server
	if c.serving {
		peer = m.from
	}
	if err := c.frame.Decode(m.data, c.net.o.MaxFrame); err != nil {
		return nil, &network.DecodeError{Peer: peer, Err: err}
	}
	c.frame.Peer = peer
	return &c.frame, nil
}

// Wake implements network.Waker.
func (c *conn) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Close releases the end; blocked calls return network.ErrClosed.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.done)
		n := c.net
		n.mu.Lock()
		if c.serving {
			if n.servers[c.addr] == c {
				delete(n.servers, c.addr)
			}
		} else {
			delete(n.clients, c.name)
		}
		n.mu.Unlock()
	})
	return nil
}

func (c *conn) errorf(op string, err error) error {
	if errors.Is(err, network.ErrWoken) {
		return fmt.Errorf("memnet: %s: %w", op, err)
	}
	return fmt.Errorf("memnet: %s %s: %w", op, c.addr, err)
}
