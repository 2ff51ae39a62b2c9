//go:build cgo

package onnx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/vision"
	"github.com/peernet/peernet_go/peernet_go/internal/errline"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// ortEnv is the process-wide ONNX Runtime environment. onnxruntime_go keeps
// one global environment; it is created by the first successful Open and
// kept until the process exits (unloading and reloading the library is not
// something ONNX Runtime supports well).
var ortEnv struct {
	mu      sync.Mutex
	path    string // library loaded, "" when another package loaded it
	version string
}

// loadRuntime makes sure ONNX Runtime is loaded, from the first existing
// candidate, and returns the library's path and version.
func loadRuntime(explicit string) (string, string, error) {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ort.IsInitialized() {
		if explicit != "" && ortEnv.path != "" && !samePath(explicit, ortEnv.path) {
			if _, _, err := findLibrary(libraryCandidates(explicit)); err != nil {
				return "", "", err
			}
			return "", "", fmt.Errorf("onnx: ONNX Runtime is already loaded from %s in this process; cannot also load --ort-lib %s", ortEnv.path, explicit)
		}
		return ortEnv.path, ortEnv.version, nil
	}
	path, tried, err := findLibrary(libraryCandidates(explicit))
	if err != nil {
		return "", "", err
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		tried[len(tried)-1] += " failed"
		return "", "", &LibraryError{Tried: tried, Err: err}
	}
	ortEnv.path, ortEnv.version = path, ort.GetVersion()
	return ortEnv.path, ortEnv.version, nil
}

func samePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// Model is an ONNX model ready to run, with its image pipeline and output
// decoder. It implements [inference.Model], [inference.Preprocessor] and
// [inference.Postprocessor], so an [inference.Engine] times the three stages
// separately. A Model is used by one goroutine at a time.
type Model struct {
	info Info
	spec Spec

	sess     *ort.DynamicAdvancedSession
	runOpts  *ort.RunOptions
	termDone chan struct{}
	inNames  []string
	outNames []string

	pipe    *vision.Pipeline // nil without an image input
	noImage error            // why there is no image input
	input   *ort.Tensor[float32]
	inputs  []ort.Value
	outputs []ort.Value // preallocated, or allocated by the first run

	geom vision.Geometry
	res  Result
	dec  decoder
	buf  []byte
}

var (
	_ inference.Model         = (*Model)(nil)
	_ inference.Preprocessor  = (*Model)(nil)
	_ inference.Postprocessor = (*Model)(nil)
)

// Open loads the model at path with its spec (see [FindSpec]), creates an
// ONNX Runtime session on the spec's execution provider and runs the
// spec's warm-up inferences.
func Open(path string, opts Options) (*Model, error) {
	var spec Spec
	var source SpecSource
	if opts.Spec != nil {
		spec, source = *opts.Spec, "options"
		if err := spec.check(); err != nil {
			return nil, fmt.Errorf("onnx: spec: %w", err)
		}
	} else {
		var err error
		if spec, source, err = FindSpec(path, opts.SpecFile); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("onnx: model: %w", err)
	}
	lib, version, err := loadRuntime(opts.Library)
	if err != nil {
		return nil, err
	}
	m := &Model{spec: spec, termDone: make(chan struct{}, 1)}
	m.info = Info{Path: path, Library: lib, RuntimeVersion: version, SpecSource: source, Provider: spec.Provider}
	if m.info.Provider == "" {
		m.info.Provider = ProviderCPU
	}
	if err := m.open(path); err != nil {
		m.Close()
		return nil, fmt.Errorf("onnx: %s: %w", filepath.Base(path), err)
	}
	return m, nil
}

func (m *Model) open(path string) error {
	sopts, err := ort.NewSessionOptions()
	if err != nil {
		return fmt.Errorf("session options: %w", err)
	}
	defer sopts.Destroy()
	if m.spec.Threads > 0 {
		if err := sopts.SetIntraOpNumThreads(m.spec.Threads); err != nil {
			return fmt.Errorf("threads: %w", err)
		}
	}
	if err := m.appendProvider(sopts); err != nil {
		return err
	}
	ins, outs, err := ort.GetInputOutputInfoWithOptions(path, sopts)
	if err != nil {
		if p := m.spec.Provider; p != "" && p != ProviderCPU {
			return errline.Errorf("load model with execution provider %s: %w", p, err)
		}
		return errline.Errorf("load model: %w", err)
	}
	for _, in := range ins {
		m.inNames = append(m.inNames, in.Name)
	}
	m.info.Inputs = m.inNames
	if err := m.setupInput(ins); err != nil {
		return err
	}
	outIdx, err := m.setupDecoder(outs)
	if err != nil {
		return err
	}
	for _, i := range outIdx {
		m.outNames = append(m.outNames, outs[i].Name)
	}
	m.sess, err = ort.NewDynamicAdvancedSession(path, m.inNames, m.outNames, sopts)
	if err != nil {
		return errline.Errorf("create session: %w", err)
	}
	if m.runOpts, err = ort.NewRunOptions(); err != nil {
		return fmt.Errorf("run options: %w", err)
	}
	m.outputs = make([]ort.Value, len(outIdx))
	m.res.Outputs = make([]Tensor, len(outIdx))
	for j, i := range outIdx {
		m.res.Outputs[j].Name = outs[i].Name
		shape := outs[i].Dimensions
		if m.pipe != nil && fixBatch(shape) && elements(shape) > 0 {
			t, err := ort.NewEmptyTensor[float32](ort.NewShape(shape...))
			if err != nil {
				return fmt.Errorf("output %s: %w", outs[i].Name, err)
			}
			m.outputs[j] = t
			m.res.Outputs[j].Shape, m.res.Outputs[j].Data = []int64(t.GetShape()), t.GetData()
		}
	}
	if m.pipe != nil {
		for i := 0; i < m.spec.warmup(); i++ {
			if err := m.run(context.Background()); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	return nil
}

// fixBatch replaces a dynamic leading (batch) dimension by 1 and reports
// whether the shape is then fully static.
func fixBatch(shape []int64) bool {
	if len(shape) > 0 && shape[0] < 0 {
		shape[0] = 1
	}
	for _, d := range shape {
		if d < 0 {
			return false
		}
	}
	return true
}

func (m *Model) appendProvider(sopts *ort.SessionOptions) error {
	unavailable := func(err error) error {
		return errline.Errorf("execution provider %s is unavailable with ONNX Runtime %s from %s on this machine (%w); use provider: cpu",
			m.spec.Provider, m.info.RuntimeVersion, m.info.Library, err)
	}
	dev := map[string]string{"device_id": strconv.Itoa(m.spec.Device)}
	switch m.spec.Provider {
	case "", ProviderCPU:
		return nil
	case ProviderCUDA:
		o, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return unavailable(err)
		}
		defer o.Destroy()
		if err := o.Update(dev); err != nil {
			return unavailable(err)
		}
		if err := sopts.AppendExecutionProviderCUDA(o); err != nil {
			return unavailable(err)
		}
	case ProviderTensorRT:
		o, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return unavailable(err)
		}
		defer o.Destroy()
		if err := o.Update(dev); err != nil {
			return unavailable(err)
		}
		if err := sopts.AppendExecutionProviderTensorRT(o); err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// setupInput configures the image pipeline for the model's image input.
func (m *Model) setupInput(ins []ort.InputOutputInfo) error {
	explicit := !m.spec.Input.isZero()
	fail := func(err error) error {
		if explicit {
			return err
		}
		m.noImage = err
		return nil
	}
	names := strings.Join(m.inNames, ", ")
	if m.spec.Input.Name != "" && !contains(m.inNames, m.spec.Input.Name) {
		return fmt.Errorf("input.name: model has no input %q (inputs: %s)", m.spec.Input.Name, names)
	}
	if len(ins) != 1 {
		return fail(fmt.Errorf("model has %d inputs (%s); images feed single-input models only, pass []onnx.Tensor to Infer", len(ins), names))
	}
	in := ins[0]
	if in.OrtValueType != ort.ONNXTypeTensor || in.DataType != ort.TensorElementDataTypeFloat {
		return fail(fmt.Errorf("input %s is %v of %v; images feed float tensors only", in.Name, in.OrtValueType, in.DataType))
	}
	dims := in.Dimensions
	if len(dims) != 4 {
		return fail(fmt.Errorf("input %s has shape %v; images feed 4-D tensors only", in.Name, dims))
	}
	if dims[0] > 1 {
		return fail(fmt.Errorf("input %s has batch size %d; images feed batch-1 inputs only", in.Name, dims[0]))
	}
	cfg := m.spec.Input.Config
	if cfg.Layout == "" {
		cfg.Layout = vision.NCHW
		if (dims[3] == 1 || dims[3] == 3) && dims[1] != 1 && dims[1] != 3 {
			cfg.Layout = vision.NHWC
		}
	}
	c, h, w := dims[1], dims[2], dims[3]
	if strings.EqualFold(string(cfg.Layout), string(vision.NHWC)) {
		h, w, c = dims[1], dims[2], dims[3]
	}
	if err := fitDim(&cfg.Width, w, "width", in.Name); err != nil {
		return fail(err)
	}
	if err := fitDim(&cfg.Height, h, "height", in.Name); err != nil {
		return fail(err)
	}
	switch {
	case c == 1 && cfg.Color == "":
		cfg.Color = vision.Gray
	case c == 1 && !strings.EqualFold(string(cfg.Color), string(vision.Gray)):
		return fail(fmt.Errorf("input.color: %s for a 1-channel input %s", cfg.Color, in.Name))
	case c == 3 && strings.EqualFold(string(cfg.Color), string(vision.Gray)):
		return fail(fmt.Errorf("input.color: GRAY for a 3-channel input %s", in.Name))
	case c != 1 && c != 3 && c >= 0:
		return fail(fmt.Errorf("input %s has %d channels; images have 1 or 3", in.Name, c))
	}
	p, err := vision.NewPipeline(cfg)
	if err != nil {
		return fail(fmt.Errorf("input.%w", err))
	}
	t, err := ort.NewTensor(ort.NewShape(p.Shape()...), p.Tensor())
	if err != nil {
		return fmt.Errorf("input tensor: %w", err)
	}
	m.pipe, m.input, m.inputs = p, t, []ort.Value{t}
	m.info.Input, m.info.InputShape = in.Name, p.Shape()
	return nil
}

// fitDim reconciles a spec size with a model dimension (-1 when dynamic).
func fitDim(v *int, dim int64, key, input string) error {
	switch {
	case dim > 0 && *v == 0:
		*v = int(dim)
	case dim > 0 && int64(*v) != dim:
		return fmt.Errorf("input.%s: %d, but model input %s has %s %d", key, *v, input, key, dim)
	case dim <= 0 && *v == 0:
		return fmt.Errorf("input.%s: model input %s has a dynamic %s; set it in the spec", key, input, key)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Info describes the model.
func (m *Model) Info() Info {
	i := m.info
	i.Inputs = slices.Clone(i.Inputs)
	i.InputShape = slices.Clone(i.InputShape)
	i.Outputs = slices.Clone(i.Outputs)
	return i
}

// Spec returns the spec in use.
func (m *Model) Spec() Spec { return m.spec }

// Preprocess decodes the sample (see package media for the encodings:
// jpeg, png, rgb8/bgr8/mono8:WxH, cdr:sensor_msgs/msg/Image and
// cdr:sensor_msgs/msg/CompressedImage) into the model's input tensor, which
// the Model owns and reuses. It returns a *vision.Geometry for Infer.
func (m *Model) Preprocess(_ context.Context, in inference.Input) (any, error) {
	if m.sess == nil {
		return nil, ErrClosed
	}
	if m.pipe == nil {
		return nil, fmt.Errorf("onnx: no image input: %w", m.noImage)
	}
	g, err := m.pipe.Run(in.Data, in.Encoding)
	if err != nil {
		return nil, err
	}
	m.geom = g
	return &m.geom, nil
}

// Infer runs the model. in is what Preprocess returned (a *vision.Geometry;
// the input tensor already holds the image), an inference.Input (which Infer
// preprocesses itself), or a []Tensor feeding the model's inputs by name
// (any model, any shape; slower, for tests and non-image models). It returns
// a *Result, owned by the Model and valid until the next Infer, except for
// []Tensor inputs, whose Result is the caller's. ctx cancels a running
// inference through ONNX Runtime's terminate flag.
func (m *Model) Infer(ctx context.Context, in any) (any, error) {
	if m.sess == nil {
		return nil, ErrClosed
	}
	switch v := in.(type) {
	case *vision.Geometry:
		if m.pipe == nil {
			return nil, fmt.Errorf("onnx: no image input: %w", m.noImage)
		}
		m.res.Geometry = *v
	case inference.Input:
		g, err := m.Preprocess(ctx, v)
		if err != nil {
			return nil, err
		}
		m.res.Geometry = *g.(*vision.Geometry)
	case []Tensor:
		return m.inferTensors(ctx, v)
	default:
		return nil, fmt.Errorf("onnx: Infer got %T; want what Preprocess returned, an inference.Input or []onnx.Tensor", in)
	}
	if err := m.run(ctx); err != nil {
		return nil, err
	}
	return &m.res, nil
}

// run runs the session on the image input, honouring ctx.
func (m *Model) run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("onnx: run: %w", err)
	}
	var err error
	if ctx.Done() == nil {
		err = m.sess.RunWithOptions(m.inputs, m.outputs, m.runOpts)
	} else {
		stop := context.AfterFunc(ctx, m.terminate)
		err = m.sess.RunWithOptions(m.inputs, m.outputs, m.runOpts)
		if !stop() {
			<-m.termDone
			_ = m.runOpts.UnsetTerminate() // the next run would fail at once, and say so
			if err != nil {
				return errline.Errorf("onnx: run: %w (%w)", ctx.Err(), err)
			}
		}
	}
	if err != nil {
		return errline.Errorf("onnx: run: %w", err)
	}
	for i, v := range m.outputs {
		if m.res.Outputs[i].Data != nil {
			continue
		}
		// An output ONNX Runtime allocated on the first run: keep it, so
		// later runs write into it.
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return fmt.Errorf("onnx: output %s is %T, not a float tensor", m.outNames[i], v)
		}
		m.res.Outputs[i].Shape, m.res.Outputs[i].Data = []int64(t.GetShape()), t.GetData()
	}
	return nil
}

func (m *Model) terminate() {
	_ = m.runOpts.Terminate() // a run that cannot be stopped ends by itself
	m.termDone <- struct{}{}
}

// inferTensors feeds caller-provided tensors by name.
func (m *Model) inferTensors(ctx context.Context, ts []Tensor) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("onnx: run: %w", err)
	}
	if len(ts) != len(m.inNames) {
		return nil, fmt.Errorf("onnx: got %d input tensors, model has %d inputs (%s)", len(ts), len(m.inNames), strings.Join(m.inNames, ", "))
	}
	inputs := make([]ort.Value, len(m.inNames))
	defer func() {
		for _, v := range inputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for _, t := range ts {
		i := -1
		for j, n := range m.inNames {
			if n == t.Name {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("onnx: model has no input %q (inputs: %s)", t.Name, strings.Join(m.inNames, ", "))
		}
		if inputs[i] != nil {
			return nil, fmt.Errorf("onnx: input %q given twice", t.Name)
		}
		if n := t.Elements(); n < 0 || n != int64(len(t.Data)) {
			return nil, fmt.Errorf("onnx: input %q: shape %v does not hold %d values", t.Name, t.Shape, len(t.Data))
		}
		v, err := ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		if err != nil {
			return nil, fmt.Errorf("onnx: input %q: %w", t.Name, err)
		}
		inputs[i] = v
	}
	outputs := make([]ort.Value, len(m.outNames))
	defer func() {
		for _, v := range outputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := m.sess.Run(inputs, outputs); err != nil {
		return nil, errline.Errorf("onnx: run: %w", err)
	}
	res := &Result{Outputs: make([]Tensor, len(outputs))}
	for i, v := range outputs {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("onnx: output %s is %T, not a float tensor", m.outNames[i], v)
		}
		res.Outputs[i] = Tensor{Name: m.outNames[i], Shape: []int64(t.GetShape()), Data: append([]float32(nil), t.GetData()...)}
	}
	return res, nil
}

// Postprocess decodes a *Result into compact JSON: {"boxes":[..]} for
// ssd-anchors, {"top":[..]} for classify, {"outputs":[..]} for raw.
func (m *Model) Postprocess(_ context.Context, out any) (inference.Output, error) {
	r, ok := out.(*Result)
	if !ok {
		return inference.Output{}, fmt.Errorf("onnx: Postprocess got %T, want *onnx.Result", out)
	}
	b, err := m.dec.decode(m.buf[:0], r)
	m.buf = b
	if err != nil {
		return inference.Output{}, err
	}
	// The reply outlives this call; the scratch buffer does not.
	return inference.Output{Data: append([]byte(nil), b...), Encoding: media.JSON}, nil
}

// Close releases the session and tensors. It is safe to call more than
// once. The ONNX Runtime library stays loaded.
func (m *Model) Close() error {
	var errs []error
	if m.sess != nil {
		errs = append(errs, m.sess.Destroy())
		m.sess = nil
	}
	if m.runOpts != nil {
		errs = append(errs, m.runOpts.Destroy())
		m.runOpts = nil
	}
	for i, v := range m.outputs {
		if v != nil {
			errs = append(errs, v.Destroy())
			m.outputs[i] = nil
		}
	}
	if m.input != nil {
		errs = append(errs, m.input.Destroy())
		m.input = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("onnx: close: %w", err)
	}
	return nil
}
