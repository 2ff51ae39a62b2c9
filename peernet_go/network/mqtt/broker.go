package mqtt

import (
	"crypto/subtle"
	"fmt"
	"log/slog"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// brokerBuffer is the size of the embedded broker's read and write buffer
// per client connection.
const brokerBuffer = 32 << 10

// topicRoom is what an MQTT publish packet needs besides its payload: the
// fixed header, the topic and the packet identifier, generously.
const topicRoom = 64 << 10

// broker is an MQTT broker running in this process (mochi-mqtt), for
// broker: embedded. Its log is silenced.
type broker struct {
	srv  *mochi.Server
	addr string
}

// startBroker starts a broker listening on addr (host:port). With a
// username in o it accepts only clients that present o's credentials.
func startBroker(addr string, o *Options) (*broker, error) {
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(o.MaxFrame + topicRoom)
	srv := mochi.New(&mochi.Options{
		Capabilities:             caps,
		Logger:                   slog.New(slog.DiscardHandler),
		ClientNetReadBufferSize:  brokerBuffer,
		ClientNetWriteBufferSize: brokerBuffer,
	})
	if err := srv.AddHook(&access{user: []byte(o.Username), pass: []byte(o.Password)}, nil); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	l := listeners.NewTCP(listeners.Config{Type: listeners.TypeTCP, ID: "peernet", Address: addr})
	if err := srv.AddListener(l); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
	}
	return &broker{srv: srv, addr: l.Address()}, nil
}

// Close stops the broker and disconnects its clients.
func (b *broker) Close() error { return b.srv.Close() }

// access is the embedded broker's authentication: anyone when no username
// is configured, otherwise exactly the configured username and password.
// Every authenticated client may publish and subscribe to any topic.
type access struct {
	mochi.HookBase
	user, pass []byte
}

// ID names the hook.
func (a *access) ID() string { return "peernet-access" }

// Provides says which hook methods access implements.
func (a *access) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

// OnConnectAuthenticate checks the client's credentials, in constant time.
func (a *access) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	if len(a.user) == 0 {
		return true
	}
	u := subtle.ConstantTimeCompare(cl.Properties.Username, a.user)
	p := subtle.ConstantTimeCompare(pk.Connect.Password, a.pass)
	return u&p == 1
}

// OnACLCheck lets authenticated clients use every topic.
func (a *access) OnACLCheck(*mochi.Client, string, bool) bool { return true }
