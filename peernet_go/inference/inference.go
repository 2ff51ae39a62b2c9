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
	now := time.Now()
	t.Inference = now.Sub(start)
	if err != nil {
		return Output{}, t, fmt.Errorf("inference: %w", err)
	}
	if e.post != nil {
		out, err := e.post.Postprocess(ctx, y)
		t.Postprocess = time.Since(now)
		if err != nil {
			return Output{}, t, fmt.Errorf("postprocess: %w", err)
		}
		return out, t, nil
	}
	out, err := toOutput(y)
	if err != nil {
		return Output{}, t, fmt.Errorf("postprocess: %w", err)
	}
	return out, t, nil
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
