//go:build cgo

package zmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// waitSlice is the longest a blocked Send waits inside libzmq (as
// ZMQ_SNDTIMEO), or a Recv in Go's poller, before it looks at its context and at Close
// again. A message that arrives ends the wait at once.
const waitSlice = 50 * time.Millisecond

// singlePartMax is the largest payload sent in one message part with its
// header: copying it is cheaper than the extra libzmq calls of a second
// part. Larger payloads travel in a part of their own, never copied.
const singlePartMax = 16 << 10

// maxParts is the most message parts kept per message: the ROUTER identity,
// the header and the payload. Extra parts are read and dropped.
const maxParts = 3

var errAgain = zmq4.Errno(syscall.EAGAIN)

var (
	_ network.Waker            = (*conn)(nil)
	_ network.SecurityReporter = (*conn)(nil)
)

// Dial opens the client end: a DEALER connected to the server device of
// cfg. It does not wait for the server; the first Send does, until its
// context ends.
func (t Transport) Dial(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("zmq-tcp: dial: %w", err)
	}
	if _, err := network.ClientDevice(cfg, self); err != nil {
		return nil, fmt.Errorf("zmq-tcp: dial: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	var keys *clientKeys
	if o.Curve != nil {
		if keys, err = o.Curve.clientKeys(); err != nil {
			return nil, err
		}
	}
	endpoint := "tcp://" + cfg.ServerAddr()
	c, err := newConn(zmq4.DEALER, o, endpoint)
	if err != nil {
		return nil, fmt.Errorf("zmq-tcp: dial %s: %w", endpoint, err)
	}
	c.in.Peer = cfg.Server
	id := fmt.Sprintf("%s-%08x", self, rand.Uint32())
	steps := []func() error{
		func() error { return c.sock.SetIdentity(id) },
		func() error { return c.sock.SetImmediate(true) },
		func() error { return c.sock.SetReconnectIvl(o.Reconnect) },
		func() error { return c.sock.SetReconnectIvlMax(o.ReconnectMax) },
	}
	if keys != nil {
		c.curve = true
		steps = append(steps,
			func() error { return c.sock.ClientAuthCurve(keys.serverPublic, keys.public, keys.secret) },
			c.openMonitor,
		)
	}
	err = setOptions(append(steps, func() error { return c.sock.Connect(endpoint) })...)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("zmq-tcp: dial %s: %w", endpoint, err)
	}
	return c, nil
}

// Listen opens the server end: a ROUTER bound to the server device's port
// on its host (or on the zmq section's bind address).
func (t Transport) Listen(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("zmq-tcp: listen: %w", err)
	}
	d, err := network.ServerDevice(cfg, self)
	if err != nil {
		return nil, fmt.Errorf("zmq-tcp: listen: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	var keys *serverKeys
	if o.Curve != nil {
		if keys, err = o.Curve.serverKeys(); err != nil {
			return nil, err
		}
	}
	host := o.Bind
	if host == "" {
		host = d.Host
	}
	c, err := newConn(zmq4.ROUTER, o, "")
	if err != nil {
		return nil, fmt.Errorf("zmq-tcp: listen: %w", err)
	}
	c.server = true
	steps := []func() error{
		func() error { return c.sock.SetRouterMandatory(1) },
		func() error { return c.sock.SetRouterHandover(true) },
	}
	if keys != nil {
		// The ZAP handler first: a context without one lets every
		// CURVE client in.
		c.curve = true
		steps = append(steps,
			func() (err error) {
				c.zap, err = startZAP(c.zctx, keys.allowed, cfg.NoticeWriter())
				return err
			},
			func() error { return c.sock.ServerAuthCurve(zapDomain, keys.secret) },
		)
	}
	err = setOptions(steps...)
	if err == nil {
		c.endpoint, err = bind(ctx, c.sock, host, cfg.Port(d))
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("zmq-tcp: listen: %w", err)
	}
	if keys == nil && !network.IsLoopback(ctx, host) {
		cfg.Notify(fmt.Sprintf("zmq-tcp: listening on %s without CURVE: anyone who can reach it can send frames, and they travel in the clear (set zmq.curve; peernet keygen NAME writes keys)", c.endpoint))
	}
	return c, nil
}

// bind binds s to host:port. host may be "*", an IP address, an interface
// name, or a host name, which is resolved here because libzmq binds only to
// addresses and interfaces.
func bind(ctx context.Context, s *zmq4.Socket, host string, port int) (string, error) {
	p := strconv.Itoa(port)
	endpoint := "tcp://" + net.JoinHostPort(host, p)
	if host == "*" {
		endpoint = "tcp://*:" + p
	}
	err := s.Bind(endpoint)
	if err == nil {
		return endpoint, nil
	}
	if host == "*" || net.ParseIP(host) != nil {
		return "", fmt.Errorf("bind %s: %w", endpoint, err)
	}
	addrs, rerr := net.DefaultResolver.LookupIPAddr(ctx, host)
	if rerr == nil && len(addrs) == 0 {
		rerr = errors.New("no addresses")
	}
	if rerr != nil {
		return "", fmt.Errorf("bind %s: %w (and %q does not resolve: %w)", endpoint, err, host, rerr)
	}
	endpoint = "tcp://" + net.JoinHostPort(addrs[0].IP.String(), p)
	if err := s.Bind(endpoint); err != nil {
		return "", fmt.Errorf("bind %s (%s): %w", endpoint, host, err)
	}
	return endpoint, nil
}

func setOptions(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// conn is one zmq-tcp end. Its socket and context belong to it alone.
//
// libzmq sockets are not thread safe and libzmq aborts the process when a
// socket is closed while another thread is inside a call on it. So every
// operation on the socket, Close included, holds mu. A Send or Recv blocks
// inside libzmq for at most waitSlice at a time, and between slices it
// looks at closed, which Close sets before it takes mu; a server's Recv
// polls the socket beside an inproc wake-up socket, so Close and Wake end
// it at once. The socket is closed only when no call is running on it.
type conn struct {
	closed atomic.Bool

	mu       sync.Mutex
	zctx     *zmq4.Context
	sock     *zmq4.Socket
	sndtimeo time.Duration // current ZMQ_SNDTIMEO
	rcvtimeo time.Duration // current ZMQ_RCVTIMEO (clients)
	server   bool
	endpoint string
	maxFrame int
	hdr      []byte   // reused header buffer for Send
	peer     []byte   // reused identity buffer for Send
	lastID   []byte   // identity of the last frame received, named in in.Peer
	parts    [][]byte // reused part list for Recv
	in       wire.Frame

	// Wake-ups (servers only): a server's Recv polls the socket and
	// wakeRx (under mu); Wake and Close send on wakeTx (under wakeMu).
	// woken coalesces the wakes that come before Recv has seen the last.
	wakeMu sync.Mutex
	wakeTx *zmq4.Socket
	wakeRx *zmq4.Socket
	poller *zmq4.Poller
	woken  atomic.Bool

	// CURVE: the server's ZAP handler, and the client's monitor socket,
	// on which libzmq reports failed handshakes (used under mu).
	curve   bool
	zap     *zapHandler
	monitor *zmq4.Socket
}

func newConn(typ zmq4.Type, o *Options, endpoint string) (*conn, error) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		return nil, fmt.Errorf("new context: %w", err)
	}
	sock, err := zctx.NewSocket(typ)
	if err != nil {
		zctx.Term()
		return nil, fmt.Errorf("new socket: %w", err)
	}
	c := &conn{
		zctx:     zctx,
		sock:     sock,
		endpoint: endpoint,
		maxFrame: o.MaxFrame,
		hdr:      make([]byte, 0, wire.FixedHeaderSize+wire.MaxEncodingLen),
		parts:    make([][]byte, 0, maxParts),
	}
	steps := []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetIpv6(true) },
		func() error { return sock.SetMaxmsgsize(int64(o.MaxFrame)) },
		func() error { return sock.SetSndhwm(o.SndHWM) },
		func() error { return sock.SetRcvhwm(o.RcvHWM) },
	}
	if o.Heartbeat > 0 {
		steps = append(steps,
			func() error { return sock.SetHeartbeatIvl(o.Heartbeat) },
			func() error { return sock.SetHeartbeatTimeout(o.HeartbeatTimeout) },
			func() error { return sock.SetHeartbeatTtl(o.HeartbeatTimeout) },
		)
	}
	if err := setOptions(steps...); err != nil {
		c.Close()
		return nil, fmt.Errorf("socket options: %w", err)
	}
	if typ == zmq4.ROUTER {
		if err := c.openWake(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// openWake makes the pair of inproc sockets Wake signals a server's Recv
// through, and the poller Recv waits on.
func (c *conn) openWake() error {
	rx, err := c.zctx.NewSocket(zmq4.PAIR)
	if err != nil {
		return fmt.Errorf("wake socket: %w", err)
	}
	c.wakeRx = rx
	tx, err := c.zctx.NewSocket(zmq4.PAIR)
	if err != nil {
		return fmt.Errorf("wake socket: %w", err)
	}
	c.wakeTx = tx
	endpoint := fmt.Sprintf("inproc://peernet-wake-%p", c)
	err = setOptions(
		func() error { return rx.SetLinger(0) },
		func() error { return tx.SetLinger(0) },
		func() error { return rx.Bind(endpoint) },
		func() error { return tx.Connect(endpoint) },
	)
	if err != nil {
		return fmt.Errorf("wake socket: %w", err)
	}
	c.poller = zmq4.NewPoller()
	c.poller.Add(c.sock, zmq4.POLLIN)
	c.poller.Add(rx, zmq4.POLLIN)
	return nil
}

// openMonitor makes the client's monitor socket, which Send and Recv read
// for failed CURVE handshakes.
func (c *conn) openMonitor() error {
	endpoint := fmt.Sprintf("inproc://peernet-monitor-%p", c)
	events := zmq4.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq4.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq4.EVENT_HANDSHAKE_FAILED_AUTH
	if err := c.sock.Monitor(endpoint, events); err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	mon, err := c.zctx.NewSocket(zmq4.PAIR)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	c.monitor = mon
	return setOptions(
		func() error { return mon.SetLinger(0) },
		func() error { return mon.Connect(endpoint) },
	)
}

// handshakeError reads the events of the monitor socket, if any, and
// returns an error for a failed CURVE handshake: the reason a client's
// Send or Recv keeps waiting. c.mu must be held.
func (c *conn) handshakeError() error {
	if c.monitor == nil {
		return nil
	}
	for {
		ev, _, value, err := c.monitor.RecvEvent(zmq4.DONTWAIT)
		if err != nil {
			return nil
		}
		switch ev {
		case zmq4.EVENT_HANDSHAKE_FAILED_AUTH:
			return fmt.Errorf("%w: the server refused this client's key (ZAP status %d); add its public key to the server's client_public_keys", ErrHandshake, value)
		case zmq4.EVENT_HANDSHAKE_FAILED_PROTOCOL:
			return fmt.Errorf("%w (protocol error %#x): is server_public_key the server's, and does the server use CURVE?", ErrHandshake, value)
		case zmq4.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			return fmt.Errorf("%w: is server_public_key the server's, and does the server use CURVE?", ErrHandshake)
		}
	}
}

// Security implements network.SecurityReporter: the mode is "curve" with
// CURVE, "" without; a server counts the clients its ZAP handler refused.
func (c *conn) Security() network.Security {
	var s network.Security
	if c.curve {
		s.Mode = "curve"
	}
	if c.zap != nil {
		s.Refused = c.zap.refused.Load()
	}
	return s
}

// Wake implements network.Waker on the serving end: a Recv waiting for a
// message returns network.ErrWoken at once (or the next one does). On a
// client it does nothing.
func (c *conn) Wake() {
	if c.closed.Load() || c.woken.Swap(true) {
		return
	}
	c.signal()
}

// signal sends a wake-up message to a server's Recv.
func (c *conn) signal() {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	if c.wakeTx != nil {
		_, _ = c.wakeTx.SendBytes(nil, zmq4.DONTWAIT) // one pending is enough
	}
}

// waitIn waits, inside libzmq, until a message can be read (nil), d passes
// (errAgain), or a wake-up (network.ErrWoken, or network.ErrClosed after
// Close). A thread woken by libzmq itself answers sooner than a goroutine
// woken through Go's poller.
func (c *conn) waitIn(d time.Duration) error {
	polled, err := c.poller.Poll(d)
	if err != nil {
		return err
	}
	for _, p := range polled {
		if p.Socket == c.wakeRx && p.Events&zmq4.POLLIN != 0 {
			c.woken.Store(false) // before draining: a later Wake sends again
			for {
				if _, err := c.wakeRx.RecvBytes(zmq4.DONTWAIT); err != nil {
					break
				}
			}
			if c.closed.Load() {
				return network.ErrClosed
			}
			return network.ErrWoken
		}
	}
	if len(polled) == 0 {
		return errAgain
	}
	return nil
}

// Send sends f: a small frame (payload up to 16 KiB) as one message part,
// a larger one as two, header and payload, so that a large payload is never
// copied into a joined buffer. On the server f.Peer names
// the client, as Recv reported it. A client whose server is not connected
// waits for it until ctx ends.
func (c *conn) Send(ctx context.Context, f *wire.Frame) error {
	if c.closed.Load() {
		return c.errorf("send", network.ErrClosed)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil {
		return c.errorf("send", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return c.errorf("send", err)
	}
	if err := f.CheckLen(c.maxFrame); err != nil {
		return c.errorf("send", err)
	}
	if c.server {
		id, err := peerID(c.peer[:0], f.Peer)
		if err == nil && (len(id) == 0 || len(id) > 255) {
			err = fmt.Errorf("frame names no valid peer (Peer %.40q); set it from the request's Peer", f.Peer)
		}
		if err != nil {
			return c.errorf("send", err)
		}
		c.peer = id
	}
	hdr, err := f.AppendHeader(c.hdr[:0])
	if err != nil {
		return c.errorf("send", err)
	}
	single := len(f.Payload) <= singlePartMax
	if single {
		hdr = append(hdr, f.Payload...)
	}
	c.hdr = hdr
	for {
		to, err := c.slice(ctx)
		if err == nil && to != c.sndtimeo {
			if err = c.sock.SetSndtimeo(to); err == nil {
				c.sndtimeo = to
			}
		}
		if err == nil {
			err = c.sendParts(f, single)
			if err == nil {
				return nil
			}
			switch zmq4.AsErrno(err) {
			case errAgain:
				if err := c.handshakeError(); err != nil {
					return c.errorf("send", err)
				}
				continue
			case zmq4.EHOSTUNREACH:
				err = fmt.Errorf("peer %q is not connected", f.Peer)
			}
		} else if !c.server && !errors.Is(err, network.ErrClosed) {
			err = fmt.Errorf("server not connected or not reading: %w", err)
		}
		return c.errorf("send", err)
	}
}

// sendParts sends [peer,] header, payload, or [peer,] frame when single
// is set and c.hdr holds the whole frame. Only the first part may wait, up
// to ZMQ_SNDTIMEO: libzmq checks the high-water mark on a message's first
// part only, so once that part is taken the others are too.
func (c *conn) sendParts(f *wire.Frame, single bool) error {
	more := zmq4.SNDMORE
	if single {
		more = 0
	}
	if c.server {
		if _, err := c.sock.SendBytes(c.peer, zmq4.SNDMORE); err != nil {
			return err
		}
		if _, err := c.sock.SendBytes(c.hdr, zmq4.DONTWAIT|more); err != nil {
			return fmt.Errorf("after identity part: %w", err)
		}
	} else if _, err := c.sock.SendBytes(c.hdr, more); err != nil {
		return err
	}
	if single {
		return nil
	}
	if _, err := c.sock.SendBytes(f.Payload, zmq4.DONTWAIT); err != nil {
		return fmt.Errorf("after header part: %w", err)
	}
	return nil
}

// Recv returns the next frame. On the server, Frame.Peer is the sending
// client's identity (its device name and a random suffix); on a client it
// is the server's device name.
func (c *conn) Recv(ctx context.Context) (*wire.Frame, error) {
	if c.closed.Load() {
		return nil, c.errorf("recv", network.ErrClosed)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil {
		return nil, c.errorf("recv", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, c.errorf("recv", err)
	}
	for {
		to, err := c.slice(ctx)
		if err != nil {
			return nil, c.errorf("recv", err)
		}
		first := zmq4.DONTWAIT
		if c.server {
			switch err := c.waitIn(to); {
			case errors.Is(err, errAgain):
				if err := c.handshakeError(); err != nil {
					return nil, c.errorf("recv", err)
				}
				continue
			case err != nil:
				return nil, c.errorf("recv", err)
			}
		} else {
			// A client's Recv blocks in zmq_recv, a slice at a time.
			if to != c.rcvtimeo {
				if err := c.sock.SetRcvtimeo(to); err != nil {
					return nil, c.errorf("recv", err)
				}
				c.rcvtimeo = to
			}
			first = 0
		}
		n, err := c.recvParts(first)
		if !c.server && n == 0 && zmq4.AsErrno(err) == errAgain {
			if err := c.handshakeError(); err != nil {
				return nil, c.errorf("recv", err)
			}
			continue
		}
		if err == nil {
			return c.decode(n)
		}
		if zmq4.AsErrno(err) != errAgain || n > 0 {
			return nil, c.errorf("recv", err)
		}
	}
}

// recvParts reads one whole message into c.parts, without waiting, and
// returns its number of parts; parts beyond maxParts are read and dropped.
// The caller waited until the first part was there (waitIn): the others
// arrive with it.
func (c *conn) recvParts(first zmq4.Flag) (int, error) {
	c.parts = c.parts[:0]
	for n := 0; ; n++ {
		flags := zmq4.DONTWAIT
		if n == 0 {
			flags = first
		}
		b, err := c.sock.RecvBytes(flags)
		if err != nil {
			if n > 0 {
				err = fmt.Errorf("part %d of a message: %w", n+1, err)
			}
			return n, err
		}
		if len(c.parts) < maxParts {
			c.parts = append(c.parts, b)
		}
		more, err := c.sock.GetRcvmore()
		if err != nil {
			return n + 1, err
		}
		if !more {
			return n + 1, nil
		}
	}
}

func (c *conn) decode(n int) (*wire.Frame, error) {
	parts := c.parts
	if c.server {
		if id := parts[0]; !bytes.Equal(id, c.lastID) {
			c.lastID = append(c.lastID[:0], id...)
			c.in.Peer = peerName(id)
		}
		parts = parts[1:]
		n--
	}
	var err error
	if n > len(parts) {
		err = fmt.Errorf("%w: %d parts, a frame has 1 or 2", ErrMalformed, n)
	} else {
		err = decodeParts(&c.in, parts, c.maxFrame)
	}
	if err != nil {
		return nil, &network.DecodeError{Peer: c.in.Peer, Err: err}
	}
	return &c.in, nil
}

// slice returns how long the next call into libzmq may block: until ctx's
// deadline, at most waitSlice, at least a millisecond (libzmq's unit). It
// returns ErrClosed once Close was called and ctx's error once ctx ended.
func (c *conn) slice(ctx context.Context) (time.Duration, error) {
	if c.closed.Load() {
		return 0, network.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	d := waitSlice
	if dl, ok := ctx.Deadline(); ok {
		if r := time.Until(dl); r < d {
			d = max(r.Round(time.Millisecond), time.Millisecond)
		}
	}
	return d, nil
}

// Close closes the socket and terminates the conn's ZeroMQ context. It may
// be called from any goroutine, also while another is blocked in Send or
// Recv: that call returns ErrClosed within one wait slice (50 ms). Closing
// twice is harmless.
func (c *conn) Close() error {
	if !c.closed.Swap(true) {
		c.signal() // ends a waiting server Recv at once
	}
	c.wakeMu.Lock()
	if c.wakeTx != nil {
		c.wakeTx.Close()
		c.wakeTx = nil
	}
	c.wakeMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil {
		return nil
	}
	if c.wakeRx != nil {
		c.wakeRx.Close()
		c.wakeRx, c.poller = nil, nil
	}
	if c.monitor != nil {
		c.monitor.Close()
		c.monitor = nil
	}
	err := c.sock.Close()
	if c.zap != nil {
		c.zap.close() // after the ROUTER: see zapHandler
	}
	if terr := c.zctx.Term(); err == nil {
		err = terr
	}
	c.sock, c.zctx = nil, nil
	if err != nil {
		return c.errorf("close", err)
	}
	return nil
}

func (c *conn) errorf(op string, err error) error {
	if c.endpoint == "" {
		return fmt.Errorf("zmq-tcp: %s: %w", op, err)
	}
	return fmt.Errorf("zmq-tcp: %s %s: %w", op, c.endpoint, err)
}
