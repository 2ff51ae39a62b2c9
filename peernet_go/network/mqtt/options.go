package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Defaults of the mqtt section.
const (
	// BrokerEmbedded, as Options.Broker, starts a broker inside the server.
	BrokerEmbedded = "embedded"
	// DefaultUsername is the username of the clients of an embedded
	// broker that requires a password when the config names none.
	DefaultUsername       = "peernet"
	DefaultPrefix         = "peernet"
	DefaultQueue          = 256
	DefaultConnectTimeout = 10 * time.Second
	DefaultKeepAlive      = 30 * time.Second
	DefaultReconnectMax   = 500 * time.Millisecond
	// MinMaxFrame is the smallest max_frame accepted.
	MinMaxFrame = 1024
	// MaxMaxFrame is the largest max_frame accepted: an MQTT packet holds
	// at most 256 MiB, and the topic and headers need room too.
	MaxMaxFrame = 256<<20 - 64<<10
	// maxQueue bounds Options.Queue.
	maxQueue = 1 << 20
	// maxPrefix bounds the length of Options.Prefix.
	maxPrefix = 256
)

// Options is the mqtt section of the network YAML. Every field is optional;
// the zero value selects the defaults. [Options.Initialize] fills them in
// and validates.
// The package documentation (# Configuration) shows the whole section
// with every key and its default.
type Options struct {
	// Broker is "embedded" or the URL of an existing broker
	// (tcp://, mqtt://, ssl://, tls://, mqtts://, ws:// or wss://, with a
	// host and a port). With "embedded", the default, the server starts
	// a broker in its own process, listening on Bind:Port, and every end
	// connects to the server device's host at Port.
	Broker string `yaml:"broker"`
	// Bind is the address the embedded broker listens on. It defaults to
	// the server device's host; "0.0.0.0" or "::" listens on every
	// interface.
	Bind string `yaml:"bind"`
	// Port is the embedded broker's port. It defaults to the server
	// device's port in the network config (start_port + its index).
	Port int `yaml:"port"`
	// Prefix is the first level(s) of every topic: requests travel on
	// PREFIX/SERVER/CLIENT/req and replies on PREFIX/SERVER/CLIENT/rep.
	// It defaults to DefaultPrefix; it may not hold wildcards or empty
	// levels.
	Prefix string `yaml:"prefix"`
	// QoS is the MQTT quality of service of requests and replies and of
	// their subscriptions: 0 (at most once, the default), 1 (at least
	// once) or 2 (exactly once).
	QoS int `yaml:"qos"`
	// Username and Password authenticate with the broker. An embedded
	// broker then refuses clients without them. Both default to none,
	// except with an embedded broker that listens on an address other
	// than loopback: it requires a password of every client, and the
	// username then defaults to DefaultUsername (see PasswordFile).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PasswordFile is a file holding the password on its one line that
	// is not blank or a "#" comment; other users may not read it (chmod
	// 600). Give Password or PasswordFile, not both. An embedded broker
	// that listens on an address other than loopback and has no password
	// generates one at start into this file (mode 0600) when it is not
	// there yet, and says where; copy it to the clients. It defaults to
	// none, and then, for such a broker, to the file
	// mqtt-SERVER-PORT.password in the user's configuration directory
	// (~/.config/peernet), on both ends.
	PasswordFile string `yaml:"password_file"`
	// TLS configures TLS towards an ssl://, tls://, mqtts:// or wss://
	// broker, or an embedded broker with BrokerTLS. Without BrokerTLS the
	// embedded broker speaks plain TCP.
	TLS TLSOptions `yaml:"tls"`
	// BrokerTLS gives the embedded broker a TLS listener: every end then
	// connects with TLS (ssl://), verifying the broker's certificate with
	// TLS's settings. It defaults to none: plain TCP.
	BrokerTLS BrokerTLSOptions `yaml:"broker_tls"`
	// MaxFrame is the largest encoded frame, in bytes, sent or accepted.
	// Send refuses larger frames; larger messages received are reported
	// as *network.DecodeError, and an embedded broker disconnects clients
	// that send larger packets. It defaults to wire.DefaultMaxSize (64 MiB)
	// and must lie in [MinMaxFrame, MaxMaxFrame].
	MaxFrame int `yaml:"max_frame"`
	// Queue is the number of received messages held for Recv. When it is
	// full the oldest message is dropped (and counted in Stats.Dropped),
	// so a flood cannot grow memory. It defaults to DefaultQueue.
	Queue int `yaml:"queue"`
	// ConnectTimeout bounds how long Dial and Listen wait for the broker
	// (retrying meanwhile) and each later connection attempt. It defaults
	// to DefaultConnectTimeout.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// KeepAlive is the MQTT keep-alive interval; a broker that stays
	// silent for it is considered gone. It defaults to DefaultKeepAlive and
	// must be at least a second.
	KeepAlive time.Duration `yaml:"keepalive"`
	// ReconnectMax caps the delay between reconnection attempts after the
	// broker was lost. It defaults to DefaultReconnectMax.
	ReconnectMax time.Duration `yaml:"reconnect_max"`
}

// TLSOptions is the tls part of the mqtt section. Files are PEM.
type TLSOptions struct {
	// CAFile holds the certificates of the authorities that may sign the
	// broker's certificate. It defaults to the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client's certificate and key, for
	// brokers that require one. Give both or neither. Default: none.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name checked in the broker's certificate. It
	// defaults to the host of the broker URL.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify accepts any broker certificate. For tests only;
	// it defaults to false.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// set reports whether any TLS option is given.
func (t *TLSOptions) set() bool { return *t != TLSOptions{} }

// BrokerTLSOptions is the broker_tls part of the mqtt section: the
// embedded broker's certificate and key, PEM files, given together.
type BrokerTLSOptions struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// set reports whether the embedded broker listens with TLS.
func (t *BrokerTLSOptions) set() bool { return *t != BrokerTLSOptions{} }

// LoadOptions decodes the mqtt section of cfg (unknown keys are an error)
// and initializes it. A config without an mqtt section gives the defaults.
func LoadOptions(cfg *network.Config) (*Options, error) {
	return network.LoadSection[Options](cfg, "mqtt")
}

// Initialize fills in defaults and validates o. Its errors name the field.
// It does not read the TLS files; Dial and Listen do, and say which file
// failed.
func (o *Options) Initialize() error {
	if o.Broker == "" {
		o.Broker = BrokerEmbedded
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.MaxFrame == 0 {
		o.MaxFrame = wire.DefaultMaxSize
	}
	if o.Queue == 0 {
		o.Queue = DefaultQueue
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.ReconnectMax == 0 {
		o.ReconnectMax = DefaultReconnectMax
	}
	if err := o.validate(); err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	return nil
}

func (o *Options) validate() error {
	if o.Broker != BrokerEmbedded {
		if err := checkBrokerURL(o.Broker); err != nil {
			return fmt.Errorf("broker: %w", err)
		}
		if o.Bind != "" || o.Port != 0 {
			return fmt.Errorf("bind, port: only for broker: %s (the broker is %s)", BrokerEmbedded, o.Broker)
		}
		if o.BrokerTLS.set() {
			return fmt.Errorf("broker_tls: only for broker: %s (the broker is %s; its TLS is its own)", BrokerEmbedded, o.Broker)
		}
	} else if o.TLS.set() && !o.BrokerTLS.set() {
		return fmt.Errorf("tls: the embedded broker speaks plain TCP without broker_tls; give broker_tls a certificate, or broker: ssl://HOST:PORT to use TLS with an existing broker")
	}
	switch {
	case o.Bind != "" && net.ParseIP(o.Bind) == nil && strings.ContainsAny(o.Bind, ":/ \t[]"):
		return fmt.Errorf("bind: %q is not an IP address or a host name", o.Bind)
	case o.Port < 0 || o.Port > 65535:
		return fmt.Errorf("port: %d out of range [1, 65535]", o.Port)
	case o.QoS < 0 || o.QoS > 2:
		return fmt.Errorf("qos: %d, want 0, 1 or 2", o.QoS)
	case o.Password != "" && o.PasswordFile != "":
		return errors.New("password, password_file: give one of them, not both")
	case o.Password != "" && o.Username == "":
		return errors.New("password: given without a username")
	case o.Username == serverUser:
		return fmt.Errorf("username: %q is the embedded broker's name for the server's own client", serverUser)
	case (o.BrokerTLS.CertFile == "") != (o.BrokerTLS.KeyFile == ""):
		return errors.New("broker_tls: cert_file and key_file go together")
	case (o.TLS.CertFile == "") != (o.TLS.KeyFile == ""):
		return errors.New("tls: cert_file and key_file go together")
	case o.MaxFrame < MinMaxFrame || o.MaxFrame > MaxMaxFrame:
		return fmt.Errorf("max_frame: %d out of range [%d, %d]", o.MaxFrame, MinMaxFrame, MaxMaxFrame)
	case o.Queue < 1 || o.Queue > maxQueue:
		return fmt.Errorf("queue: %d out of range [1, %d]", o.Queue, maxQueue)
	case o.ConnectTimeout < time.Millisecond:
		return fmt.Errorf("connect_timeout: %v is shorter than 1ms", o.ConnectTimeout)
	case o.KeepAlive < time.Second:
		return fmt.Errorf("keepalive: %v is shorter than 1s", o.KeepAlive)
	case o.ReconnectMax < time.Millisecond:
		return fmt.Errorf("reconnect_max: %v is shorter than 1ms", o.ReconnectMax)
	}
	if err := checkPrefix(o.Prefix); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	return nil
}

// brokerSchemes are the URL schemes paho dials; the value says whether the
// scheme uses TLS.
var brokerSchemes = map[string]bool{
	"tcp": false, "mqtt": false, "ws": false,
	"ssl": true, "tls": true, "mqtts": true, "wss": true,
}

func checkBrokerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is neither %q nor a URL: %w", s, BrokerEmbedded, err)
	}
	if _, ok := brokerSchemes[u.Scheme]; !ok {
		return fmt.Errorf("%q: scheme %q, want %s or tcp://, ssl://, tls://, mqtt://, mqtts://, ws://, wss://", s, u.Scheme, BrokerEmbedded)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return fmt.Errorf("%q: want SCHEME://HOST:PORT", s)
	}
	return nil
}

// checkPrefix accepts topic levels of printable characters without MQTT
// wildcards.
func checkPrefix(p string) error {
	if len(p) > maxPrefix {
		return fmt.Errorf("%d bytes, longer than %d", len(p), maxPrefix)
	}
	for _, level := range strings.Split(p, "/") {
		if level == "" {
			return fmt.Errorf("%q has an empty level (leading, trailing or double '/')", p)
		}
	}
	if strings.ContainsAny(p, "+#$") {
		return fmt.Errorf("%q holds '+', '#' or '$', which MQTT topics reserve", p)
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("%q holds a control character", p)
		}
	}
	return nil
}

// usesTLS reports whether the broker URL asks for TLS.
func (o *Options) usesTLS() bool {
	if o.Broker == BrokerEmbedded {
		return o.BrokerTLS.set()
	}
	u, err := url.Parse(o.Broker)
	return err == nil && brokerSchemes[u.Scheme]
}

// tlsConfig builds the TLS configuration for the broker at brokerURL (as
// endpoints gives it), or nil when the broker does not use TLS.
func (o *Options) tlsConfig(brokerURL string) (*tls.Config, error) {
	if !o.usesTLS() {
		if o.TLS.set() {
			return nil, fmt.Errorf("mqtt: tls: given, but broker %s does not use TLS (use ssl:// or tls://)", o.Broker)
		}
		return nil, nil
	}
	u, _ := url.Parse(brokerURL)
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         u.Hostname(),
		InsecureSkipVerify: o.TLS.InsecureSkipVerify, //nolint:gosec // asked for in the config, for tests
	}
	if o.TLS.ServerName != "" {
		c.ServerName = o.TLS.ServerName
	}
	if o.TLS.CAFile != "" {
		pem, err := os.ReadFile(o.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: tls: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt: tls: ca_file: %s holds no PEM certificate", o.TLS.CAFile)
		}
		c.RootCAs = pool
	}
	if o.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.TLS.CertFile, o.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: tls: cert_file, key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
