package zmq

import (
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Defaults of the zmq section.
const (
	DefaultHeartbeat    = time.Second
	DefaultHWM          = 1000
	DefaultReconnect    = 100 * time.Millisecond
	DefaultReconnectMax = time.Second
	// MinMaxFrame is the smallest max_frame accepted: a header with the
	// longest encoding string and a little payload.
	MinMaxFrame = 1024
)

// Options is the zmq section of the network YAML. Every field is optional;
// the zero value selects the defaults. [Options.Initialize] fills them in
// and validates.
// The package documentation (# Configuration) shows the whole section
// with every key and its default.
type Options struct {
	// Bind is the address the server binds to instead of its device's
	// host: "*" for every interface, an IP address or an interface name.
	// It defaults to the server device's host.
	Bind string `yaml:"bind"`
	// MaxFrame is the largest encoded frame, in bytes, sent or accepted.
	// Larger frames are refused by Send; a peer sending a larger message
	// part is disconnected by libzmq (ZMQ_MAXMSGSIZE). It defaults to
	// wire.DefaultMaxSize (64 MiB) and must be at least MinMaxFrame.
	MaxFrame int `yaml:"max_frame"`
	// Heartbeat is the ZMTP heartbeat interval (ZMQ_HEARTBEAT_IVL). It
	// defaults to DefaultHeartbeat; a negative value turns heartbeats off.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// HeartbeatTimeout is how long a peer may leave a heartbeat
	// unanswered before its connection is dropped (ZMQ_HEARTBEAT_TIMEOUT).
	// It defaults to three heartbeats.
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// SndHWM is the number of outgoing messages queued per peer
	// (ZMQ_SNDHWM). It defaults to DefaultHWM.
	SndHWM int `yaml:"sndhwm"`
	// RcvHWM is the number of incoming messages queued per peer
	// (ZMQ_RCVHWM). It defaults to DefaultHWM.
	RcvHWM int `yaml:"rcvhwm"`
	// Reconnect is the first delay before a client reconnects to a lost
	// server (ZMQ_RECONNECT_IVL). It defaults to DefaultReconnect.
	Reconnect time.Duration `yaml:"reconnect"`
	// ReconnectMax caps the exponential reconnection back-off
	// (ZMQ_RECONNECT_IVL_MAX). It defaults to DefaultReconnectMax.
	ReconnectMax time.Duration `yaml:"reconnect_max"`
	// Curve, when set, authenticates and encrypts every connection with
	// ZeroMQ's CURVE mechanism: the server proves it holds the secret of
	// ServerPublicKey, and accepts only clients whose public key is on
	// its allow-list. It defaults to none: zmq-tcp then carries frames in
	// the clear and accepts anyone who can reach the port.
	Curve *CurveOptions `yaml:"curve"`
}

// CurveOptions is the curve part of the zmq section. Each key is given as
// its 40 Z85 characters or as the path of a key file such as
// `peernet keygen NAME` writes (NAME.key, NAME.pub). Files holding a
// secret key may not be readable by other users. Listen reads what a
// server needs and Dial what a client needs, so one file may serve both
// ends of a loopback test, and each machine's may hold only its own
// secret.
type CurveOptions struct {
	// ServerPublicKey is the server's public key. Both ends need it: the
	// client to know it talks to the real server, the server to check it
	// against ServerSecretKey. Required.
	ServerPublicKey string `yaml:"server_public_key"`
	// ServerSecretKey is the server's secret key. Listen requires it.
	ServerSecretKey string `yaml:"server_secret_key"`
	// ClientSecretKey is the client's secret key; its public key, which
	// the server's allow-list names, is derived from it. Dial requires
	// it.
	ClientSecretKey string `yaml:"client_secret_key"`
	// ClientPublicKeys is the server's allow-list: public keys, or files
	// of public keys one per line. A client whose key is not on it is
	// refused during the handshake, counted (network.Security.Refused)
	// and reported. Listen requires at least one key.
	ClientPublicKeys []string `yaml:"client_public_keys"`
}

// LoadOptions decodes the zmq section of cfg (unknown keys are an error)
// and initializes it. A config without a zmq section gives the defaults.
func LoadOptions(cfg *network.Config) (*Options, error) {
	return network.LoadSection[Options](cfg, "zmq")
}

// Initialize fills in defaults and validates o. Its errors name the field.
func (o *Options) Initialize() error {
	if o.MaxFrame == 0 {
		o.MaxFrame = wire.DefaultMaxSize
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.HeartbeatTimeout == 0 && o.Heartbeat > 0 {
		o.HeartbeatTimeout = 3 * o.Heartbeat
	}
	if o.SndHWM == 0 {
		o.SndHWM = DefaultHWM
	}
	if o.RcvHWM == 0 {
		o.RcvHWM = DefaultHWM
	}
	if o.Reconnect == 0 {
		o.Reconnect = DefaultReconnect
	}
	if o.ReconnectMax == 0 {
		o.ReconnectMax = max(DefaultReconnectMax, o.Reconnect)
	}
	switch {
	case o.Bind != "" && !validBind(o.Bind):
		return fmt.Errorf("zmq: bind: %q is not \"*\", an IP address or an interface name", o.Bind)
	case o.MaxFrame < MinMaxFrame || o.MaxFrame > math.MaxUint32:
		return fmt.Errorf("zmq: max_frame: %d out of range [%d, %d]", o.MaxFrame, MinMaxFrame, uint64(math.MaxUint32))
	case o.Heartbeat > 0 && o.Heartbeat < time.Millisecond:
		return fmt.Errorf("zmq: heartbeat: %v is shorter than 1ms", o.Heartbeat)
	case o.Heartbeat > 0 && o.HeartbeatTimeout < o.Heartbeat:
		return fmt.Errorf("zmq: heartbeat_timeout: %v is shorter than heartbeat %v", o.HeartbeatTimeout, o.Heartbeat)
	case o.SndHWM < 0:
		return fmt.Errorf("zmq: sndhwm: %d is negative", o.SndHWM)
	case o.RcvHWM < 0:
		return fmt.Errorf("zmq: rcvhwm: %d is negative", o.RcvHWM)
	case o.Reconnect < time.Millisecond:
		return fmt.Errorf("zmq: reconnect: %v is shorter than 1ms", o.Reconnect)
	case o.ReconnectMax < o.Reconnect:
		return fmt.Errorf("zmq: reconnect_max: %v is shorter than reconnect %v", o.ReconnectMax, o.Reconnect)
	case o.Curve != nil && o.Curve.ServerPublicKey == "":
		return fmt.Errorf("zmq: curve: server_public_key: missing (both ends need the server's public key; peernet keygen NAME writes NAME.pub)")
	}
	return nil
}

func validBind(s string) bool {
	if s == "*" || net.ParseIP(s) != nil {
		return true
	}
	// An interface or host name: no scheme, port, path or spaces.
	return len(s) <= 255 && !strings.ContainsAny(s, ":/ \t*[]")
}
