//go:build cgo

package zmq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
)

func TestRawPing(t *testing.T) {
	cfg := loopback(t)
	transporttest.ServeBaseline(t, Transport{}, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range []network.Ping{
		{Payload: make([]byte, 1024), ReplySize: 1024, Iterations: 50},
		{Payload: []byte("x"), ReplySize: 0, Iterations: 5},
		{Payload: nil, ReplySize: 100_000, Iterations: 3, Timeout: time.Second},
	} {
		rtts, err := Transport{}.RawPing(ctx, cfg, "edge", p)
		if err != nil {
			t.Fatalf("RawPing %d→%d bytes: %v", len(p.Payload), p.ReplySize, err)
		}
		if len(rtts) != p.Iterations {
			t.Fatalf("%d round trips, want %d", len(rtts), p.Iterations)
		}
		for i, d := range rtts {
			if d <= 0 || d > 5*time.Second {
				t.Fatalf("round trip %d took %v", i, d)
			}
		}
	}
}

func TestRawPingErrors(t *testing.T) {
	cfg := loopback(t)
	ctx := context.Background()
	tests := []struct {
		name string
		p    network.Ping
		self string
		want string
	}{
		{"no iterations", network.Ping{}, "edge", "zmq raw ping: iterations: 0, want > 0"},
		{"reply size", network.Ping{Iterations: 1, ReplySize: -1}, "edge", "zmq raw ping: reply size -1 out of range"},
		{"unknown device", network.Ping{Iterations: 1}, "robot", `zmq raw ping: device "robot" is not in the network config`},
		{"no server", network.Ping{Iterations: 1, Timeout: 300 * time.Millisecond}, "edge", "no raw server answered within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Transport{}.RawPing(ctx, cfg, tt.self, tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if err := (Transport{}).RawServe(ctx, cfg, "edge", 0); err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Errorf("RawServe as a client: %v", err)
	}
}

// TestRawServerGone: a run whose server disappears ends with an error
// within its timeout, keeping the round trips already measured.
func TestRawServerGone(t *testing.T) {
	cfg := loopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Transport{}.RawServe(ctx, cfg, "cloud", 0) }()
	rtts, err := Transport{}.RawPing(context.Background(), cfg, "edge", network.Ping{Payload: []byte("a"), ReplySize: 1, Iterations: 3})
	if err != nil || len(rtts) != 3 {
		t.Fatalf("first run: %d, %v", len(rtts), err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer pcancel()
	_, err = Transport{}.RawPing(pctx, cfg, "edge", network.Ping{Payload: []byte("a"), Iterations: 3, Timeout: 2 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ping of a stopped server, ctx 100ms: %v", err)
	}
}
