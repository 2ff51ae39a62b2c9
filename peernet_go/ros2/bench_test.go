//go:build ros2

package ros2

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/rosnode"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// twoNodes is the ros2 network with its serving end on one node and its
// client end on another, as edge and cloud are.
type twoNodes struct{ srv, cli *Host }

func (t twoNodes) Listen(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	return rosnode.Transport{Host: t.srv}.Listen(ctx, cfg, self)
}

func (t twoNodes) Dial(ctx context.Context, cfg *network.Config, self string) (network.Conn, error) {
	return rosnode.Transport{Host: t.cli}.Dial(ctx, cfg, self)
}

// rawEcho is the baseline of the ros2 network: the same serialized
// peernet_msgs/Sample, with the same QoS, published by the client node
// and published back unchanged by the server node, with no frame
// conversion and no transport logic on either side.
type rawEcho struct {
	ping    rosnode.Publisher
	replies chan []byte
	msg     []byte
	timer   *time.Timer
}

// rawEchoes numbers the raw echoes' topics: each benchmark run has its own.
var rawEchoes atomic.Int64

func newRawEcho(b *testing.B, srv, cli *Host, payload []byte) *rawEcho {
	b.Helper()
	n := rawEchoes.Add(1)
	pingTopic, pongTopic := fmt.Sprintf("/raw_bench/ping%d", n), fmt.Sprintf("/raw_bench/pong%d", n)
	q := rosnode.QoS{Reliability: rosnode.Reliable, Durability: rosnode.Volatile, Depth: rosnode.DefaultNetworkQoSDepth}
	pong, err := srv.Publisher(pongTopic, msgs.TypeSample, q)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pong.Close() })
	echo, err := srv.Subscribe(pingTopic, msgs.TypeSample, q, func(m rosnode.Message) { pong.Publish(m.Data) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { echo.Close() })
	r := &rawEcho{replies: make(chan []byte, 1), timer: time.NewTimer(time.Hour)}
	r.timer.Stop()
	sub, err := cli.Subscribe(pongTopic, msgs.TypeSample, q, func(m rosnode.Message) {
		select {
		case r.replies <- m.Data:
		default:
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sub.Close() })
	if r.ping, err = cli.Publisher(pingTopic, msgs.TypeSample, q); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.ping.Close() })
	f := wire.Frame{Kind: wire.Request, Seq: 1, Encoding: "bytes", Payload: payload}
	s, err := msgs.SampleFromFrame(&f, "edge", "edge")
	if err != nil {
		b.Fatal(err)
	}
	e := cdr.NewEncoder(false)
	s.EncodeCDR(e)
	r.msg = e.Data()
	// Both ends matched both ways, and the path warm.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, _ := r.ping.Matched(); n > 0 {
			if n, _ := pong.Matched(); n > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("raw echo: publishers not matched within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 10 {
		if err := r.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// roundTrip publishes the sample and waits for it to come back.
func (r *rawEcho) roundTrip() error {
	r.timer.Reset(transporttest.DefaultTimeout)
	if err := r.ping.Publish(r.msg); err != nil {
		return err
	}
	select {
	case b := <-r.replies:
		if len(b) != len(r.msg) {
			return fmt.Errorf("echo of %d bytes, want %d", len(b), len(r.msg))
		}
		return nil
	case <-r.timer.C:
		return fmt.Errorf("no echo within %v", transporttest.DefaultTimeout)
	}
}

// BenchmarkConnVsRaw compares round trips through the ros2 network's Conns
// (two nodes, one process, DDS over loopback) with the raw echo of the
// same serialized messages between the same nodes, in alternating batches.
func BenchmarkConnVsRaw(b *testing.B) {
	ctx := rosContext(b)
	srv, cli := newHost(b, ctx, "bench_server"), newHost(b, ctx, "bench_client")
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			cfg := transporttest.LoopbackConfig(b, "ros2", "max_frame: 4194304")
			payload := make([]byte, size)
			raw := newRawEcho(b, srv, cli, payload)
			transporttest.BenchConnVsRaw(b, twoNodes{srv, cli}, cfg, "edge", payload, raw.roundTrip)
		})
	}
}
