//go:build !cgo

package zmq

import (
	"context"
	"errors"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/network"
)

func TestNoCgo(t *testing.T) {
	cfg := network.Loopback(0)
	ctx := context.Background()
	if _, err := (Transport{}).Dial(ctx, cfg, "edge"); !errors.Is(err, ErrNoCgo) {
		t.Errorf("Dial: %v", err)
	}
	if _, err := (Transport{}).Listen(ctx, cfg, "cloud"); !errors.Is(err, ErrNoCgo) {
		t.Errorf("Listen: %v", err)
	}
	if err := (Transport{}).RawServe(ctx, cfg, "cloud", 0); !errors.Is(err, ErrNoCgo) {
		t.Errorf("RawServe: %v", err)
	}
	if _, err := (Transport{}).RawPing(ctx, cfg, "edge", network.Ping{Iterations: 1}); !errors.Is(err, ErrNoCgo) {
		t.Errorf("RawPing: %v", err)
	}
}
