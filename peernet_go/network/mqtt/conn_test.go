package mqtt_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// testMaxFrame keeps the conformance kit's largest frames small.
const testMaxFrame = 4 << 20

// loopback returns an edge/cloud config on 127.0.0.1 whose server port is
// free, with an mqtt section made of the given lines.
func loopback(t testing.TB, mqttLines ...string) *network.Config {
	t.Helper()
	return transporttest.LoopbackConfig(t, "mqtt", mqttLines...)
}

func listen(t testing.TB, cfg *network.Config) network.Conn {
	t.Helper()
	c, err := mqtt.Transport{}.Listen(context.Background(), cfg, "cloud")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dial(t testing.TB, cfg *network.Config) network.Conn {
	t.Helper()
	c, err := mqtt.Transport{}.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// brokerURL is where the ends of cfg find their broker.
func brokerURL(t testing.TB, cfg *network.Config) string {
	t.Helper()
	o, err := mqtt.LoadOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.Broker != mqtt.BrokerEmbedded {
		return o.Broker
	}
	return "tcp://" + cfg.ServerAddr()
}

// publishRaw publishes b on topic from a bare paho client, as a peer that
// does not speak the frame format would, and waits for the broker's
// acknowledgement.
func publishRaw(t testing.TB, url, topic string, b []byte) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("raw-%d", time.Now().UnixNano())).SetConnectTimeout(5 * time.Second)
	cli := paho.NewClient(opts)
	if tok := cli.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("raw client: connect %s: %v", url, tok.Error())
	}
	defer cli.Disconnect(100)
	if tok := cli.Publish(topic, 1, false, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("raw client: publish on %s: %v", topic, tok.Error())
	}
}

func harness(cfg *network.Config) transporttest.Harness {
	return transporttest.Harness{
		Listen: func(t *testing.T) network.Conn { return listen(t, cfg) },
		Dial:   func(t *testing.T) network.Conn { return dial(t, cfg) },
		InjectGarbage: func(t *testing.T, b []byte) {
			publishRaw(t, brokerURL(t, cfg), "peernet/cloud/garbage-1/req", b)
		},
		MaxFrame: testMaxFrame,
		// The largest frames take seconds under the race detector on a
		// loaded machine.
		Timeout: 15 * time.Second,
	}
}

// TestConformanceEmbedded runs the conformance kit through the broker the
// server embeds; ServerRestart restarts that broker too.
func TestConformanceEmbedded(t *testing.T) {
	for _, qos := range []int{0, 1} {
		t.Run(fmt.Sprintf("QoS%d", qos), func(t *testing.T) {
			cfg := loopback(t, fmt.Sprintf("max_frame: %d", testMaxFrame), fmt.Sprintf("qos: %d", qos))
			transporttest.Run(t, harness(cfg))
		})
	}
}

// TestConformanceMosquitto runs the conformance kit through a real
// mosquitto; ServerRestart restarts the server end only.
func TestConformanceMosquitto(t *testing.T) {
	b := mqtttest.Mosquitto(t)
	for _, qos := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("QoS%d", qos), func(t *testing.T) {
			cfg := loopback(t, "broker: "+b.URL(), fmt.Sprintf("max_frame: %d", testMaxFrame), fmt.Sprintf("qos: %d", qos))
			transporttest.Run(t, harness(cfg))
		})
	}
}

func exchange(t *testing.T, srv, cli network.Conn, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: seq, Encoding: "text", Payload: []byte("ping")}); err != nil {
		t.Fatalf("client Send: %v", err)
	}
	req, err := srv.Recv(ctx)
	if err != nil {
		t.Fatalf("server Recv: %v", err)
	}
	if err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: req.Seq, Peer: req.Peer, Payload: []byte("pong")}); err != nil {
		t.Fatalf("server Send: %v", err)
	}
	rep, err := cli.Recv(ctx)
	if err != nil {
		t.Fatalf("client Recv: %v", err)
	}
	if rep.Seq != seq || string(rep.Payload) != "pong" || rep.Peer != "cloud" {
		t.Fatalf("reply %+v", rep)
	}
}

func TestPeerIsClientID(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	defer srv.Close()
	cli := dial(t, cfg)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	req, err := srv.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.Peer, "edge-") || len(req.Peer) != len("edge-")+8 {
		t.Errorf("Peer %q, want edge-XXXXXXXX", req.Peer)
	}
	if err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: 1, Peer: "no/such"}); err == nil || !strings.Contains(err.Error(), "no valid peer") {
		t.Errorf("Send to a bad peer: %v", err)
	}
	if err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: 1}); err == nil || !strings.Contains(err.Error(), "no valid peer") {
		t.Errorf("Send without a peer: %v", err)
	}
}

// TestBadTopicAndPayload: messages on the server's request filter that are
// not frames, and messages for a client on a topic it does not expect,
// are DecodeErrors naming the peer; the conns keep working.
func TestBadTopicAndPayload(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	defer srv.Close()
	cli := dial(t, cfg)
	defer cli.Close()
	exchange(t, srv, cli, 1)
	url := brokerURL(t, cfg)

	publishRaw(t, url, "peernet/cloud/intruder/req", []byte("not a frame"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := srv.Recv(ctx)
	var de *network.DecodeError
	if !errors.As(err, &de) || de.Peer != "intruder" || !errors.Is(err, wire.ErrMagic) {
		t.Fatalf("server Recv of garbage = %v; want a DecodeError from intruder", err)
	}
	exchange(t, srv, cli, 2)
}

// TestQueueDropsOldest: a flood larger than the queue keeps the newest
// messages and counts the others as dropped.
func TestQueueDropsOldest(t *testing.T) {
	cfg := loopback(t, "queue: 4", "qos: 1")
	srv := listen(t, cfg)
	defer srv.Close()
	cli := dial(t, cfg)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n = 50
	for i := range n {
		if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	// QoS 1 publishes are acknowledged once the broker has them; wait
	// until the server has seen them all.
	st := srv.(mqtt.StatsReporter)
	for st.Stats().Dropped < n-4 {
		if ctx.Err() != nil {
			t.Fatalf("dropped %d of %d", st.Stats().Dropped, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for want := uint64(n - 3); want <= n; want++ {
		f, err := srv.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq != want {
			t.Fatalf("got seq %d, want %d: the newest messages are kept, in order", f.Seq, want)
		}
	}
	if s := st.Stats(); s.Dropped != n-4 || s.Received != 4 {
		t.Errorf("stats %+v, want %d dropped and 4 received", s, n-4)
	}
	if s := cli.(mqtt.StatsReporter).Stats(); s.Sent != n {
		t.Errorf("client stats %+v, want %d sent", s, n)
	}
}

// TestEmbeddedCredentials: with a username the embedded broker admits
// only clients with the right password, and says so at once.
func TestEmbeddedCredentials(t *testing.T) {
	cfg := loopback(t, "username: robot", "password: s3cret*")
	srv := listen(t, cfg)
	defer srv.Close()
	cli := dial(t, cfg)
	defer cli.Close()
	exchange(t, srv, cli, 1)

	for _, bad := range []string{"s3cret", "s3cret*x", ""} {
		o := &mqtt.Options{Username: "robot", Password: bad}
		if bad == "" {
			o.Username = ""
		}
		if err := o.Initialize(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c, err := mqtt.Transport{Options: o}.Dial(context.Background(), cfg, "edge")
		if err == nil {
			c.Close()
			t.Fatalf("password %q admitted", bad)
		}
		if !strings.Contains(err.Error(), "bad user name or password") && !strings.Contains(err.Error(), "not Authorized") {
			t.Errorf("password %q: error %v", bad, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusal took %v; credentials errors are not retried", d)
		}
	}
}

func TestDialWithoutBroker(t *testing.T) {
	cfg := loopback(t, "connect_timeout: 300ms")
	start := time.Now()
	c, err := mqtt.Transport{}.Dial(context.Background(), cfg, "edge")
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded with no broker")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "broker not reachable") {
		t.Errorf("error %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial took %v with a 300ms connect_timeout", d)
	}
}

// TestDialBeforeListen: a client started before the server finds the
// embedded broker once it is up.
func TestDialBeforeListen(t *testing.T) {
	cfg := loopback(t)
	dialed := make(chan network.Conn, 1)
	go func() {
		c, err := mqtt.Transport{}.Dial(context.Background(), cfg, "edge")
		if err != nil {
			t.Error(err)
		}
		dialed <- c
	}()
	time.Sleep(400 * time.Millisecond)
	srv := listen(t, cfg)
	defer srv.Close()
	cli := <-dialed
	if cli == nil {
		return
	}
	defer cli.Close()
	exchange(t, srv, cli, 1)
}

// TestBrokerRestartMidStream: through a mosquitto that crashes and comes
// back, both ends reconnect and resubscribe by themselves; Send waits for
// the connection meanwhile.
func TestBrokerRestartMidStream(t *testing.T) {
	b := mqtttest.Mosquitto(t)
	cfg := loopback(t, "broker: "+b.URL(), "qos: 1", "reconnect_max: 200ms")
	srv := listen(t, cfg)
	defer srv.Close()
	cli := dial(t, cfg)
	defer cli.Close()
	exchange(t, srv, cli, 1)
	b.Restart(300 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for seq := uint64(2); ; seq++ {
		ok := tryExchange(srv, cli, seq, time.Second)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no exchange within 10s of the broker's restart")
		}
	}
	if r := cli.(mqtt.StatsReporter).Stats().Reconnects; r != 1 {
		t.Errorf("client reconnected %d times, want 1", r)
	}
	if r := srv.(mqtt.StatsReporter).Stats().Reconnects; r != 1 {
		t.Errorf("server reconnected %d times, want 1", r)
	}
}

// tryExchange is exchange that reports failure instead of failing.
func tryExchange(srv, cli network.Conn, seq uint64, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: seq}) != nil {
		return false
	}
	for {
		req, err := srv.Recv(ctx)
		if err != nil {
			return false
		}
		if req.Seq != seq {
			continue
		}
		if srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: seq, Peer: req.Peer}) != nil {
			return false
		}
		for {
			rep, err := cli.Recv(ctx)
			if err != nil {
				return false
			}
			if rep.Seq == seq {
				return true
			}
		}
	}
}

func TestSendWaitsForBroker(t *testing.T) {
	b := mqtttest.Mosquitto(t)
	cfg := loopback(t, "broker: "+b.URL())
	cli := dial(t, cfg)
	defer cli.Close()
	b.Stop()
	// paho notices the lost connection at once (the socket closes).
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not connected to the broker") {
		t.Fatalf("Send with the broker down: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > time.Second {
		t.Errorf("Send returned after %v, want its 200ms deadline", d)
	}
}
