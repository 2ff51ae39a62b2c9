package run

import (
	"errors"
	"fmt"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/onnx"
)

// Defaults and limits of ModelOptions.
const (
	DefaultModel = "dummy"
	MaxWorkers   = 256
)

// SpecError reports a model named or configured wrong (an unknown model, a
// bad dummy profile, a worker count out of range), as opposed to a model
// that was named right and failed to load. The CLI reports it as a usage
// error; find it with errors.As.
type SpecError struct {
	// Spec is the model name or the setting at fault.
	Spec string
	// Err says what is wrong.
	Err error
}

// Error returns `model "SPEC": ERR`.
func (e *SpecError) Error() string { return fmt.Sprintf("model %q: %v", e.Spec, e.Err) }

// Unwrap returns the cause.
func (e *SpecError) Unwrap() error { return e.Err }

// ModelOptions select the server's model. The CLI and the cloud node fill
// them from their flags and parameters.
type ModelOptions struct {
	// Name is the model: "dummy" or "dummy:pre=D,infer=D,post=D", "echo",
	// "onnx:PATH", "path/to/plugin.so::Symbol" or "exec:COMMAND". It
	// defaults to DefaultModel.
	Name string
	// Device is the inference device of ONNX models: "cpu" (the default),
	// "cuda", "cuda:N" or "tensorrt".
	Device string
	// ORTLib is the ONNX Runtime shared library. It defaults to
	// $ONNXRUNTIME_SHARED_LIBRARY_PATH, then the user cache.
	ORTLib string
	// Workers is the number of model instances, each behind its own
	// engine, 1 to MaxWorkers. It defaults to 1.
	Workers int
}

// OpenModel opens the model o.Name names. An error in the name itself is a
// *SpecError.
func OpenModel(o ModelOptions) (inference.Model, error) {
	spec := strings.TrimSpace(o.Name)
	if spec == "" {
		spec = DefaultModel
	}
	m, ok, err := inference.OpenBuiltin(spec)
	if err != nil {
		return nil, &SpecError{Spec: spec, Err: err}
	}
	if ok {
		return m, nil
	}
	if strings.HasPrefix(spec, onnx.Prefix) {
		return openONNX(spec, o)
	}
	return nil, &SpecError{Spec: spec, Err: errors.New("unknown model (dummy, echo, onnx:PATH, path.so::Symbol, exec:COMMAND)")}
}

// openONNX opens an "onnx:PATH" model on o.Device.
func openONNX(spec string, o ModelOptions) (inference.Model, error) {
	path := strings.TrimPrefix(spec, onnx.Prefix)
	opts := onnx.Options{Library: o.ORTLib}
	if dev := strings.ToLower(o.Device); dev != "" && dev != "cpu" {
		// The device picks the execution provider: cuda, cuda:N or tensorrt.
		s, _, err := onnx.FindSpec(path, "")
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", spec, err)
		}
		s.Provider, _, _ = strings.Cut(dev, ":")
		opts.Spec = &s
	}
	m, err := onnx.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", spec, err)
	}
	return m, nil
}

// OpenEngines opens o.Workers instances of the model, each behind its own
// engine (for run.ServerOptions.Engines), and a function that closes them
// all.
func OpenEngines(o ModelOptions) ([]*inference.Engine, func(), error) {
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.Workers < 1 || o.Workers > MaxWorkers {
		return nil, nil, &SpecError{Spec: o.Name, Err: fmt.Errorf("%d workers, want 1–%d", o.Workers, MaxWorkers)}
	}
	engines := make([]*inference.Engine, 0, o.Workers)
	closeAll := func() {
		for _, e := range engines {
			e.Close()
		}
	}
	for range o.Workers {
		m, err := OpenModel(o)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		engines = append(engines, inference.NewEngine(m))
	}
	return engines, closeAll, nil
}
