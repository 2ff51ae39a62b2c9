package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"

	"github.com/peernet/peernet_go/peernet_go/internal/ratelog"
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
	scheme := "tcp://"
	if o.BrokerTLS.set() {
		scheme = "ssl://"
	}
	return scheme + net.JoinHostPort(d.Host, p), net.JoinHostPort(host, p), nil
}

// access is how one end reaches its broker: the credentials it presents,
// its TLS configuration, and what network.Security.Mode calls that.
type access struct {
	creds credentials
	tls   *tls.Config
	mode  string
}

// tlsOptions returns o's TLS options when acc uses TLS, for the errors of
// connectRetry.
func (acc access) tlsOptions(o *Options) *TLSOptions {
	if acc.tls == nil {
		return nil
	}
	return &o.TLS
}

// clientAccess returns how a client end reaches the broker at url.
func clientAccess(ctx context.Context, cfg *network.Config, o *Options, url, listen string) (access, error) {
	creds, err := clientCredentials(ctx, cfg, o, listen)
	if err != nil {
		return access{}, err
	}
	tlsCfg, err := o.tlsConfig(url)
	if err != nil {
		return access{}, err
	}
	rules := o.Broker == BrokerEmbedded && secured(ctx, listen)
	return access{creds: creds, tls: tlsCfg, mode: securityMode(o, rules, creds)}, nil
}

// startEmbedded starts the embedded broker of a server on listen, with
// access rules when it can be reached from other machines, and returns it
// with how the server's own clients reach it. op prefixes the broker's
// own errors ("mqtt: listen").
func startEmbedded(ctx context.Context, cfg *network.Config, o *Options, listen, op string) (*broker, access, error) {
	var cert *tls.Certificate
	if o.BrokerTLS.set() {
		c, err := tls.LoadX509KeyPair(o.BrokerTLS.CertFile, o.BrokerTLS.KeyFile)
		if err != nil {
			return nil, access{}, fmt.Errorf("mqtt: broker_tls: cert_file, key_file: %w", err)
		}
		cert = &c
	}
	rules := secured(ctx, listen)
	clients, err := brokerCredentials(ctx, cfg, o, listen)
	if err != nil {
		return nil, access{}, err
	}
	g := &guard{
		rules: rules, client: clients, base: o.Prefix + "/" + cfg.Server + "/",
		log: ratelog.New(cfg.NoticeWriter(), ratelog.Options{}),
	}
	own := access{creds: clients, mode: securityMode(o, rules, clients)}
	if rules {
		if g.server, err = serverCredentials(); err != nil {
			return nil, access{}, err
		}
		own.creds = g.server
	}
	if cert != nil {
		own.tls = pinnedTLS(cert)
	}
	b, err := startGuardedBroker(listen, o, g, cert)
	if err != nil {
		return nil, access{}, fmt.Errorf("%s: %w", op, err)
	}
	return b, own, nil
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
	url, listen, err := endpoints(cfg, o)
	if err != nil {
		return nil, fmt.Errorf("mqtt: dial: %w", err)
	}
	acc, err := clientAccess(ctx, cfg, o, url, listen)
	if err != nil {
		return nil, err
	}
	id := clientID(self, "")
	base := o.Prefix + "/" + cfg.Server + "/" + id + "/"
	c := newConn(o, url)
	c.access = acc
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
		if c.broker, c.access, err = startEmbedded(ctx, cfg, o, listen, "mqtt: listen"); err != nil {
			return nil, err
		}
	} else if c.access, err = clientAccess(ctx, cfg, o, url, ""); err != nil {
		return nil, err
	}
	if err := c.connect(ctx, clientID(self, "server-")); err != nil {
		c.Close()
		return nil, fmt.Errorf("mqtt: listen %s: %w", url, err)
	}
	return c, nil
}
