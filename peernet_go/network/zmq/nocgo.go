//go:build !cgo

package zmq

import (
	"context"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// Dial returns ErrNoCgo: ZeroMQ needs cgo.
func (Transport) Dial(context.Context, *network.Config, string) (network.Conn, error) {
	return nil, ErrNoCgo
}

// Listen returns ErrNoCgo: ZeroMQ needs cgo.
func (Transport) Listen(context.Context, *network.Config, string) (network.Conn, error) {
	return nil, ErrNoCgo
}

// RawServe returns ErrNoCgo: ZeroMQ needs cgo.
func (Transport) RawServe(context.Context, *network.Config, string, int) error { return ErrNoCgo }

// RawPing returns ErrNoCgo: ZeroMQ needs cgo.
func (Transport) RawPing(context.Context, *network.Config, string, network.Ping) ([]time.Duration, error) {
	return nil, ErrNoCgo
}
