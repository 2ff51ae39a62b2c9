package sensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/goplugin"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// Constructor is the signature of a plugin symbol that builds a sensor from
// the options it was opened with.
type Constructor = func(ctx context.Context, o Options) (Sensor, error)

func openExternal(ctx context.Context, o Options) (Sensor, error) {
	if o.Object == "" {
		return nil, errors.New("sensor: external: Object (--sensor-object) is empty: name a Go plugin symbol, path/to/plugin.so::Symbol")
	}
	sym, err := goplugin.Lookup(o.Object)
	if errors.Is(err, goplugin.ErrPythonModule) {
		module, object, _ := strings.Cut(o.Object, "::")
		return nil, fmt.Errorf("sensor: external: %w, e.g. --sensor-type 'exec:python3 peernet_object.py sensor %s::%s' with peernet_object.py from peernet_go/examples/exec",
			err, filepath.Base(module), object)
	}
	if err != nil {
		return nil, fmt.Errorf("sensor: external: %w", err)
	}
	var s Sensor
	switch f := sym.(type) {
	case Constructor:
		s, err = f(ctx, o)
	case *Constructor:
		s, err = (*f)(ctx, o)
	case func(context.Context) (Sample, error):
		s = Func(f)
	default:
		s, err = goplugin.As[Sensor](sym)
	}
	if err == nil && s == nil {
		err = fmt.Errorf("%s built a nil sensor", o.Object)
	}
	if err != nil {
		return nil, fmt.Errorf("sensor: external %s: %w", o.Object, err)
	}
	enc := o.Encoding
	if enc == "" {
		enc = media.Bytes
	}
	return &guarded{s: s, enc: enc, name: o.Object}, nil
}

// guarded wraps a sensor from a plugin: it honours a cancelled context and
// Close even when the plugin does not, and fills in a missing encoding and
// capture time.
type guarded struct {
	closer
	s        Sensor
	enc      string
	name     string
	closeErr error
}

var _ Sensor = (*guarded)(nil)

// Sample calls the plugin's Sample.
func (g *guarded) Sample(ctx context.Context) (Sample, error) {
	if err := g.check(ctx); err != nil {
		return Sample{}, err
	}
	smp, err := g.s.Sample(ctx)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return Sample{}, err
		}
		return Sample{}, fmt.Errorf("sensor: external %s: %w", g.name, err)
	}
	if smp.Encoding == "" {
		smp.Encoding = g.enc
	}
	if smp.Time.IsZero() {
		smp.Time = time.Now()
	}
	return smp, nil
}

// Close closes the plugin's sensor once.
func (g *guarded) Close() error {
	if !g.closed {
		g.closed = true
		if err := g.s.Close(); err != nil {
			g.closeErr = fmt.Errorf("sensor: external %s: close: %w", g.name, err)
		}
	}
	return g.closeErr
}
