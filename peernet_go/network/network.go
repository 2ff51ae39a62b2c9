// Package network defines how frames travel between the edge and the cloud:
// the Conn interface every transport implements, the Transport that opens
// connections by role, and the PEERNet-compatible network configuration.
//
// A transport never waits forever: every Send and Recv takes a context, and
// callers give it a deadline. A Conn is used by one goroutine at a time, but
// Close may be called from any goroutine, also while another is blocked in
// Send or Recv (package transporttest checks this of every transport).
package network

import (
	"context"
	"errors"

	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Conn sends and receives frames.
//
// On the serving side a Conn may talk to several peers: Recv sets
// Frame.Peer, and Send delivers a frame to the peer its Peer field names.
type Conn interface {
	// Send sends f. It returns when the frame is handed to the transport,
	// or with an error when ctx ends first.
	Send(ctx context.Context, f *wire.Frame) error
	// Recv returns the next frame. The frame and its payload stay valid
	// until the next call to Recv. It returns ctx.Err() (wrapped) when ctx
	// ends first; a frame that fails to decode is reported as a
	// *DecodeError and the Conn stays usable.
	Recv(ctx context.Context) (*wire.Frame, error)
	// Close releases the connection. Blocked calls return ErrClosed.
	Close() error
}

// Transport opens connections of one kind.
type Transport interface {
	// Dial opens the client (edge) end: device self talks to cfg.Server.
	Dial(ctx context.Context, cfg *Config, self string) (Conn, error)
	// Listen opens the server (cloud) end as device self.
	Listen(ctx context.Context, cfg *Config, self string) (Conn, error)
}

// ErrClosed is returned by operations on a closed Conn.
var ErrClosed = errors.New("network: connection closed")

// DecodeError reports a message that arrived but is not a valid frame. The
// profiler counts these; it does not stop on them.
type DecodeError struct {
	// Peer is the sender, when the transport knows it.
	Peer string
	// Err is the decoding error from package wire.
	Err error
}

// Error returns the message.
func (e *DecodeError) Error() string {
	if e.Peer != "" {
		return "network: bad frame from " + e.Peer + ": " + e.Err.Error()
	}
	return "network: bad frame: " + e.Err.Error()
}

// Unwrap returns the wire error.
func (e *DecodeError) Unwrap() error { return e.Err }

// PacketCounter is an optional capability of a Conn whose frames travel as
// several packets (datagrams): the totals sent and received so far. The run
// loop reads it around each exchange to report the packets per iteration.
type PacketCounter interface {
	Packets() (sent, received uint64)
}

// Waker is an optional capability of a Conn: Wake makes a Recv blocked in
// another goroutine return ErrWoken promptly, or, when no Recv is blocked,
// the next one. It is safe to call from any goroutine, at any time (also
// after Close), and never blocks. A server that receives in one goroutine
// and infers in others uses it to send a finished reply at once, without
// polling; no frame is lost by a wake.
type Waker interface {
	Wake()
}

// ErrWoken is returned (wrapped) by Recv after a Waker's Wake.
var ErrWoken = errors.New("network: woken")
