package udp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/ratelog"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// StatsReporter is implemented by the Conns of this package:
//
//	if s, ok := conn.(udp.StatsReporter); ok {
//		fmt.Println(s.Stats().Lost)
//	}
type StatsReporter interface {
	Stats() Stats
}

var (
	_ network.Conn             = (*conn)(nil)
	_ StatsReporter            = (*conn)(nil)
	_ network.PacketCounter    = (*conn)(nil)
	_ network.Waker            = (*conn)(nil)
	_ network.SecurityReporter = (*conn)(nil)
)

// aLongTimeAgo is a deadline in the past, to unblock a read at once.
var aLongTimeAgo = time.Unix(1, 0)

// waitSlice is the longest a blocked Recv waits in the kernel before it
// looks at its context again; a datagram that arrives ends the wait at
// once, and Close ends it too.
const waitSlice = 50 * time.Millisecond

// conn is one end of the udp transport. net.UDPConn is safe for concurrent
// use, so Close may run in any goroutine; Send and Recv are each used by
// one goroutine at a time, as network.Conn says.
type conn struct {
	o      *Options
	uc     *net.UDPConn
	server bool
	local  string // for errors
	st     counters

	closed    atomic.Bool
	closeOnce sync.Once
	woken     atomic.Bool // a Wake not yet seen by Recv

	// With a pre-shared key: this end's session, and what refused
	// datagrams are reported through.
	session uint64
	log     *ratelog.Logger

	// Used by the goroutine calling Send.
	nextID        uint32
	hdr, dgram    []byte
	lastPeer      string
	lastAddr      netip.AddrPort
	writeDeadline deadline
	sealer        *authenticator // nil without a key

	// Used by the goroutine calling Recv.
	peerName string // client: the server's device name
	rbuf     []byte
	asm      *reassembler
	held     []byte // reassembly buffer of the frame last returned
	frame    wire.Frame
	opener   *authenticator // nil without a key
	replays  *replayFilter

	readDeadline deadline
}

// newConn makes a conn of socket uc. With a key its datagrams are
// authenticated, and the notices of refused ones go to notices.
func newConn(o *Options, uc *net.UDPConn, server bool, key []byte, notices io.Writer) *conn {
	c := &conn{
		o: o, uc: uc, server: server, local: uc.LocalAddr().String(),
		nextID: randID(),
		hdr:    make([]byte, 0, wire.FixedHeaderSize+wire.MaxEncodingLen),
		dgram:  make([]byte, 0, HeaderSize+o.PayloadSize+TrailerSize),
		rbuf:   make([]byte, MaxDatagram+1),
	}
	if key != nil {
		c.sealer, c.opener = newAuthenticator(key), newAuthenticator(key)
		c.session = randSession()
		c.replays = newReplayFilter()
		c.log = ratelog.New(notices, ratelog.Options{})
	}
	c.asm = newReassembler(o, &c.st)
	r, w := setBuffers(uc, o.ReadBuffer, o.WriteBuffer)
	c.st.readBuffer.Store(int64(r))
	c.st.writeBuffer.Store(int64(w))
	return c
}

// Send sends f as one datagram, or as several fragments when it is longer
// than payload_size. On the server f.Peer names the client by its address,
// as Recv reported it. Datagrams are handed to the kernel without waiting
// for anything; ctx bounds the writes (a full socket buffer) and is
// checked between fragments.
func (c *conn) Send(ctx context.Context, f *wire.Frame) error {
	if c.closed.Load() {
		return c.errorf("send", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return c.errorf("send", err)
	}
	if err := f.CheckLen(c.o.MaxFrame); err != nil {
		return c.errorf("send", err)
	}
	n := f.Len()
	var to netip.AddrPort
	if c.server {
		var err error
		if to, err = c.peerAddr(f.Peer); err != nil {
			return c.errorf("send", err)
		}
	}
	hdr, err := f.AppendHeader(c.hdr[:0])
	if err != nil {
		return c.errorf("send", err)
	}
	c.hdr = hdr
	id := c.nextID
	c.nextID++
	count, size := split(n, c.o.PayloadSize)
	for i := range count {
		if i > 0 {
			if err := ctx.Err(); err != nil {
				return c.errorf("send", fmt.Errorf("after fragment %d of %d: %w", i, count, err))
			}
		}
		off := i * size
		d := appendHeader(c.dgram[:0], id, i, count, n)
		d = appendRange(d, hdr, f.Payload, off, min(off+size, n))
		if c.sealer != nil {
			d[3] = FlagAuth
			d = c.sealer.seal(d, c.session)
		}
		c.dgram = d
		c.st.fragmentsSent.Add(1)
		if c.o.Drop != nil && c.o.Drop(f, i) {
			c.st.dropped.Add(1)
			continue
		}
		if err := c.write(ctx, d, to); err != nil {
			return c.errorf("send", fmt.Errorf("fragment %d of %d: %w", i, count, err))
		}
	}
	c.st.messagesSent.Add(1)
	return nil
}

// appendRange appends bytes [from, to) of the concatenation of hdr and
// payload to dst.
func appendRange(dst, hdr, payload []byte, from, to int) []byte {
	if from < len(hdr) {
		dst = append(dst, hdr[from:min(to, len(hdr))]...)
		from = len(hdr)
	}
	if to > from {
		dst = append(dst, payload[from-len(hdr):to-len(hdr)]...)
	}
	return dst
}

// write sends one datagram: to the connected server, or to a client. It
// waits for room in the socket buffer until ctx ends. A client's socket
// reports an earlier ICMP port-unreachable on its next write; that write is
// tried again once, then the datagram counts as lost.
func (c *conn) write(ctx context.Context, d []byte, to netip.AddrPort) error {
	refused := 0
	for {
		if t, move := c.writeDeadline.next(ctx); move {
			if err := c.uc.SetWriteDeadline(t); err != nil {
				return c.mapClosed(err)
			}
		}
		var err error
		if c.server {
			_, err = c.uc.WriteToUDPAddrPort(d, to)
		} else {
			_, err = c.uc.Write(d)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.ECONNREFUSED):
			c.st.unreachable.Add(1)
			if refused++; refused > 1 {
				return nil // nothing listens there now; the datagram is lost
			}
		case errors.Is(err, os.ErrDeadlineExceeded) && !c.closed.Load():
			if err := ctx.Err(); err != nil {
				return err
			}
			if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
				return context.DeadlineExceeded
			}
		default:
			return c.mapClosed(err)
		}
	}
}

// deadline is a socket deadline that is moved only when it must be: a
// blocked call waits at most waitSlice at a time before it looks at its
// context again.
type deadline struct{ t time.Time }

// next returns the deadline for the next wait under ctx, and whether the
// socket's must move to it: the current one stays while it lies between
// now and min(ctx's deadline, now + waitSlice); otherwise it becomes that
// minimum.
func (d *deadline) next(ctx context.Context) (time.Time, bool) {
	now := time.Now()
	limit := now.Add(waitSlice)
	if dl, ok := ctx.Deadline(); ok && dl.Before(limit) {
		limit = dl
	}
	if d.t.After(now) && !d.t.After(limit) {
		return d.t, false
	}
	d.t = limit
	return limit, true
}

// peerAddr returns the address a Frame.Peer names.
func (c *conn) peerAddr(peer string) (netip.AddrPort, error) {
	if peer == c.lastPeer && peer != "" {
		return c.lastAddr, nil
	}
	a, err := netip.ParseAddrPort(peer)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("frame names no valid peer (Peer %.40q); set it from the request's Peer", peer)
	}
	c.lastPeer, c.lastAddr = peer, a
	return a, nil
}

// Recv returns the next frame, reassembled from its fragments. On the
// server Frame.Peer is the client's address ("127.0.0.1:40312"); on a
// client it is the server's device name. A datagram that is not a valid
// fragment, or a frame that does not decode, is a *network.DecodeError.
func (c *conn) Recv(ctx context.Context) (*wire.Frame, error) {
	if c.closed.Load() {
		return nil, c.errorf("recv", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, c.errorf("recv", err)
	}
	if c.held != nil {
		c.asm.release(c.held)
		c.held = nil
	}
	if len(c.asm.order) > 0 {
		c.asm.expire(time.Now())
	}
	for {
		if t, move := c.readDeadline.next(ctx); move {
			if err := c.uc.SetReadDeadline(t); err != nil {
				return nil, c.errorf("recv", c.mapClosed(err))
			}
		}
		// After the deadline is set: a Wake that set its past deadline
		// before ours overwrote it is seen here.
		if c.woken.Swap(false) {
			c.readDeadline = deadline{}
			return nil, c.errorf("recv", network.ErrWoken)
		}
		n, addr, err := c.uc.ReadFromUDPAddrPort(c.rbuf)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				c.st.unreachable.Add(1)
				continue
			}
			err = c.mapClosed(err)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				cerr := ctx.Err()
				if cerr == nil {
					if d, ok := ctx.Deadline(); !ok || time.Now().Before(d) {
						// A slice ended, or a Wake cut it short: set the
						// deadline afresh and wait again.
						c.readDeadline = deadline{}
						continue
					}
					cerr = context.DeadlineExceeded // the socket's deadline is ctx's
				}
				err = cerr
			} else if !errors.Is(err, network.ErrClosed) && ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, c.errorf("recv", err)
		}
		c.st.fragmentsReceived.Add(1)
		f, err := c.recvDatagram(addr, c.rbuf[:n])
		if f != nil || err != nil {
			return f, err
		}
	}
}

// recvDatagram handles one datagram from addr: it returns the frame the
// datagram completes, nothing when more fragments are awaited, or a
// *network.DecodeError.
//
// With a key, a datagram whose tag does not verify, or that replays one
// already delivered, is dropped and counted before anything else looks at
// it, so forged datagrams cannot take the place of real senders in the
// reassembly and accounting state.
func (c *conn) recvDatagram(addr netip.AddrPort, b []byte) (*wire.Frame, error) {
	var (
		flags   byte
		session uint64
	)
	if c.opener != nil {
		var err error
		if b, session, err = c.opener.open(b); err != nil {
			c.st.badTags.Add(1)
			c.log.Printf("udp-bad-tag", "udp: %s: dropped a datagram from %s: %v (do both ends have the same key?)", c.local, addr, err)
			return nil, nil
		}
		flags = FlagAuth
	}
	ps := c.asm.peer(addr)
	name := ps.name
	if !c.server {
		name = c.peerName
	}
	frag, err := decodeFragmentFlags(b, c.o.MaxFrame, flags)
	if err != nil {
		c.st.malformed.Add(1)
		return nil, &network.DecodeError{Peer: name, Err: err}
	}
	if c.replays != nil && c.replays.replay(session, frag.id, addr) {
		c.st.replays.Add(1)
		c.log.Printf("udp-replay", "udp: %s: dropped a replayed datagram of message %d from %s", c.local, frag.id, addr)
		return nil, nil
	}
	var now time.Time
	if frag.count > 1 || len(c.asm.order) > 0 {
		now = time.Now()
	}
	msg, owned, err := c.asm.add(addr, ps, &frag, now)
	if err != nil {
		c.st.malformed.Add(1)
		return nil, &network.DecodeError{Peer: name, Err: err}
	}
	if msg == nil {
		return nil, nil
	}
	if c.replays != nil {
		c.replays.delivered(session, frag.id, addr)
	}
	if owned {
		c.held = msg
	}
	c.st.messagesReceived.Add(1)
	if err := c.frame.Decode(msg, c.o.MaxFrame); err != nil {
		return nil, &network.DecodeError{Peer: name, Err: err}
	}
	c.frame.Peer = name
	return &c.frame, nil
}

// Stats returns the conn's counters.
func (c *conn) Stats() Stats { return c.st.stats() }

// Security implements network.SecurityReporter: the mode is
// "hmac-sha256" with a pre-shared key, "" without.
func (c *conn) Security() network.Security {
	s := network.Security{BadTags: c.st.badTags.Load(), Replays: c.st.replays.Load()}
	if c.sealer != nil {
		s.Mode = "hmac-sha256"
	}
	return s
}

// Packets returns the datagrams sent and received so far.
func (c *conn) Packets() (sent, received uint64) {
	return c.st.fragmentsSent.Load(), c.st.fragmentsReceived.Load()
}

// Close closes the socket. It may be called from any goroutine, also while
// another is blocked in Send or Recv, which then return network.ErrClosed.
// Closing twice is harmless.
func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if c.log != nil {
			c.log.Flush()
		}
		if cerr := c.uc.Close(); cerr != nil {
			err = c.errorf("close", cerr)
		}
	})
	return err
}

// Wake implements network.Waker: it ends a blocked read by moving the
// socket's read deadline into the past.
func (c *conn) Wake() {
	if c.closed.Load() {
		return
	}
	c.woken.Store(true)
	_ = c.uc.SetReadDeadline(aLongTimeAgo)
}

// mapClosed turns the error of a call on a closed socket into ErrClosed.
func (c *conn) mapClosed(err error) error {
	if err != nil && (c.closed.Load() || errors.Is(err, net.ErrClosed)) {
		return network.ErrClosed
	}
	return err
}

func (c *conn) errorf(op string, err error) error {
	return fmt.Errorf("udp: %s %s: %w", op, c.local, err)
}
