package network

import (
	"context"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	ctx := context.Background()
	for addr, want := range map[string]bool{
		"127.0.0.1:5552": true, "127.3.4.5": true, "[::1]:80": true, "localhost:1": true, "localhost": true,
		"0.0.0.0:5552": false, "[::]:1": false, "*": false, "": false, "192.0.2.7:1": false,
		"10.78.0.1": false, "no-such-host.invalid:5": false,
	} {
		if got := IsLoopback(ctx, addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
