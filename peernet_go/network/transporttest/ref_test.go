package transporttest_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// refTransport is a small real transport that the kit's own tests run
// against: length-prefixed frames over TCP, one connection per client,
// Peer = the client's address. It is written to the Conn contract plainly,
// with goroutines and channels, so that it can be trusted to be right.
type refTransport struct {
	addr     string
	maxFrame int
}

type refMsg struct {
	peer string
	b    []byte
	err  error // the message could not be read as a frame
}

// refConn is either end: the server accepts many connections, the client
// (re)dials one lazily on Send.
type refConn struct {
	t      refTransport
	server bool
	ln     net.Listener
	in     chan refMsg
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	frame  wire.Frame

	mu    sync.Mutex
	conns map[string]net.Conn // server: peer → connection; client: "" → current
}

func (t refTransport) listen() (*refConn, error) {
	ln, err := net.Listen("tcp", t.addr)
	if err != nil {
		return nil, err
	}
	c := t.newConn(true)
	c.ln = ln
	c.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c.add(nc.RemoteAddr().String(), nc)
		}
	})
	return c, nil
}

func (t refTransport) dial() *refConn { return t.newConn(false) }

func (t refTransport) newConn(server bool) *refConn {
	return &refConn{t: t, server: server, in: make(chan refMsg, 64), done: make(chan struct{}), conns: map[string]net.Conn{}}
}

// add registers nc under peer and reads frames from it until it fails.
func (c *refConn) add(peer string, nc net.Conn) {
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		nc.Close()
		return
	default:
	}
	c.conns[peer] = nc
	c.wg.Add(1) // under mu, so before Close's Wait
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer c.drop(peer, nc)
		var lenBuf [4]byte
		for {
			if _, err := io.ReadFull(nc, lenBuf[:]); err != nil {
				return
			}
			n := binary.LittleEndian.Uint32(lenBuf[:])
			m := refMsg{peer: peer}
			if int64(n) > int64(c.t.maxFrame) {
				// Cannot skip what it will not read: report and hang up.
				m.err = fmt.Errorf("%w: %d bytes announced", wire.ErrTooLarge, n)
			} else {
				m.b = make([]byte, n)
				if _, err := io.ReadFull(nc, m.b); err != nil {
					return
				}
			}
			select {
			case c.in <- m:
			case <-c.done:
				return
			}
			if m.err != nil {
				return
			}
		}
	}()
}

func (c *refConn) drop(peer string, nc net.Conn) {
	nc.Close()
	c.mu.Lock()
	if c.conns[peer] == nc {
		delete(c.conns, peer)
	}
	c.mu.Unlock()
}

func (c *refConn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *refConn) Send(ctx context.Context, f *wire.Frame) error {
	if c.isClosed() {
		return network.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.Len() > c.t.maxFrame {
		return fmt.Errorf("ref: %w", wire.ErrTooLarge)
	}
	b, err := f.Append(make([]byte, 4, 4+f.Len()))
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	key := ""
	if c.server {
		key = f.Peer
	}
	c.mu.Lock()
	nc := c.conns[key]
	c.mu.Unlock()
	if nc == nil {
		if c.server {
			return fmt.Errorf("ref: peer %q not connected", f.Peer)
		}
		var d net.Dialer
		if nc, err = d.DialContext(ctx, "tcp", c.t.addr); err != nil {
			return err
		}
		c.add("", nc)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetWriteDeadline(dl)
	} else {
		nc.SetWriteDeadline(time.Time{})
	}
	if _, err := nc.Write(b); err != nil {
		c.drop(key, nc)
		if c.isClosed() {
			return network.ErrClosed
		}
		return err
	}
	return nil
}

func (c *refConn) Recv(ctx context.Context) (*wire.Frame, error) {
	if c.isClosed() {
		return nil, network.ErrClosed
	}
	select {
	case m := <-c.in:
		if m.err != nil {
			return nil, &network.DecodeError{Peer: m.peer, Err: m.err}
		}
		if err := c.frame.Decode(m.b, c.t.maxFrame); err != nil {
			return nil, &network.DecodeError{Peer: m.peer, Err: err}
		}
		c.frame.Peer = m.peer
		return &c.frame, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, network.ErrClosed
	}
}

func (c *refConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		close(c.done)
		if c.ln != nil {
			c.ln.Close()
		}
		for _, nc := range c.conns {
			nc.Close()
		}
		c.mu.Unlock()
		c.wg.Wait()
	})
	return nil
}

// injectRaw writes b as one length-prefixed message on a new connection.
func injectRaw(addr string, b []byte) error {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	msg := binary.LittleEndian.AppendUint32(nil, uint32(len(b)))
	_, err = nc.Write(append(msg, b...))
	if err != nil {
		return err
	}
	// Let the server read it before the connection goes.
	nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = nc.Read(make([]byte, 1))
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}
