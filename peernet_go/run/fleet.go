package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// FleetOptions configure a fleet run: several edges in this process, each
// with its own connection, device name, sensor and clock estimate, against
// one server.
type FleetOptions struct {
	// Transport and Config reach the server; each edge dials as one of
	// Names, which must be devices of Config (see network.Config.WithEdges).
	Transport network.Transport
	Config    *network.Config
	// Names are the edges' device names, one edge each. Required.
	Names []string
	// Client is what every edge runs; its Conn and Sensor are set per
	// edge, and its Sinks get the edge's own sinks and Shared appended.
	Client ClientOptions
	// OpenSensor opens edge i's sensor, a fresh instance for each edge.
	// Required.
	OpenSensor func(ctx context.Context, i int) (sensor.Sensor, error)
	// Sinks, if set, returns edge i's own sinks (its results directory).
	Sinks func(i int) []metrics.Sink
	// Shared sinks receive the records of every edge, from the edges'
	// goroutines at once: they must be safe for concurrent use.
	Shared []metrics.Sink
	// Aligned puts every edge's schedule on the same instants. By default
	// (with a Client.Rate) edge i's slots fall i/len(Names) of a period
	// after edge 0's, as independent robots' cameras would.
	Aligned bool
}

// EdgeResult is what one edge of a fleet did.
type EdgeResult struct {
	// Name is the edge's device name.
	Name string
	// Result is its client run's result; Err what ended it, if anything
	// but its iterations (or ctx).
	Result Result
	Err    error
}

// ErrEdgesDown is returned by Fleet when some edges never reached the
// server.
var ErrEdgesDown = errors.New("edges could not reach the server")

// Fleet runs every edge at once until each is done, and returns what each
// did, in the order of o.Names. An edge that fails does not stop the others;
// when some could not connect at all, the error (wrapping ErrEdgesDown)
// names them.
func Fleet(ctx context.Context, o FleetOptions) ([]EdgeResult, error) {
	if len(o.Names) == 0 || o.OpenSensor == nil || o.Transport == nil || o.Config == nil {
		return nil, errors.New("run: a fleet needs edges, a sensor, a transport and a network config")
	}
	results := make([]EdgeResult, len(o.Names))
	var wg sync.WaitGroup
	for i, name := range o.Names {
		results[i].Name = name
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].Result, results[i].Err = o.edge(ctx, i, name)
		}()
	}
	wg.Wait()
	var down []string
	for _, r := range results {
		if errors.Is(r.Err, ErrNoServer) {
			down = append(down, r.Name)
		}
	}
	if len(down) > 0 {
		return results, fmt.Errorf("%w within %v: %s", ErrEdgesDown, o.connectTimeout(), strings.Join(down, ", "))
	}
	return results, nil
}

func (o *FleetOptions) connectTimeout() time.Duration {
	if o.Client.Connect > 0 {
		return o.Client.Connect
	}
	return DefaultConnect
}

// edge runs edge i.
func (o *FleetOptions) edge(ctx context.Context, i int, name string) (Result, error) {
	s, err := o.OpenSensor(ctx, i)
	if err != nil {
		return Result{}, fmt.Errorf("%s: sensor: %w", name, err)
	}
	defer s.Close()
	conn, err := o.Transport.Dial(ctx, o.Config, name)
	if err != nil {
		return Result{}, fmt.Errorf("%s: connecting: %w", name, err)
	}
	defer conn.Close()
	c := o.Client
	c.Conn, c.Sensor = conn, s
	if c.Rate > 0 && !o.Aligned {
		period := time.Duration(float64(time.Second) / c.Rate)
		c.Phase += period * time.Duration(i) / time.Duration(len(o.Names))
	}
	c.Sinks = append([]metrics.Sink(nil), c.Sinks...)
	if o.Sinks != nil {
		c.Sinks = append(c.Sinks, o.Sinks(i)...)
	}
	c.Sinks = append(c.Sinks, o.Shared...)
	res, err := Client(ctx, c)
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return res, err
}

// FleetNames returns n edge names: prefix-0 … prefix-(n-1).
func FleetNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return names
}
