package mqtt_test

import (
	"context"
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Example runs one request/reply exchange over MQTT on loopback, through
// the broker the server embeds.
func Example() {
	cfg, err := network.ParseConfig([]byte(`
devices:
  edge: 127.0.0.1
  cloud: 127.0.0.1
server: cloud
start_port: 47410
mqtt:
  broker: embedded   # the server runs the broker, on 127.0.0.1:47411
  qos: 1
`))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	srv, err := mqtt.Transport{}.Listen(ctx, cfg, "cloud")
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	cli, err := mqtt.Transport{}.Dial(ctx, cfg, "edge")
	if err != nil {
		panic(err)
	}
	defer cli.Close()

	err = cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1, Encoding: "text", Payload: []byte("sample")})
	if err != nil {
		panic(err)
	}
	req, err := srv.Recv(ctx)
	if err != nil {
		panic(err)
	}
	// req.Peer is the client's topic level, "edge-" and a random suffix.
	reply := wire.Frame{Kind: wire.Reply, Seq: req.Seq, Encoding: "text", Payload: []byte("label"), Peer: req.Peer}
	if err := srv.Send(ctx, &reply); err != nil {
		panic(err)
	}
	rep, err := cli.Recv(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(req.Kind, string(req.Payload), "→", rep.Kind, rep.Seq, string(rep.Payload), "from", rep.Peer)
	// Output: request sample → reply 1 label from cloud
}

// ExampleTransport_RawPing measures the bare paho ping-pong that the
// transport's overhead is compared with.
func ExampleTransport_RawPing() {
	cfg := network.Loopback(47420)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- mqtt.Transport{}.RawServe(ctx, cfg, "cloud", 0) }()

	var b network.Baseline = mqtt.Transport{}
	rtts, err := b.RawPing(ctx, cfg, "edge", network.Ping{Payload: make([]byte, 1024), ReplySize: 1024, Iterations: 100})
	if err != nil {
		panic(err)
	}
	cancel()
	fmt.Println(len(rtts), "round trips;", "server stopped:", <-served)
	// Output: 100 round trips; server stopped: <nil>
}
