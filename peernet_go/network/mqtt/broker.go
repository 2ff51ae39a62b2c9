package mqtt

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/peernet/peernet_go/peernet_go/internal/ratelog"
)

// brokerBuffer is the size of the embedded broker's read and write buffer
// per client connection.
const brokerBuffer = 32 << 10

// closeGrace bounds how long a closing broker waits for the sessions of
// its clients to end once their connections are closed.
const closeGrace = time.Second

// topicRoom is what an MQTT publish packet needs besides its payload: the
// fixed header, the topic and the packet identifier, generously.
const topicRoom = 64 << 10

// broker is an MQTT broker running in this process (mochi-mqtt), for
// broker: embedded. Its log is silenced.
type broker struct {
	srv   *mochi.Server
	addr  string
	guard *guard
}

// startBroker starts a broker listening on addr (host:port) in plain TCP,
// without access rules. With a username in o it accepts only clients that
// present o's credentials.
func startBroker(addr string, o *Options) (*broker, error) {
	g := &guard{client: credentials{user: o.Username, pass: o.Password}}
	return startGuardedBroker(addr, o, g, nil)
}

// startGuardedBroker starts a broker listening on addr (host:port) that
// admits clients as g says, with TLS when cert is set.
func startGuardedBroker(addr string, o *Options, g *guard, cert *tls.Certificate) (*broker, error) {
	if g.log == nil {
		g.log = ratelog.New(io.Discard, ratelog.Options{})
	}
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(o.MaxFrame + topicRoom)
	srv := mochi.New(&mochi.Options{
		Capabilities:             caps,
		Logger:                   slog.New(slog.DiscardHandler),
		ClientNetReadBufferSize:  brokerBuffer,
		ClientNetWriteBufferSize: brokerBuffer,
	})
	if err := srv.AddHook(g, nil); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert}})
	}
	l := &listener{ln: ln, conns: map[net.Conn]struct{}{}}
	if err := srv.AddListener(l); err != nil {
		ln.Close()
		srv.Close()
		return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
	}
	return &broker{srv: srv, addr: l.Address(), guard: g}, nil
}

// Close stops the broker and disconnects its clients.
func (b *broker) Close() error {
	err := b.srv.Close()
	b.guard.log.Flush()
	return err
}

// listener is the embedded broker's TCP listener. Unlike mochi's own, it
// stops accepting before it lets go of the clients, and it ends them by
// closing their connections, also those still in their MQTT handshake: a
// client that reconnects while the broker shuts down is refused at once
// instead of waiting for a CONNACK that never comes.
type listener struct {
	ln net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	served sync.WaitGroup // one per accepted connection
}

var _ listeners.Listener = (*listener)(nil)

// ID names the listener.
func (l *listener) ID() string { return "peernet" }

// Address returns the address the listener is bound to.
func (l *listener) Address() string { return l.ln.Addr().String() }

// Protocol returns "tcp".
func (l *listener) Protocol() string { return "tcp" }

// Init does nothing: the socket was bound by startBroker, which reports
// its errors.
func (l *listener) Init(*slog.Logger) error { return nil }

// Serve accepts connections and hands each to the broker until Close.
func (l *listener) Serve(establish listeners.EstablishFn) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			c.Close()
			return
		}
		l.conns[c] = struct{}{}
		l.served.Add(1)
		l.mu.Unlock()
		go func() {
			defer l.served.Done()
			_ = establish(l.ID(), c) // runs until the client disconnects
			l.mu.Lock()
			delete(l.conns, c)
			l.mu.Unlock()
			c.Close()
		}()
	}
}

// Close stops accepting and closes every client connection, which ends
// the broker's session with each client, and waits up to closeGrace for
// the broker to let go of them.
//
// It does not call closeClients, mochi's way of disconnecting the clients
// of a listener: that one read-locks the broker's client table twice, and
// deadlocks when a client that is just connecting asks for the write lock
// in between. A DISCONNECT from the broker tells an MQTT 3.1.1 client
// nothing a closed connection does not.
func (l *listener) Close(listeners.CloseFn) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.ln.Close()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	done := make(chan struct{})
	go func() {
		l.served.Wait()
		close(done)
	}()
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}
