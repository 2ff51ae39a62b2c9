package memnet_test

import (
	"context"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/memnet"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

func TestConformance(t *testing.T) {
	n := memnet.New(memnet.Options{MaxFrame: 2 << 20})
	cfg := network.Loopback(5550)
	transporttest.Run(t, transporttest.Harness{
		Listen: func(t *testing.T) network.Conn {
			c, err := n.Listen(context.Background(), cfg, cfg.Server)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Dial: func(t *testing.T) network.Conn {
			c, err := n.Dial(context.Background(), cfg, "edge")
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		InjectGarbage: func(t *testing.T, b []byte) {
			if err := n.Inject(cfg.ServerAddr(), b); err != nil {
				t.Fatal(err)
			}
		},
		MaxFrame: 2 << 20,
	})
}

// TestDelays checks that each direction takes its configured delay.
func TestDelays(t *testing.T) {
	const up, down = 30 * time.Millisecond, 10 * time.Millisecond
	n := memnet.New(memnet.Options{Up: up, Down: down})
	cfg := network.Loopback(5550)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv, err := n.Listen(ctx, cfg, cfg.Server)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli, err := n.Dial(ctx, cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	t0 := time.Now()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	req, err := srv.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: 1, Peer: req.Peer}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	t2 := time.Now()
	if got := t1.Sub(t0); got < up || got > up+20*time.Millisecond {
		t.Errorf("up took %v, want %v", got, up)
	}
	if got := t2.Sub(t1); got < down || got > down+20*time.Millisecond {
		t.Errorf("down took %v, want %v", got, down)
	}
}
