package sensor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/subprocess"
)

// execSensor is the exec:COMMAND sensor: a program speaking the exec
// protocol of package subprocess.
type execSensor struct {
	closer
	p       *subprocess.Process
	enc     string
	timeout time.Duration
}

var _ Sensor = (*execSensor)(nil)

func openExec(command string, o Options) (Sensor, error) {
	if strings.TrimSpace(command) == "" {
		return nil, fmt.Errorf("sensor: %q: no command after %q", o.Type, ExecPrefix)
	}
	p, err := subprocess.Start(subprocess.Options{Command: command})
	if err != nil {
		return nil, fmt.Errorf("sensor: %w", err)
	}
	enc := o.Encoding
	if enc == "" {
		enc = media.Bytes
	}
	return &execSensor{p: p, enc: enc, timeout: o.Timeout}, nil
}

// Sample asks the program for a sample and waits at most the sensor's
// timeout for it.
func (s *execSensor) Sample(ctx context.Context) (Sample, error) {
	if err := s.check(ctx); err != nil {
		return Sample{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	data, err := s.p.Call(ctx, nil)
	cancel()
	if err != nil {
		return Sample{}, fmt.Errorf("sensor: %w", err)
	}
	return Sample{Data: data, Encoding: s.enc, Time: time.Now()}, nil
}

// Close stops the program (see subprocess.Process.Close).
func (s *execSensor) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.p.Close(); err != nil {
		return fmt.Errorf("sensor: %w", err)
	}
	return nil
}
