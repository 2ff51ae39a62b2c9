package mqtt

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// Name is the transport's name, as given to --network.
const Name = "mqtt"

// Transport is the mqtt transport: each client publishes requests to, and
// the server replies through, an MQTT broker. The zero value reads its
// options from the mqtt section of the network config.
type Transport struct {
	// Options, when set, is used instead of the config's mqtt section. It
	// must have been initialized with [Options.Initialize].
	Options *Options
}

var (
	_ network.Transport = Transport{}
	_ network.Baseline  = Transport{}
)

// ErrTopic reports a message on a topic that does not belong to the
// receiving end. Recv returns it inside a *network.DecodeError.
var ErrTopic = errors.New("mqtt: unexpected topic")

func (t Transport) options(cfg *network.Config) (*Options, error) {
	if t.Options != nil {
		return t.Options, nil
	}
	return LoadOptions(cfg)
}

// endpoints says where the broker is for cfg: the URL every end connects
// to and, for an embedded broker, the address it listens on.
func endpoints(cfg *network.Config, o *Options) (url, listen string, err error) {
	if o.Broker != BrokerEmbedded {
		return o.Broker, "", nil
	}
	d, err := cfg.Device(cfg.Server)
	if err != nil {
		return "", "", err
	}
	port := o.Port
	if port == 0 {
		port = cfg.Port(d)
	}
	host := o.Bind
	if host == "" {
		host = d.Host
	}
	p := strconv.Itoa(port)
	return "tcp://" + net.JoinHostPort(d.Host, p), net.JoinHostPort(host, p), nil
}

// clientID returns a fresh MQTT client identifier for device name: the
// name and a random suffix, so that two processes of one device never
// take each other's session.
func clientID(name, role string) string {
	return fmt.Sprintf("%s-%s%08x", name, role, rand.Uint32())
}

// Dial opens the client end as device self: an MQTT client connected to
// the broker that publishes requests on PREFIX/SERVER/ID/req and receives
// replies on PREFIX/SERVER/ID/rep, where ID is self and a random suffix. It
// waits for the broker (retrying) until ctx ends or connect_timeout passes.
func (t Transport) Dial(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mqtt: dial: %w", err)
	}
	if _, err := network.ClientDevice(cfg, self); err != nil {
		return nil, fmt.Errorf("mqtt: dial: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	url, _, err := endpoints(cfg, o)
	if err != nil {
		return nil, fmt.Errorf("mqtt: dial: %w", err)
	}
	id := clientID(self, "")
	base := o.Prefix + "/" + cfg.Server + "/" + id + "/"
	c := newConn(o, url)
	c.peer = cfg.Server
	c.pubTopic, c.subTopic = base+"req", base+"rep"
	if err := c.connect(ctx, id); err != nil {
		c.Close()
		return nil, fmt.Errorf("mqtt: dial %s: %w", url, err)
	}
	return c, nil
}

// Listen opens the server end as device self (the config's server). With
// broker: embedded it first starts the broker in this process; Close stops
// it. The server subscribes to PREFIX/SERVER/+/req.
func (t Transport) Listen(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mqtt: listen: %w", err)
	}
	if _, err := network.ServerDevice(cfg, self); err != nil {
		return nil, fmt.Errorf("mqtt: listen: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	url, listen, err := endpoints(cfg, o)
	if err != nil {
		return nil, fmt.Errorf("mqtt: listen: %w", err)
	}
	c := newConn(o, url)
	c.server = true
	c.base = o.Prefix + "/" + self + "/"
	c.subTopic = c.base + "+/req"
	if listen != "" {
		if c.broker, err = startBroker(listen, o); err != nil {
			return nil, fmt.Errorf("mqtt: listen: %w", err)
		}
	}
	if err := c.connect(ctx, clientID(self, "server-")); err != nil {
		c.Close()
		return nil, fmt.Errorf("mqtt: listen %s: %w", url, err)
	}
	return c, nil
}
