package report

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"gopkg.in/yaml.v3"
)

// RunInfo is run.yaml: what produced a run. The caller fills the fields it
// knows; empty ones are left out. Durations are written as Go duration
// strings ("5s"), times in RFC 3339.
type RunInfo struct {
	// Version is peernet_go's version.
	Version string `yaml:"version"`
	// Role is "client", "server" or "bench".
	Role string `yaml:"role,omitempty"`
	// Start and End bound the run.
	Start time.Time `yaml:"start"`
	End   time.Time `yaml:"end"`
	// Interrupted is true when the run was stopped before its last
	// iteration (Ctrl-C, a dead peer).
	Interrupted bool `yaml:"interrupted,omitempty"`
	// Command is the command line, program name first.
	Command []string `yaml:"command,omitempty"`
	// Sources are the results directories a merged run pools.
	Sources []string `yaml:"sources,omitempty"`
	// Hosts names the machine on each side.
	Hosts Hosts `yaml:"hosts"`
	// Transport is the network transport ("zmq-tcp", …).
	Transport string `yaml:"transport"`
	// Network summarises the network configuration.
	Network NetworkInfo `yaml:"network,omitempty"`
	// Sensor and Model say what was sampled and what ran on it.
	Sensor SensorInfo `yaml:"sensor,omitempty"`
	Model  ModelInfo  `yaml:"model,omitempty"`
	// Sizes describes the sample and frame sizes.
	Sizes Sizes `yaml:"sizes,omitempty"`
	// Iterations is the number asked for (0 = until stopped); Warmup the
	// number left out of the statistics.
	Iterations int `yaml:"iterations"`
	Warmup     int `yaml:"warmup"`
	// Rate is the sampling rate in Hz; 0 means as fast as possible.
	Rate float64 `yaml:"rate"`
	// Timeout is the per-iteration reply deadline.
	Timeout time.Duration `yaml:"timeout"`
	// Clock is the clock mode and the offset estimate at the end of the run.
	Clock Clock `yaml:"clock"`
	// TimeSync is each host's time-sync state (chrony tracking, adjtimex),
	// keyed by host name, when known.
	TimeSync map[string]string `yaml:"time-sync,omitempty"`
	// Metrics is the URL the run served its live Prometheus metrics at.
	Metrics string `yaml:"metrics,omitempty"`
	// Go, OS and Arch describe the build.
	Go   string `yaml:"go"`
	OS   string `yaml:"os"`
	Arch string `yaml:"arch"`
}

// Hosts names the machine on each side of the run.
type Hosts struct {
	// Client is the edge's host name.
	Client string `yaml:"client,omitempty"`
	// Server is the cloud's host name.
	Server string `yaml:"server,omitempty"`
}

// NetworkInfo summarises the network configuration.
type NetworkInfo struct {
	// ConfigFile is the --network-config path.
	ConfigFile string `yaml:"config-file,omitempty"`
	// Name is this device's --name; Server the server's device name.
	Name   string `yaml:"name,omitempty"`
	Server string `yaml:"server,omitempty"`
	// Devices maps device names to hosts, as in the config.
	Devices map[string]string `yaml:"devices,omitempty"`
	// StartPort is the config's start_port.
	StartPort int `yaml:"start-port,omitempty"`
	// Endpoint is the address actually used ("tcp://10.0.0.2:5551").
	Endpoint string `yaml:"endpoint,omitempty"`
}

// SensorInfo says what was sampled.
type SensorInfo struct {
	// Type is the --sensor-type.
	Type string `yaml:"type,omitempty"`
	// Options are the sensor's options as given ("size": "1024", …).
	Options map[string]string `yaml:"options,omitempty"`
}

// ModelInfo says what ran on the samples.
type ModelInfo struct {
	// Name is the --model-name.
	Name string `yaml:"name,omitempty"`
	// Device is the --device, when given.
	Device string `yaml:"device,omitempty"`
	// Options are the model's options as given.
	Options map[string]string `yaml:"options,omitempty"`
}

// Sizes describes what travelled.
type Sizes struct {
	// Sample is the sample size as asked ("1024", "64:4096", "640x480").
	Sample string `yaml:"sample,omitempty"`
	// MaxFrame is the largest frame accepted, in bytes.
	MaxFrame int `yaml:"max-frame,omitempty"`
}

// NewRunInfo returns a RunInfo with the version, command line, start time
// (now) and the Go version, OS and architecture filled in.
func NewRunInfo(version string, args []string) RunInfo {
	return RunInfo{
		Version: version, Command: append([]string(nil), args...), Start: time.Now(),
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
	}
}

// WriteYAML writes the RunInfo as run.yaml.
func (r *RunInfo) WriteYAML(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: writing run.yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("report: writing run.yaml: %w", err)
	}
	return nil
}

// ReadRunInfo reads a run.yaml written by WriteYAML.
func ReadRunInfo(r io.Reader) (RunInfo, error) {
	var info RunInfo
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&info); err != nil {
		return RunInfo{}, fmt.Errorf("report: reading run.yaml: %w", err)
	}
	return info, nil
}
