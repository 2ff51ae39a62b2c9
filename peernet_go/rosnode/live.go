package rosnode

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peernet/peernet_go/peernet_go/exporter"
)

// LiveMetrics serve a node's live metrics to Prometheus, as the CLI's
// --metrics-addr does (see package exporter); the edge and cloud nodes
// share these parameters.
type LiveMetrics struct {
	// MetricsAddr, when set, serves http://HOST:PORT/metrics. Without a
	// host it listens on loopback; beyond loopback it needs
	// MetricsTokenFile, whose first line is the bearer token every scrape
	// must present.
	MetricsAddr      string `param:"metrics_addr"`
	MetricsTokenFile string `param:"metrics_token_file"`
}

// listen starts serving; without MetricsAddr it returns a nil registry.
// The function returned stops serving.
func (m LiveMetrics) listen(env *Env) (*prometheus.Registry, func(), error) {
	if m.MetricsAddr == "" {
		return nil, func() {}, nil
	}
	reg := exporter.NewRegistry()
	h, err := exporter.Listen(m.MetricsAddr, reg, exporter.ListenOptions{TokenFile: m.MetricsTokenFile, Notice: logWriter(env.Logf)})
	if err != nil {
		return nil, nil, fmt.Errorf("parameter metrics_addr: %w", err)
	}
	env.Logf("metrics at %s", h.URL())
	return reg, func() { _ = h.Close() }, nil
}
