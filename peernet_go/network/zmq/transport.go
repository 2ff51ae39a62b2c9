package zmq

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Transport names, as given to --network.
const (
	Name    = "zmq-tcp"
	UDPName = "zmq-udp"
)

// Transport is the zmq-tcp transport: a DEALER client and a ROUTER server
// over TCP. The zero value reads its options from the zmq section of the
// network config.
type Transport struct {
	// Options, when set, is used instead of the config's zmq section. It
	// must have been initialized with [Options.Initialize].
	Options *Options
}

var (
	_ network.Transport = Transport{}
	_ network.Baseline  = Transport{}
)

// ErrMalformed reports a ZeroMQ message whose parts do not form a frame: a
// wrong number of parts, or a header whose lengths disagree with the parts.
// Recv returns it inside a *network.DecodeError.
var ErrMalformed = errors.New("zmq: malformed message")

func (t Transport) options(cfg *network.Config) (*Options, error) {
	if t.Options != nil {
		return t.Options, nil
	}
	return LoadOptions(cfg)
}

// decodeParts decodes the frame carried by the parts of one ZeroMQ message
// (without the ROUTER's identity part): [header, payload] as Send writes
// it, or a single part holding a whole encoded frame. f.Payload aliases the
// payload part. Allocation is bounded by the parts themselves, which libzmq
// already bounds by ZMQ_MAXMSGSIZE.
func decodeParts(f *wire.Frame, parts [][]byte, maxFrame int) error {
	switch len(parts) {
	case 1:
		return f.Decode(parts[0], maxFrame)
	case 2:
		hl, pl, err := f.DecodeHeader(parts[0], maxFrame)
		if err != nil {
			return err
		}
		if hl != len(parts[0]) {
			return fmt.Errorf("%w: header part has %d bytes, the header %d", ErrMalformed, len(parts[0]), hl)
		}
		if pl != len(parts[1]) {
			return fmt.Errorf("%w: header announces %d payload bytes, payload part has %d", ErrMalformed, pl, len(parts[1]))
		}
		f.Payload = parts[1][:pl:pl]
		return nil
	default:
		return fmt.Errorf("%w: %d parts, a frame has 1 or 2", ErrMalformed, len(parts))
	}
}

// ErrHandshake reports a client whose CURVE handshake with the server
// failed: the server refused its key, or the server's key is not the one
// the client was given. Send and Recv return it (wrapped) as soon as
// libzmq reports the failure.
var ErrHandshake = errors.New("CURVE handshake failed")

// ErrNoCgo is returned by every Transport call in a binary built without
// cgo: ZeroMQ is a C library.
var ErrNoCgo = errors.New("zmq-tcp: this binary was built without cgo; rebuild with CGO_ENABLED=1 and libzmq installed (Debian: apt-get install libzmq3-dev)")

// peerName turns a ROUTER identity into Frame.Peer: printable identities
// (those of zmq-tcp clients, "edge-5f2c09ab") as they are, others — such as
// the binary identities libzmq gives peers that set none — as "%" and hex.
// peerID reverses it.
func peerName(id []byte) string {
	if len(id) > 0 && id[0] == '%' {
		return "%" + hex.EncodeToString(id)
	}
	for _, b := range id {
		if b <= ' ' || b > '~' {
			return "%" + hex.EncodeToString(id)
		}
	}
	return string(id)
}

// peerID appends the ROUTER identity that peer names to dst.
func peerID(dst []byte, peer string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(peer, "%"); ok {
		id, err := hex.AppendDecode(dst, []byte(rest))
		if err != nil {
			return dst, fmt.Errorf("peer %.40q: bad hex identity: %w", peer, err)
		}
		return id, nil
	}
	return append(dst, peer...), nil
}

// UDPTransport stands for --network zmq-udp. ZeroMQ carries UDP only with
// the RADIO/DISH sockets of its draft API, which Debian's libzmq is not
// built with, so Dial and Listen return ErrNoDraftAPI.
type UDPTransport struct{}

var _ network.Transport = UDPTransport{}

// ErrNoDraftAPI is the error of every UDPTransport call.
var ErrNoDraftAPI = errors.New("zmq-udp: needs libzmq built with the draft API (RADIO/DISH sockets), which Debian's libzmq is not; use --network udp for datagrams with loss accounting")

// Dial returns ErrNoDraftAPI.
func (UDPTransport) Dial(context.Context, *network.Config, string) (network.Conn, error) {
	return nil, ErrNoDraftAPI
}

// Listen returns ErrNoDraftAPI.
func (UDPTransport) Listen(context.Context, *network.Config, string) (network.Conn, error) {
	return nil, ErrNoDraftAPI
}
