//go:build cgo

package zmq

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// The raw baseline is a plain PAIR ping-pong, as PEERNet itself used. One
// setup message starts a run: rawMagic, the reply size and a nonce (16
// bytes); the server echoes it as the acknowledgement. After that every
// message is a bare payload answered by a bare reply of the set size (a
// payload that is itself a 16-byte setup message would start a new run).
const (
	rawMagic     = "PNRAWv1\x00"
	rawSetupSize = 16
	// rawIdle is how often an idle RawServe looks at its context.
	rawIdle = 50 * time.Millisecond
	// rawSetupRetry is how long RawPing waits to send the setup message
	// and for its acknowledgement before it tries again with a new socket.
	rawSetupRetry = 250 * time.Millisecond
)

func isSetup(b []byte) bool { return len(b) == rawSetupSize && string(b[:8]) == rawMagic }

// RawServe answers raw PAIR pings on the server device's port until ctx
// ends or it has answered pings of them (0: no limit), then returns nil. It serves one client at a time; a new client's
// setup message starts a new run.
func (t Transport) RawServe(ctx context.Context, cfg *network.Config, self string, pings int) error {
	d, err := network.ServerDevice(cfg, self)
	if err != nil {
		return fmt.Errorf("zmq raw serve: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return err
	}
	host := o.Bind
	if host == "" {
		host = d.Host
	}
	zctx, s, err := rawSocket(o)
	if err != nil {
		return fmt.Errorf("zmq raw serve: %w", err)
	}
	defer zctx.Term()
	defer s.Close()
	err = setOptions(
		func() error { return s.SetRcvtimeo(rawIdle) },
		func() error { return s.SetSndtimeo(time.Second) },
	)
	if err == nil {
		_, err = bind(ctx, s, host, cfg.Port(d))
	}
	if err != nil {
		return fmt.Errorf("zmq raw serve: %w", err)
	}
	var reply []byte
	for answered := 0; ctx.Err() == nil && (pings <= 0 || answered < pings); {
		msg, err := s.RecvBytes(0)
		if err != nil {
			if zmq4.AsErrno(err) == errAgain {
				continue
			}
			return fmt.Errorf("zmq raw serve: recv: %w", err)
		}
		if isSetup(msg) {
			n := binary.LittleEndian.Uint32(msg[8:])
			if int64(n) > int64(o.MaxFrame) {
				continue // refuse: no acknowledgement
			}
			reply = make([]byte, n)
			_, _ = s.SendBytes(msg, 0) // a lost acknowledgement makes the client try again
			continue
		}
		_, _ = s.SendBytes(reply, 0) // a lost reply is the client's timeout
		answered++
	}
	return nil
}

// RawPing runs a raw PAIR ping-pong against RawServe: after one setup
// exchange, each iteration sends p.Payload and waits for the reply, and its
// round trip is timed with the monotonic clock. Nothing else happens in the
// loop.
func (t Transport) RawPing(ctx context.Context, cfg *network.Config, self string, p network.Ping) ([]time.Duration, error) {
	return network.RunPing(ctx, "zmq", p, func(ctx context.Context, p network.Ping) (*network.RawClient, error) {
		r, err := t.dialRaw(ctx, cfg, self, p)
		if err != nil {
			return nil, err
		}
		return &network.RawClient{Addr: r.endpoint, RoundTrip: r.roundTrip, Close: r.close}, nil
	})
}

// rawClient is the PAIR end of a raw run, set up and acknowledged.
type rawClient struct {
	zctx      *zmq4.Context
	s         *zmq4.Socket
	endpoint  string
	payload   []byte
	replySize int
	timeout   time.Duration
}

// dialRaw connects to a RawServe peer and sets up a run of p's sizes.
func (t Transport) dialRaw(ctx context.Context, cfg *network.Config, self string, p network.Ping) (*rawClient, error) {
	if _, err := network.ClientDevice(cfg, self); err != nil {
		return nil, fmt.Errorf("zmq raw ping: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	timeout, err := p.Check(o.MaxFrame)
	if err != nil {
		return nil, fmt.Errorf("zmq raw ping: %w", err)
	}
	r := &rawClient{endpoint: "tcp://" + cfg.ServerAddr(), payload: p.Payload, replySize: p.ReplySize, timeout: timeout}
	// A PAIR socket over TCP does not recover from a rejected connection:
	// a server still attached to a previous client leaves the new one
	// connected to nothing. So each attempt uses a fresh socket.
	deadline := time.Now().Add(r.timeout)
	for {
		r.zctx, r.s, err = rawSocket(o)
		if err != nil {
			return nil, fmt.Errorf("zmq raw ping %s: %w", r.endpoint, err)
		}
		err = setOptions(
			func() error { return r.s.Connect(r.endpoint) },
			func() error { return rawSetup(r.s, p.ReplySize) },
			func() error { return r.s.SetSndtimeo(r.timeout) },
			func() error { return r.s.SetRcvtimeo(r.timeout) },
		)
		if err == nil {
			return r, nil
		}
		r.close()
		if !errors.Is(err, errAgain) {
			return nil, fmt.Errorf("zmq raw ping %s: %w", r.endpoint, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("zmq raw ping %s: %w", r.endpoint, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("zmq raw ping %s: no raw server answered within %v (is RawServe running there?)", r.endpoint, r.timeout)
		}
	}
}

// roundTrip sends the payload and waits for the reply, for
// network.TimeRoundTrips.
func (r *rawClient) roundTrip() error {
	if _, err := r.s.SendBytes(r.payload, 0); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	b, err := r.s.RecvBytes(0)
	if err != nil {
		return fmt.Errorf("no reply within %v: %w", r.timeout, err)
	}
	if len(b) != r.replySize {
		return fmt.Errorf("reply of %d bytes, want %d", len(b), r.replySize)
	}
	return nil
}

func (r *rawClient) close() {
	r.s.Close()
	r.zctx.Term()
}

// rawSetup sends the setup message and waits for its acknowledgement, up
// to rawSetupRetry each; it returns EAGAIN when either times out.
func rawSetup(s *zmq4.Socket, replySize int) error {
	setup := make([]byte, rawSetupSize)
	copy(setup, rawMagic)
	binary.LittleEndian.PutUint32(setup[8:], uint32(replySize))
	binary.LittleEndian.PutUint32(setup[12:], rand.Uint32())
	err := setOptions(
		func() error { return s.SetRcvtimeo(rawSetupRetry) },
		func() error { return s.SetSndtimeo(rawSetupRetry) },
	)
	if err != nil {
		return err
	}
	if _, err := s.SendBytes(setup, 0); err != nil {
		return err
	}
	ack, err := s.RecvBytes(0)
	if err != nil {
		return err
	}
	if string(ack) != string(setup) {
		return fmt.Errorf("setup acknowledged with %d unexpected bytes", len(ack))
	}
	return nil
}

// rawSocket returns a PAIR socket with LINGER 0 in a context of its own.
func rawSocket(o *Options) (*zmq4.Context, *zmq4.Socket, error) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		return nil, nil, err
	}
	s, err := zctx.NewSocket(zmq4.PAIR)
	if err == nil {
		err = setOptions(
			func() error { return s.SetLinger(0) },
			func() error { return s.SetIpv6(true) },
			func() error { return s.SetMaxmsgsize(int64(o.MaxFrame)) },
		)
		if err != nil {
			s.Close()
		}
	}
	if err != nil {
		zctx.Term()
		return nil, nil, fmt.Errorf("socket: %w", err)
	}
	return zctx, s, nil
}
