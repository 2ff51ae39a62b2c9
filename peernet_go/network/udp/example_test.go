package udp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/udp"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Example sends a 10 000-byte sample over UDP on loopback: it travels as
// 8 datagrams of at most 1400 bytes and comes back whole.
func Example() {
	cfg, err := network.ParseConfig([]byte(`
devices:
  edge: 127.0.0.1
  cloud: 127.0.0.1
server: cloud
start_port: 47510
udp:
  payload_size: 1400
`))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	srv, err := udp.Transport{}.Listen(ctx, cfg, "cloud")
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	cli, err := udp.Transport{}.Dial(ctx, cfg, "edge")
	if err != nil {
		panic(err)
	}
	defer cli.Close()

	sample := make([]byte, 10_000)
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1, Encoding: "bytes", Payload: sample}); err != nil {
		panic(err)
	}
	req, err := srv.Recv(ctx) // req.Peer is the client's address
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
	sent, received := cli.(network.PacketCounter).Packets()
	st := srv.(udp.StatsReporter).Stats()
	fmt.Println(len(req.Payload), "bytes in", st.FragmentsReceived, "datagrams; reply", string(rep.Payload), "from", rep.Peer)
	fmt.Println("client datagrams sent", sent, "received", received, "; lost frames", st.Lost)
	// Output:
	// 10000 bytes in 8 datagrams; reply label from cloud
	// client datagrams sent 8 received 1 ; lost frames 0
}

// ExampleTransport_RawPing measures the bare UDP ping-pong that the
// transport's overhead is compared with.
func ExampleTransport_RawPing() {
	cfg := network.Loopback(47520)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- udp.Transport{}.RawServe(ctx, cfg, "cloud", 0) }()

	var b network.Baseline = udp.Transport{}
	rtts, err := b.RawPing(ctx, cfg, "edge", network.Ping{Payload: make([]byte, 64), ReplySize: 64, Iterations: 100})
	if err != nil {
		panic(err)
	}
	cancel()
	fmt.Println(len(rtts), "round trips;", "server stopped:", <-served)
	// Output: 100 round trips; server stopped: <nil>
}
