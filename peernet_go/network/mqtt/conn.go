package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// disconnectQuiesce is how long Close lets the MQTT client finish sending
// (its DISCONNECT packet included), in milliseconds.
const disconnectQuiesce = 100

// firstRetry is the first delay between connection attempts of Dial and
// Listen; it doubles up to Options.ReconnectMax.
const firstRetry = 50 * time.Millisecond

// maxPeer bounds the length of a peer name (a client's topic level).
const maxPeer = 256

// Stats count what a Conn did since it was opened.
type Stats struct {
	// Sent counts frames published; Received counts messages taken by
	// Recv, frames and bad messages alike.
	Sent, Received uint64
	// Dropped counts messages discarded because Recv's queue was full
	// (the oldest goes first).
	Dropped uint64
	// Reconnects counts connections to the broker after the first.
	Reconnects uint64
}

// StatsReporter is implemented by the Conns of this package:
//
//	if s, ok := conn.(mqtt.StatsReporter); ok {
//		fmt.Println(s.Stats().Dropped)
//	}
type StatsReporter interface {
	Stats() Stats
}

var (
	_ network.Conn             = (*conn)(nil)
	_ network.Waker            = (*conn)(nil)
	_ network.SecurityReporter = (*conn)(nil)
	_ StatsReporter            = (*conn)(nil)
)

// conn is one end of the mqtt transport. paho's client is safe for
// concurrent use, so Close may run in any goroutine; Send and Recv are each
// used by one goroutine at a time, as network.Conn says.
type conn struct {
	o      *Options
	url    string
	cli    paho.Client
	broker *broker // embedded broker, started by Listen
	access access  // how this end reaches the broker
	server bool
	qos    byte

	peer     string // client: the server's device name, as Frame.Peer
	base     string // server: PREFIX/SERVER/
	pubTopic string // client: its request topic
	subTopic string // client: its reply topic; server: PREFIX/SERVER/+/req

	// in holds received messages for Recv; the MQTT client's handler
	// drops the oldest when it is full.
	in        chan paho.Message
	done      chan struct{}
	wake      chan struct{} // network.Waker: one pending wake-up
	closeOnce sync.Once

	// Connection state: up is true while connected and subscribed.
	// change is closed and replaced on every transition.
	up         atomic.Bool
	stateMu    sync.Mutex
	change     chan struct{}
	lastErr    error
	connects   int
	subscribed chan error // result of the first subscription

	sent, received, dropped, reconnects atomic.Uint64

	// Used by the goroutine calling Send.
	buf                 []byte
	lastPeer, lastTopic string
	published           chan paho.Token // reused while no publish is abandoned
	pending             paho.Token      // the last QoS 0 publish, maybe not yet written
	// Used by the goroutine calling Recv.
	frame wire.Frame
}

func newConn(o *Options, url string) *conn {
	return &conn{
		o:          o,
		url:        url,
		qos:        byte(o.QoS),
		in:         make(chan paho.Message, o.Queue),
		done:       make(chan struct{}),
		wake:       make(chan struct{}, 1),
		change:     make(chan struct{}),
		subscribed: make(chan error, 1),
	}
}

// connect creates the MQTT client and connects it, retrying until the
// broker answers, ctx ends or connect_timeout passes; then it waits for the
// subscription. Later connection losses are repaired by paho's automatic
// reconnection, and onConnect subscribes again each time.
func (c *conn) connect(ctx context.Context, id string) error {
	opts := clientOptions(c.o, c.url, id, c.access)
	opts.SetAutoReconnect(true).
		SetMaxReconnectInterval(c.o.ReconnectMax).
		SetOnConnectHandler(c.onConnect).
		SetConnectionLostHandler(c.onLost)
	c.cli = paho.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, c.o.ConnectTimeout)
	defer cancel()
	if err := connectRetry(ctx, c.cli, c.o.ReconnectMax, c.access.tlsOptions(c.o)); err != nil {
		return err
	}
	select {
	case err := <-c.subscribed:
		return err
	case <-ctx.Done():
		c.stateMu.Lock()
		last := c.lastErr
		c.stateMu.Unlock()
		if last != nil {
			return fmt.Errorf("subscribing to %s (%w): %w", c.subTopic, last, ctx.Err())
		}
		return fmt.Errorf("subscribing to %s: %w", c.subTopic, ctx.Err())
	}
}

// clientOptions returns the paho options every MQTT client of this package
// starts from: a clean session, messages handed over in order, the
// credentials and TLS of acc, o's timeouts.
func clientOptions(o *Options, url, id string, acc access) *paho.ClientOptions {
	opts := paho.NewClientOptions().
		AddBroker(url).
		SetClientID(id).
		SetCleanSession(true).
		SetOrderMatters(true).
		SetResumeSubs(false).
		SetAutoReconnect(false).
		SetConnectTimeout(o.ConnectTimeout).
		SetKeepAlive(o.KeepAlive)
	if acc.creds.user != "" {
		opts.SetUsername(acc.creds.user).SetPassword(acc.creds.pass)
	}
	if acc.tls != nil {
		opts.SetTLSConfig(acc.tls)
	}
	return opts
}

// connectRetry connects cli, trying again after failures (every 50 ms at
// first, backing off to retryMax) until it succeeds or ctx ends. Errors that
// retrying cannot cure end it at once.
//
// Failures of TLS say in their first words what to fix: the broker's
// certificate not signed by the CA given (tlsOpts.CAFile) or for another
// name, or a broker that wants a client certificate or refused this
// one's. tlsOpts is nil without TLS.
func connectRetry(ctx context.Context, cli paho.Client, retryMax time.Duration, tlsOpts *TLSOptions) error {
	retry := firstRetry
	var last error // the last attempt's error
	for {
		var err error
		tok := cli.Connect()
		select {
		case <-tok.Done():
			err = tok.Error()
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err == nil {
			return nil
		}
		if hint := tlsRefusal(err); hint != "" {
			return fmt.Errorf("broker not reachable: %s: %w", hint, err)
		}
		if permanent(err) {
			if hint := tlsHint(err, tlsOpts); hint != "" {
				return fmt.Errorf("connecting: %s: %w", hint, err)
			}
			return fmt.Errorf("connecting: %w", err)
		}
		if ctx.Err() == nil {
			last = err
			select {
			case <-time.After(retry):
			case <-ctx.Done():
			}
			retry = min(2*retry, retryMax)
		}
		if err := ctx.Err(); err != nil {
			if last == nil {
				return fmt.Errorf("connecting: %w", err)
			}
			return fmt.Errorf("broker not reachable (%w): %w", last, err)
		}
	}
}

// tlsRefusal explains an alert of the broker that ended the TLS session:
// it wants a client certificate, or refused this client's. It returns ""
// for other errors.
func tlsRefusal(err error) string {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		return ""
	}
	msg := op.Err.Error()
	switch {
	case strings.Contains(msg, "certificate required"):
		return "the broker requires a client certificate; set mqtt.tls.cert_file and key_file"
	case strings.Contains(msg, "bad certificate"), strings.Contains(msg, "unknown certificate authority"),
		strings.Contains(msg, "certificate unknown"), strings.Contains(msg, "expired certificate"):
		return "the broker refused this client's certificate (mqtt.tls.cert_file): is it signed by a CA the broker trusts, and current?"
	}
	return "the broker ended the TLS session"
}

// tlsHint explains a failed verification of the broker's certificate. It
// returns "" for other errors.
func tlsHint(err error, o *TLSOptions) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case o == nil:
		return ""
	case errors.As(err, &unknown) && o.CAFile != "":
		return "the broker's certificate is not signed by the CA in mqtt.tls.ca_file " + o.CAFile
	case errors.As(err, &unknown):
		return "the broker's certificate is not signed by a CA this system trusts; set mqtt.tls.ca_file"
	case errors.As(err, &hostname):
		return "the broker's certificate is not for " + hostname.Host + "; set mqtt.tls.server_name to a name it holds"
	case errors.As(err, &invalid):
		return "the broker's certificate is not valid now, or not for a server"
	}
	return ""
}

// permanent reports connection errors that retrying cannot cure: refused
// credentials or identifiers, certificates that do not verify, and TLS
// alerts from the broker (such as "certificate required").
func permanent(err error) bool {
	var (
		cv    *tls.CertificateVerificationError
		rec   tls.RecordHeaderError
		alert tls.AlertError
	)
	return errors.As(err, &alert) || errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) ||
		errors.Is(err, packets.ErrorRefusedNotAuthorised) ||
		errors.Is(err, packets.ErrorRefusedIDRejected) ||
		errors.Is(err, packets.ErrorRefusedBadProtocolVersion) ||
		errors.As(err, &cv) || errors.As(err, &rec)
}

// onConnect runs, in a goroutine of paho's, after every successful
// connection: the session is clean, so it subscribes again, and tries again
// every reconnect_max while the connection stays open. The first
// subscription that succeeds, or one the broker refuses, is reported to
// connect; a subscription cut short by a lost connection is left to the
// next onConnect.
func (c *conn) onConnect(cli paho.Client) {
	c.stateMu.Lock()
	c.connects++
	if c.connects > 1 {
		c.reconnects.Add(1)
	}
	c.stateMu.Unlock()
	for {
		err := c.subscribe(cli)
		c.stateMu.Lock()
		c.setState(err == nil && cli.IsConnectionOpen(), err)
		c.stateMu.Unlock()
		if err == nil || errors.Is(err, errRefused) {
			select {
			case c.subscribed <- err:
			default:
			}
			return
		}
		if !cli.IsConnectionOpen() {
			return
		}
		select {
		case <-c.done:
			return
		case <-time.After(c.o.ReconnectMax):
		}
	}
}

// errRefused marks a subscription the broker refused.
var errRefused = errors.New("refused by the broker")

// subscribe subscribes to the conn's topic (filter) and waits for the
// broker's answer.
func (c *conn) subscribe(cli paho.Client) error {
	tok := cli.Subscribe(c.subTopic, c.qos, c.onMessage)
	switch {
	case !tok.WaitTimeout(c.o.ConnectTimeout):
		return fmt.Errorf("subscribing to %s: no answer from the broker within %v", c.subTopic, c.o.ConnectTimeout)
	case tok.Error() != nil:
		return fmt.Errorf("subscribing to %s: %w", c.subTopic, tok.Error())
	}
	if st, ok := tok.(*paho.SubscribeToken); ok && st.Result()[c.subTopic] == 0x80 {
		return fmt.Errorf("subscribing to %s: %w", c.subTopic, errRefused)
	}
	return nil
}

// onLost runs when the connection to the broker breaks; paho reconnects.
// paho starts onLost and the reconnection in goroutines of their own, so
// onLost may run after the next onConnect: it changes nothing when the
// connection is already open again.
func (c *conn) onLost(cli paho.Client, err error) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if cli.IsConnectionOpen() {
		return
	}
	c.setState(false, fmt.Errorf("connection lost: %w", err))
}

// setState records a transition; stateMu must be held.
func (c *conn) setState(up bool, err error) {
	c.up.Store(up)
	if err != nil {
		c.lastErr = err
	}
	close(c.change)
	c.change = make(chan struct{})
}

// waitUp waits until the conn is connected and subscribed.
func (c *conn) waitUp(ctx context.Context) error {
	for !c.up.Load() {
		c.stateMu.Lock()
		ch, last, up := c.change, c.lastErr, c.up.Load()
		c.stateMu.Unlock()
		if up {
			return nil
		}
		select {
		case <-ch:
		case <-c.done:
			return network.ErrClosed
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("not connected to the broker (%w): %w", last, ctx.Err())
			}
			return fmt.Errorf("not connected to the broker: %w", ctx.Err())
		}
	}
	return nil
}

// onMessage is the subscription's handler, called by paho's router. It
// never blocks: when the queue is full, the oldest message makes room.
func (c *conn) onMessage(_ paho.Client, m paho.Message) {
	for {
		select {
		case c.in <- m:
			return
		default:
		}
		select {
		case <-c.in:
			c.dropped.Add(1)
		default:
		}
	}
}

func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Send publishes f as one MQTT message holding the encoded frame: a client
// on its request topic, the server on the reply topic of the client f.Peer
// names. It waits, until ctx ends, for the broker connection and for the
// MQTT client to take the message; at QoS 1 and 2 also for the broker's
// acknowledgement. At QoS 0 nothing is acknowledged, so Send returns as soon
// as the message is queued for writing, and a write that fails shows as a
// lost frame.
func (c *conn) Send(ctx context.Context, f *wire.Frame) error {
	if c.closed() {
		return c.errorf("send", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return c.errorf("send", err)
	}
	if err := f.CheckLen(c.o.MaxFrame); err != nil {
		return c.errorf("send", err)
	}
	topic := c.pubTopic
	if c.server {
		var err error
		if topic, err = c.replyTopic(f.Peer); err != nil {
			return c.errorf("send", err)
		}
	}
	if !c.up.Load() {
		if err := c.waitUp(ctx); err != nil {
			return c.errorf("send", err)
		}
	}
	if c.pending != nil {
		// The previous QoS 0 publish: its buffer is reused once written.
		select {
		case <-c.pending.Done():
		default:
			c.buf = nil
		}
		c.pending = nil
	}
	buf, err := f.Append(c.buf[:0])
	if err != nil {
		return c.errorf("send", err)
	}
	c.buf = buf
	tok, err := c.publish(ctx, topic, buf)
	if err != nil {
		c.buf = nil // paho may still write it: leave it alone
		return c.errorf("send", err)
	}
	if c.qos == 0 {
		c.pending = tok
		c.sent.Add(1)
		return nil
	}
	select {
	case <-tok.Done():
	default:
		select {
		case <-tok.Done():
		case <-ctx.Done():
			c.buf = nil // paho may still write it: leave it alone
			return c.errorf("send", fmt.Errorf("publish not confirmed: %w", ctx.Err()))
		case <-c.done:
			c.buf = nil
			return c.errorf("send", network.ErrClosed)
		}
	}
	if err := tok.Error(); err != nil {
		c.buf = nil
		return c.errorf("send", fmt.Errorf("publish to %s: %w", topic, err))
	}
	c.sent.Add(1)
	return nil
}

// publish hands buf to paho. paho's Publish blocks, for up to 30 s, when
// the connection breaks before paho notices (its outgoing queue is then
// unbuffered and unread), so it runs in a goroutine of its own, and
// publish returns when ctx ends or the conn is closed.
func (c *conn) publish(ctx context.Context, topic string, buf []byte) (paho.Token, error) {
	pub := c.published
	if pub == nil {
		pub = make(chan paho.Token, 1)
	}
	go func() { pub <- c.cli.Publish(topic, c.qos, false, buf) }()
	select {
	case tok := <-pub:
		c.published = pub
		return tok, nil
	case <-ctx.Done():
		c.published = nil // the goroutine will write to it later
		return nil, fmt.Errorf("publish not taken by the MQTT client: %w", ctx.Err())
	case <-c.done:
		c.published = nil
		return nil, network.ErrClosed
	}
}

// replyTopic returns the reply topic of the client peer names.
func (c *conn) replyTopic(peer string) (string, error) {
	if peer == c.lastPeer && peer != "" {
		return c.lastTopic, nil
	}
	if !validPeer(peer) {
		return "", fmt.Errorf("frame names no valid peer (Peer %.40q); set it from the request's Peer", peer)
	}
	c.lastPeer, c.lastTopic = peer, c.base+peer+"/rep"
	return c.lastTopic, nil
}

func validPeer(p string) bool {
	return p != "" && len(p) <= maxPeer && !strings.ContainsAny(p, "/+#\x00")
}

// peerOf returns the client level of a request topic BASE/PEER/req.
func peerOf(topic, base string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, base)
	if !ok {
		return "", false
	}
	peer, ok := strings.CutSuffix(rest, "/req")
	return peer, ok && validPeer(peer)
}

// Recv returns the next frame. On the server Frame.Peer names the client
// (its device name and a random suffix, the level of its topics); on a
// client it is the server's device name. A message that is not a valid
// frame, or arrives on an unexpected topic, is a *network.DecodeError.
func (c *conn) Recv(ctx context.Context) (*wire.Frame, error) {
	if c.closed() {
		return nil, c.errorf("recv", network.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, c.errorf("recv", err)
	}
	var m paho.Message
	select {
	case m = <-c.in:
	default:
		select {
		case m = <-c.in:
		case <-c.wake:
			return nil, c.errorf("recv", network.ErrWoken)
		case <-ctx.Done():
			return nil, c.errorf("recv", ctx.Err())
		case <-c.done:
			return nil, c.errorf("recv", network.ErrClosed)
		}
	}
	c.received.Add(1)
	return c.decode(m)
}

// Wake implements network.Waker.
func (c *conn) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) decode(m paho.Message) (*wire.Frame, error) {
	peer := c.peer
	topic := m.Topic()
	if c.server {
		p, ok := peerOf(topic, c.base)
		if !ok {
			return nil, &network.DecodeError{Err: fmt.Errorf("%w %.100q", ErrTopic, topic)}
		}
		peer = p
	} else if topic != c.subTopic {
		return nil, &network.DecodeError{Peer: peer, Err: fmt.Errorf("%w %.100q", ErrTopic, topic)}
	}
	if err := c.frame.Decode(m.Payload(), c.o.MaxFrame); err != nil {
		return nil, &network.DecodeError{Peer: peer, Err: err}
	}
	c.frame.Peer = peer
	return &c.frame, nil
}

// Security implements network.SecurityReporter. Mode says what protects
// this end's link to the broker — "tls", "password", "acl", joined by "+"
// ("tls+password+acl"), or "" for none — and a server with an embedded
// broker counts the clients the broker refused (anonymous, wrong
// password) and the publishes and subscriptions it denied (another
// client's topics, "#").
func (c *conn) Security() network.Security {
	s := network.Security{Mode: c.access.mode}
	if c.broker != nil {
		s.Refused, s.Denied = c.broker.guard.refused.Load(), c.broker.guard.denied.Load()
	}
	return s
}

// Stats returns the conn's counters.
func (c *conn) Stats() Stats {
	return Stats{
		Sent: c.sent.Load(), Received: c.received.Load(),
		Dropped: c.dropped.Load(), Reconnects: c.reconnects.Load(),
	}
}

// Close disconnects from the broker and, on a server with an embedded
// broker, stops the broker. It may be called from any goroutine, also
// while another is blocked in Send or Recv, which then return
// network.ErrClosed. Closing twice is harmless.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		if c.cli != nil {
			c.cli.Disconnect(disconnectQuiesce)
		}
		if c.broker != nil {
			c.broker.Close()
		}
	})
	return nil
}

func (c *conn) errorf(op string, err error) error {
	return fmt.Errorf("mqtt: %s %s: %w", op, c.url, err)
}
