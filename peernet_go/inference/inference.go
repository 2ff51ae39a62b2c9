// Package inference defines what the cloud runs on each sample: the Model
// interface, optional preprocessing and postprocessing steps, and the Engine
// that times each stage (the Go form of PEERNet's enginize).
//
// A Model needs only Infer. A model that also implements [Preprocessor]
// receives the preprocessed value instead of the raw [Input]; one that
// implements [Postprocessor] turns its own output into the reply. The Engine
// times the three stages separately, so a backend's cost shows up where it is
// spent:
//
//	e := inference.NewEngine(model)
//	out, t, err := e.Run(ctx, inference.Input{Data: sample, Encoding: media.JPEG})
//	fmt.Println(t.Preprocess, t.Inference, t.Postprocess)
package inference

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
)

// Input is what arrives from the edge: the sample's bytes and encoding. Data
// is only valid during the call that receives it.
type Input struct {
	Data     []byte
	Encoding string
}

// Output is what goes back to the edge.
type Output struct {
	Data     []byte
	Encoding string
}

// Model runs inference.
//
// in is an [Input] unless the model implements [Preprocessor], in which case
// it is whatever Preprocess returned. The result is handed to Postprocess when
// the model implements [Postprocessor]; otherwise it must be an [Output], a
// []byte, a string, or a value that encodes as JSON.
type Model interface {
	Infer(ctx context.Context, in any) (any, error)
}

// Preprocessor is implemented by models that prepare the input (decode,
// resize, normalise) before inference.
type Preprocessor interface {
	Preprocess(ctx context.Context, in Input) (any, error)
}

// Postprocessor is implemented by models that decode their raw output
// (top-k, boxes) into the reply.
type Postprocessor interface {
	Postprocess(ctx context.Context, out any) (Output, error)
}

// Func adapts a function to the Model interface.
type Func func(ctx context.Context, in any) (any, error)

// Infer calls f(ctx, in).
func (f Func) Infer(ctx context.Context, in any) (any, error) { return f(ctx, in) }

var _ Model = Func(nil)

// Timings are the durations of one Run's stages.
type Timings struct {
	Preprocess, Inference, Postprocess time.Duration
}

// Engine wraps a Model and times its stages. An Engine is not safe for
// concurrent use unless its Model is.
type Engine struct {
	model Model
	pre   Preprocessor
	post  Postprocessor
}

// NewEngine returns an Engine running m.
func NewEngine(m Model) *Engine {
	e := &Engine{model: m}
	e.pre, _ = m.(Preprocessor)
	e.post, _ = m.(Postprocessor)
	return e
}

// Model returns the wrapped model.
func (e *Engine) Model() Model { return e.model }

// Run preprocesses, infers and postprocesses one input, timing each stage
// with the monotonic clock. Stages the model does not implement take zero
// time. On error the timings of the stages that ran are still returned.
func (e *Engine) Run(ctx context.Context, in Input) (Output, Timings, error) {
	var t Timings
	var x any = in
	start := time.Now()
	if e.pre != nil {
		var err error
		x, err = e.pre.Preprocess(ctx, in)
		t.Preprocess = time.Since(start)
		if err != nil {
			return Output{}, t, fmt.Errorf("preprocess: %w", err)
		}
		start = time.Now()
	}
	y, err := e.model.Infer(ctx, x)
	t.Inference = time.Since(start)
	if err != nil {
		return Output{}, t, fmt.Errorf("inference: %w", err)
	}
	out, post, err := e.postprocess(ctx, y)
	t.Postprocess = post
	return out, t, err
}

// Close closes the model if it implements io.Closer.
func (e *Engine) Close() error {
	if c, ok := e.model.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func toOutput(y any) (Output, error) {
	switch v := y.(type) {
	case Output:
		return v, nil
	case *Output:
		return *v, nil
	case Input: // a model that passes its input through
		return Output(v), nil
	case []byte:
		return Output{Data: v, Encoding: media.Bytes}, nil
	case string:
		return Output{Data: []byte(v), Encoding: media.Text}, nil
	case nil:
		return Output{Encoding: media.Bytes}, nil
	}
	b, err := json.Marshal(y)
	if err != nil {
		return Output{}, fmt.Errorf("model output %T is not bytes, text or JSON: %w", y, err)
	}
	return Output{Data: b, Encoding: media.JSON}, nil
}

// Batcher is implemented by models that infer several preprocessed inputs
// in one call (a batched tensor). Without it, RunBatch infers one input at
// a time.
type Batcher interface {
	InferBatch(ctx context.Context, in []any) ([]any, error)
}

// RunBatch runs a batch of inputs. Preprocessing and postprocessing are
// timed per input; a model implementing [Batcher] infers the whole batch in
// one call and every input is charged the batch's inference time, which is
// what each of them waited. An input that fails does not fail the others:
// its error is in errs.
func (e *Engine) RunBatch(ctx context.Context, in []Input) (outs []Output, ts []Timings, errs []error) {
	n := len(in)
	outs, ts, errs = make([]Output, n), make([]Timings, n), make([]error, n)
	b, batched := e.model.(Batcher)
	if !batched || n == 1 {
		for i := range in {
			outs[i], ts[i], errs[i] = e.Run(ctx, in[i])
		}
		return outs, ts, errs
	}
	xs := make([]any, 0, n)
	idx := make([]int, 0, n)
	for i := range in {
		var x any = in[i]
		if e.pre != nil {
			start := time.Now()
			var err error
			x, err = e.pre.Preprocess(ctx, in[i])
			ts[i].Preprocess = time.Since(start)
			if err != nil {
				errs[i] = fmt.Errorf("preprocess: %w", err)
				continue
			}
		}
		xs = append(xs, x)
		idx = append(idx, i)
	}
	if len(xs) == 0 {
		return outs, ts, errs
	}
	start := time.Now()
	ys, err := b.InferBatch(ctx, xs)
	d := time.Since(start)
	if err == nil && len(ys) != len(xs) {
		err = fmt.Errorf("batch of %d inputs gave %d outputs", len(xs), len(ys))
	}
	for k, i := range idx {
		ts[i].Inference = d
		if err != nil {
			errs[i] = fmt.Errorf("inference: %w", err)
			continue
		}
		outs[i], ts[i].Postprocess, errs[i] = e.postprocess(ctx, ys[k])
	}
	return outs, ts, errs
}

// postprocess turns a model output into the reply, timing it.
func (e *Engine) postprocess(ctx context.Context, y any) (Output, time.Duration, error) {
	start := time.Now()
	if e.post != nil {
		out, err := e.post.Postprocess(ctx, y)
		if err != nil {
			return Output{}, time.Since(start), fmt.Errorf("postprocess: %w", err)
		}
		return out, time.Since(start), nil
	}
	out, err := toOutput(y)
	if err != nil {
		return Output{}, 0, fmt.Errorf("postprocess: %w", err)
	}
	return out, 0, nil
}
