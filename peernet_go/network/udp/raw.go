package udp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// The raw baseline is a bare Go UDP ping-pong: no fragment header, no
// frame, no reassembly. One setup datagram starts a run — rawMagic, the
// request size, the reply size, the datagram size and a nonce (24 bytes),
// echoed by the server as the acknowledgement. After that the client sends
// each payload as consecutive datagrams of at most payload_size bytes, and
// the server, once it has received as many bytes as a request holds,
// answers with the reply cut the same way; an empty payload or reply is
// one empty datagram. This is the simplest scheme that carries payloads
// larger than a datagram; it has no loss recovery, so a lost datagram
// ends the run with a timeout. (A payload that is itself a 24-byte setup
// datagram would start a new run.)
const (
	rawMagic     = "PNUDPr1\x00"
	rawSetupSize = 24
	// rawSetupRetry is how long RawPing waits for the setup's
	// acknowledgement before it sends the setup again.
	rawSetupRetry = 250 * time.Millisecond
	// rawMaxPeers bounds the clients RawServe remembers.
	rawMaxPeers = 1024
)

func isSetup(b []byte) bool { return len(b) == rawSetupSize && string(b[:8]) == rawMagic }

// rawPeer is what RawServe keeps per client.
type rawPeer struct {
	request, chunk, got int
	reply               []byte
}

// RawServe answers raw UDP pings on the server device's port until ctx
// ends or it has answered pings of them (0: no limit), then returns nil. It serves any number of clients, told apart by
// their addresses.
func (t Transport) RawServe(ctx context.Context, cfg *network.Config, self string, pings int) error {
	o, err := t.options(cfg)
	if err != nil {
		return err
	}
	addr, err := serverAddr(cfg, self, o)
	if err != nil {
		return fmt.Errorf("udp raw serve: %w", err)
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("udp raw serve: %w", err)
	}
	uc := pc.(*net.UDPConn)
	defer uc.Close()
	setBuffers(uc, o.ReadBuffer, o.WriteBuffer)
	stop := context.AfterFunc(ctx, func() { uc.SetReadDeadline(aLongTimeAgo) })
	defer stop()

	peers := map[netip.AddrPort]*rawPeer{}
	buf := make([]byte, MaxDatagram+1)
	for answered := 0; pings <= 0 || answered < pings; {
		n, from, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("udp raw serve %s: %w", addr, err)
		}
		b := buf[:n]
		if isSetup(b) {
			le := binary.LittleEndian
			req, rep, chunk := int(le.Uint32(b[8:])), int(le.Uint32(b[12:])), int(le.Uint32(b[16:]))
			if req > o.MaxFrame || rep > o.MaxFrame || chunk < 1 || chunk > MaxDatagram {
				continue // refuse: no acknowledgement
			}
			if len(peers) >= rawMaxPeers {
				clear(peers)
			}
			peers[from] = &rawPeer{request: req, chunk: chunk, reply: make([]byte, rep)}
			_, _ = uc.WriteToUDPAddrPort(b, from) // a lost acknowledgement makes the client send again
			continue
		}
		p := peers[from]
		if p == nil {
			continue
		}
		p.got += n
		if p.got < p.request {
			continue
		}
		p.got = 0
		_ = rawWrite(p.reply, p.chunk, func(d []byte) error {
			_, err := uc.WriteToUDPAddrPort(d, from)
			return err
		}) // a lost reply is the client's timeout
		answered++
	}
	return nil
}

// rawWrite sends b as consecutive datagrams of at most chunk bytes, or as
// one empty datagram.
func rawWrite(b []byte, chunk int, write func([]byte) error) error {
	if len(b) == 0 {
		return write(b)
	}
	for off := 0; off < len(b); off += chunk {
		if err := write(b[off:min(off+chunk, len(b))]); err != nil {
			return err
		}
	}
	return nil
}

// RawPing runs a raw UDP ping-pong against RawServe: after one setup
// exchange, each iteration sends p.Payload and reads until the whole reply
// is in; its round trip is timed with the monotonic clock.
func (t Transport) RawPing(ctx context.Context, cfg *network.Config, self string, p network.Ping) ([]time.Duration, error) {
	return network.RunPing(ctx, "udp", p, func(ctx context.Context, p network.Ping) (*network.RawClient, error) {
		r, err := t.dialRaw(ctx, cfg, self, p)
		if err != nil {
			return nil, err
		}
		return &network.RawClient{Addr: r.addr, RoundTrip: r.roundTrip, Close: r.close}, nil
	})
}

// rawClient is the client end of a raw run, set up and acknowledged.
type rawClient struct {
	uc        *net.UDPConn
	addr      string
	chunk     int
	payload   []byte
	replySize int
	timeout   time.Duration
	buf       []byte
	write     func([]byte) error // one datagram
}

// dialRaw connects to a RawServe peer and sets up a run of p's sizes.
func (t Transport) dialRaw(ctx context.Context, cfg *network.Config, self string, p network.Ping) (*rawClient, error) {
	if _, err := network.ClientDevice(cfg, self); err != nil {
		return nil, fmt.Errorf("udp raw ping: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	timeout, err := p.Check(o.MaxFrame)
	if err != nil {
		return nil, fmt.Errorf("udp raw ping: %w", err)
	}
	r := &rawClient{addr: cfg.ServerAddr(), chunk: o.PayloadSize, payload: p.Payload, replySize: p.ReplySize, timeout: timeout, buf: make([]byte, MaxDatagram+1)}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", r.addr)
	if err != nil {
		return nil, fmt.Errorf("udp raw ping %s: %w", r.addr, err)
	}
	r.uc = nc.(*net.UDPConn)
	r.write = func(d []byte) error { _, err := r.uc.Write(d); return err }
	setBuffers(r.uc, o.ReadBuffer, o.WriteBuffer)
	if err := r.setup(ctx, len(p.Payload)); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// setup sends the setup datagram until RawServe acknowledges it.
func (r *rawClient) setup(ctx context.Context, request int) error {
	setup := make([]byte, rawSetupSize)
	copy(setup, rawMagic)
	le := binary.LittleEndian
	le.PutUint32(setup[8:], uint32(request))
	le.PutUint32(setup[12:], uint32(r.replySize))
	le.PutUint32(setup[16:], uint32(r.chunk))
	le.PutUint32(setup[20:], randID())
	deadline := time.Now().Add(r.timeout)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("udp raw ping %s: %w", r.addr, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("udp raw ping %s: no raw server answered within %v (is RawServe running there?)", r.addr, r.timeout)
		}
		_, _ = r.uc.Write(setup) // a refused write shows as a missing answer
		r.uc.SetReadDeadline(time.Now().Add(rawSetupRetry))
		for {
			n, err := r.uc.Read(r.buf)
			if err != nil {
				break
			}
			if string(r.buf[:n]) == string(setup) {
				return nil
			}
		}
	}
}

// roundTrip sends the payload and reads until the whole reply is in, for
// network.TimeRoundTrips.
func (r *rawClient) roundTrip() error {
	r.uc.SetReadDeadline(time.Now().Add(r.timeout))
	if err := rawWrite(r.payload, r.chunk, r.write); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	for got := 0; ; {
		m, err := r.uc.Read(r.buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("no whole reply within %v (%d of %d bytes)", r.timeout, got, r.replySize)
			}
			return err
		}
		if got += m; got >= r.replySize {
			return nil
		}
	}
}

func (r *rawClient) close() { r.uc.Close() }
