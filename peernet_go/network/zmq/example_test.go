//go:build cgo

package zmq_test

import (
	"context"
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/zmq"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Example runs one request/reply exchange over zmq-tcp on loopback.
func Example() {
	cfg, err := network.ParseConfig([]byte(`
devices:
  edge: 127.0.0.1
  cloud: 127.0.0.1
server: cloud
start_port: 47310
zmq:
  max_frame: 1048576
`))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	srv, err := zmq.Transport{}.Listen(ctx, cfg, "cloud")
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	cli, err := zmq.Transport{}.Dial(ctx, cfg, "edge")
	if err != nil {
		panic(err)
	}
	defer cli.Close()

	// The edge sends a sample; Send waits until the server is connected.
	err = cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1, Encoding: "text", Payload: []byte("sample")})
	if err != nil {
		panic(err)
	}

	// The cloud answers the peer the request came from.
	req, err := srv.Recv(ctx)
	if err != nil {
		panic(err)
	}
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

// ExampleTransport_RawPing measures the raw PAIR baseline that the
// profiler's overhead is compared with.
func ExampleTransport_RawPing() {
	cfg := network.Loopback(47320)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- zmq.Transport{}.RawServe(ctx, cfg, "cloud", 0) }()

	var b network.Baseline = zmq.Transport{}
	rtts, err := b.RawPing(ctx, cfg, "edge", network.Ping{Payload: make([]byte, 1024), ReplySize: 1024, Iterations: 100})
	if err != nil {
		panic(err)
	}
	cancel()
	fmt.Println(len(rtts), "round trips;", "server stopped:", <-served)
	// Output: 100 round trips; server stopped: <nil>
}
