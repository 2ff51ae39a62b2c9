package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// BackgroundServer is a server running in a goroutine of its own, for the
// runs that put both ends in one process (bench, matrix, sweeps) and for
// tests. Its connection is opened, used and closed in that goroutine, as
// ZeroMQ sockets must be.
type BackgroundServer struct {
	stop  context.CancelFunc
	done  chan struct{}
	stats ServerStats
	err   error
}

// StartServer listens with tr as cfg's server device and serves o (whose
// Conn it sets) until Stop, or until ctx ends. It returns once the server
// listens, or could not.
func StartServer(ctx context.Context, tr network.Transport, cfg *network.Config, o ServerOptions) (*BackgroundServer, error) {
	sctx, stop := context.WithCancel(ctx)
	s := &BackgroundServer{stop: stop, done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		defer close(s.done)
		conn, err := tr.Listen(sctx, cfg, cfg.Server)
		ready <- err
		if err != nil {
			return
		}
		o.Conn = conn
		s.stats, s.err = Serve(sctx, o)
		s.err = errors.Join(s.err, conn.Close())
	}()
	if err := <-ready; err != nil {
		stop()
		<-s.done
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	return s, nil
}

// Stop ends the server, waits for it, and returns what it did. Calling it
// again returns the same.
func (s *BackgroundServer) Stop() (ServerStats, error) {
	s.stop()
	<-s.done
	return s.stats, s.err
}
