package mqtt

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// The raw baseline is a bare paho ping-pong through the same kind of broker:
// the client publishes the payload on PREFIX/SERVER/ID/ping and the server's
// handler publishes a reply of the set size on PREFIX/SERVER/ID/pong, at the
// configured QoS — no frame header, no timestamps, no queue. One setup
// message starts a run: rawMagic, the reply size and a nonce (16 bytes),
// echoed by the server as the acknowledgement.
const (
	rawMagic     = "PNMQTTr1"
	rawSetupSize = 16
	// rawSetupRetry is how long RawPing waits for the setup's
	// acknowledgement before it sends the setup again.
	rawSetupRetry = 250 * time.Millisecond
	// rawMaxPeers bounds the clients RawServe remembers.
	rawMaxPeers = 1024
)

func isSetup(b []byte) bool { return len(b) == rawSetupSize && string(b[:8]) == rawMagic }

// rawPeer is what RawServe keeps per client: its reply topic and reply.
type rawPeer struct {
	topic string
	reply []byte
}

// rawLinger is how long RawServe goes on after its last counted reply, so
// that the reply crosses the broker before both close.
const rawLinger = 300 * time.Millisecond

// RawServe answers raw pings as device self until ctx ends or it has
// answered pings of them (0: no limit), then returns nil. With broker: embedded it runs its own broker, as Listen does.
func (t Transport) RawServe(ctx context.Context, cfg *network.Config, self string, pings int) error {
	if _, err := network.ServerDevice(cfg, self); err != nil {
		return fmt.Errorf("mqtt raw serve: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return err
	}
	url, listen, err := endpoints(cfg, o)
	if err != nil {
		return fmt.Errorf("mqtt raw serve: %w", err)
	}
	var acc access
	if listen != "" {
		b, own, err := startEmbedded(ctx, cfg, o, listen, "mqtt raw serve")
		if err != nil {
			return err
		}
		defer b.Close()
		acc = own
	} else if acc, err = clientAccess(ctx, cfg, o, url, ""); err != nil {
		return err
	}
	cli := paho.NewClient(clientOptions(o, url, clientID(self, "rawserver-"), acc))
	cctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	err = connectRetry(cctx, cli, o.ReconnectMax, acc.tlsOptions(o))
	cancel()
	if err != nil {
		return fmt.Errorf("mqtt raw serve %s: %w", url, err)
	}
	defer cli.Disconnect(disconnectQuiesce)

	base := o.Prefix + "/" + self + "/"
	qos := byte(o.QoS)
	peers := map[string]rawPeer{}
	ctx, enough := context.WithCancel(ctx)
	defer enough()
	var answered atomic.Int64
	handler := func(cli paho.Client, m paho.Message) {
		topic := m.Topic()
		p, ok := peers[topic]
		if b := m.Payload(); isSetup(b) {
			id, found := strings.CutSuffix(strings.TrimPrefix(topic, base), "/ping")
			n := binary.LittleEndian.Uint32(b[8:])
			if !found || int64(n) > int64(o.MaxFrame) {
				return // refuse: no acknowledgement
			}
			if len(peers) >= rawMaxPeers {
				clear(peers)
			}
			p = rawPeer{topic: base + id + "/pong", reply: make([]byte, n)}
			peers[topic] = p
			cli.Publish(p.topic, qos, false, b)
			return
		}
		if ok {
			cli.Publish(p.topic, qos, false, p.reply) // a lost reply is the client's timeout
			if pings > 0 && answered.Add(1) == int64(pings) {
				// The last reply is on its way through the broker: give it
				// time to arrive before both close.
				time.AfterFunc(rawLinger, enough)
			}
		}
	}
	sub := base + "+/ping"
	tok := cli.Subscribe(sub, qos, handler)
	if !tok.WaitTimeout(o.ConnectTimeout) || tok.Error() != nil {
		return fmt.Errorf("mqtt raw serve %s: subscribing to %s: %w", url, sub, tokenError(tok, o.ConnectTimeout))
	}
	<-ctx.Done()
	return nil
}

func tokenError(tok paho.Token, d time.Duration) error {
	if err := tok.Error(); err != nil {
		return err
	}
	return fmt.Errorf("no answer within %v", d)
}

// RawPing runs a raw paho ping-pong against RawServe: after one setup
// exchange, each iteration publishes p.Payload, waits for paho to confirm
// it, and waits for the reply; its round trip is timed with the monotonic
// clock.
func (t Transport) RawPing(ctx context.Context, cfg *network.Config, self string, p network.Ping) ([]time.Duration, error) {
	return network.RunPing(ctx, "mqtt", p, func(ctx context.Context, p network.Ping) (*network.RawClient, error) {
		r, err := t.dialRaw(ctx, cfg, self, p)
		if err != nil {
			return nil, err
		}
		return &network.RawClient{Addr: r.url, RoundTrip: r.roundTrip, Close: r.close}, nil
	})
}

// rawClient is the client end of a raw run, set up and acknowledged.
type rawClient struct {
	cli       paho.Client
	url       string
	pingTopic string
	qos       byte
	replies   chan []byte
	payload   []byte
	replySize int
	timeout   time.Duration
	timer     *time.Timer // bounds each round trip
}

// dialRaw connects to the broker, subscribes to the reply topic and sets up
// a run of p's sizes with a RawServe peer.
func (t Transport) dialRaw(ctx context.Context, cfg *network.Config, self string, p network.Ping) (*rawClient, error) {
	if _, err := network.ClientDevice(cfg, self); err != nil {
		return nil, fmt.Errorf("mqtt raw ping: %w", err)
	}
	o, err := t.options(cfg)
	if err != nil {
		return nil, err
	}
	timeout, err := p.Check(o.MaxFrame)
	if err != nil {
		return nil, fmt.Errorf("mqtt raw ping: %w", err)
	}
	url, listen, err := endpoints(cfg, o)
	if err != nil {
		return nil, fmt.Errorf("mqtt raw ping: %w", err)
	}
	acc, err := clientAccess(ctx, cfg, o, url, listen)
	if err != nil {
		return nil, err
	}
	id := clientID(self, "raw-")
	base := o.Prefix + "/" + cfg.Server + "/" + id + "/"
	r := &rawClient{url: url, pingTopic: base + "ping", qos: byte(o.QoS), replies: make(chan []byte, 4), payload: p.Payload, replySize: p.ReplySize, timeout: timeout}
	r.timer = time.NewTimer(r.timeout)
	r.timer.Stop()
	r.cli = paho.NewClient(clientOptions(o, url, id, acc))
	sctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := connectRetry(sctx, r.cli, o.ReconnectMax, acc.tlsOptions(o)); err != nil {
		return nil, fmt.Errorf("mqtt raw ping %s: %w", url, err)
	}
	pong := base + "pong"
	tok := r.cli.Subscribe(pong, r.qos, func(_ paho.Client, m paho.Message) {
		select {
		case r.replies <- m.Payload():
		default: // the pinger gave up on an earlier reply
		}
	})
	if !tok.WaitTimeout(r.timeout) || tok.Error() != nil {
		r.close()
		return nil, fmt.Errorf("mqtt raw ping %s: subscribing to %s: %w", url, pong, tokenError(tok, r.timeout))
	}
	if err := r.setup(sctx); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// setup sends the setup message until RawServe acknowledges it.
func (r *rawClient) setup(ctx context.Context) error {
	setup := make([]byte, rawSetupSize)
	copy(setup, rawMagic)
	binary.LittleEndian.PutUint32(setup[8:], uint32(r.replySize))
	binary.LittleEndian.PutUint32(setup[12:], rand.Uint32())
	for {
		r.cli.Publish(r.pingTopic, r.qos, false, setup)
		timer := time.NewTimer(rawSetupRetry)
	wait:
		for {
			select {
			case b := <-r.replies:
				if string(b) == string(setup) {
					timer.Stop()
					return nil
				}
			case <-timer.C:
				break wait
			case <-ctx.Done():
				timer.Stop()
				return fmt.Errorf("mqtt raw ping %s: no raw server answered (is RawServe running there?): %w", r.url, ctx.Err())
			}
		}
	}
}

// roundTrip publishes the payload, waits for paho to confirm it, and waits
// for the reply, for network.TimeRoundTrips.
func (r *rawClient) roundTrip() error {
	r.timer.Reset(r.timeout)
	tok := r.cli.Publish(r.pingTopic, r.qos, false, r.payload)
	select {
	case <-tok.Done():
	case <-r.timer.C:
		return fmt.Errorf("publish not confirmed within %v", r.timeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	var b []byte
	select {
	case b = <-r.replies:
	case <-r.timer.C:
		return fmt.Errorf("no reply within %v", r.timeout)
	}
	if len(b) != r.replySize {
		return fmt.Errorf("reply of %d bytes, want %d", len(b), r.replySize)
	}
	return nil
}

func (r *rawClient) close() {
	r.timer.Stop()
	r.cli.Disconnect(disconnectQuiesce)
}
