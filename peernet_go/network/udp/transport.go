package udp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// Name is the transport's name, as given to --network.
const Name = "udp"

// Transport is the udp transport: frames travel in UDP datagrams, split
// into fragments when they are longer than payload_size. The zero value
// reads its options from the udp section of the network config.
type Transport struct {
	// Options, when set, is used instead of the config's udp section. It
	// must have been initialized with [Options.Initialize].
	Options *Options
}

var (
	_ network.Transport = Transport{}
	_ network.Baseline  = Transport{}
)

func (t Transport) options(cfg *network.Config) (*Options, error) {
	if t.Options != nil {
		return t.Options, nil
	}
	return LoadOptions(cfg)
}

func randID() uint32 { return rand.Uint32() }

func randSession() uint64 { return rand.Uint64() }

// serverAddr checks that self may serve cfg and returns the address to
// listen on: the bind address or the server device's host, at its port.
func serverAddr(cfg *network.Config, self string, o *Options) (string, error) {
	d, err := network.ServerDevice(cfg, self)
	if err != nil {
		return "", err
	}
	host := o.Bind
	if host == "" {
		host = d.Host
	}
	return net.JoinHostPort(host, strconv.Itoa(cfg.Port(d))), nil
}

// Dial opens the client end: a UDP socket connected to the server device's
// host and port. Nothing is exchanged: UDP has no connection to set up.
func (t Transport) Dial(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("udp: dial: %w", err)
	}
	if _, err := network.ClientDevice(cfg, self); err != nil {
		return nil, fmt.Errorf("udp: dial: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	addr := cfg.ServerAddr()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp: dial %s: %w", addr, err)
	}
	c := newConn(o, nc.(*net.UDPConn), false, key, cfg.NoticeWriter())
	c.peerName = cfg.Server
	return c, nil
}

// Listen opens the server end: a UDP socket bound to the server device's
// port on its host (or on the udp section's bind address). It learns each
// client's address from the datagrams it receives.
func (t Transport) Listen(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("udp: listen: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	addr, err := serverAddr(cfg, self, o)
	if err != nil {
		return nil, fmt.Errorf("udp: listen: %w", err)
	}
	key, err := o.key()
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp: listen: %w", err)
	}
	if key == nil && !network.IsLoopback(ctx, addr) {
		cfg.Notify(fmt.Sprintf("udp: listening on %s without a key: anyone who can reach it can send frames, and they travel in the clear (set udp.key_file; peernet keygen --psk FILE writes one)", pc.LocalAddr()))
	}
	return newConn(o, pc.(*net.UDPConn), true, key, cfg.NoticeWriter()), nil
}
