package inference

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
)

// DummyOptions set how long each stage of a [Dummy] model takes. Zero (the
// default for every stage) returns at once.
type DummyOptions struct {
	Preprocess, Inference, Postprocess time.Duration
}

// DummyReply is the reply of a Dummy model, as JSON.
const DummyReply = `{"label":"dummy"}`

// Dummy is a model that does nothing but wait: each stage sleeps for the
// time its DummyOptions give, or until the context ends, and the reply is
// DummyReply. It stands in for a real model when measuring the network, the
// way PEERNet's dummy model does, without PEERNet's fixed 100 ms sleep.
type Dummy struct {
	opts  DummyOptions
	reply []byte
}

var (
	_ Model         = (*Dummy)(nil)
	_ Preprocessor  = (*Dummy)(nil)
	_ Postprocessor = (*Dummy)(nil)
)

// NewDummy returns a Dummy model. Negative durations are errors.
func NewDummy(o DummyOptions) (*Dummy, error) {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"Preprocess", o.Preprocess}, {"Inference", o.Inference}, {"Postprocess", o.Postprocess}} {
		if f.d < 0 {
			return nil, fmt.Errorf("inference: dummy: %s %v is negative", f.name, f.d)
		}
	}
	return &Dummy{opts: o, reply: []byte(DummyReply)}, nil
}

// dummyKeys name the stages in a dummy spec.
var dummyKeys = map[string]func(*DummyOptions) *time.Duration{
	"pre":         func(o *DummyOptions) *time.Duration { return &o.Preprocess },
	"preprocess":  func(o *DummyOptions) *time.Duration { return &o.Preprocess },
	"infer":       func(o *DummyOptions) *time.Duration { return &o.Inference },
	"inference":   func(o *DummyOptions) *time.Duration { return &o.Inference },
	"post":        func(o *DummyOptions) *time.Duration { return &o.Postprocess },
	"postprocess": func(o *DummyOptions) *time.Duration { return &o.Postprocess },
}

// ParseDummy parses a dummy model spec: "dummy", or "dummy:" followed by
// comma-separated stage=duration pairs, e.g. "dummy:pre=1ms,infer=10ms,post=1ms"
// (stages pre, infer, post, or preprocess, inference, postprocess; durations
// as time.ParseDuration reads them). Stages not named take no time.
func ParseDummy(spec string) (DummyOptions, error) {
	var o DummyOptions
	rest, ok := strings.CutPrefix(spec, "dummy")
	if !ok || (rest != "" && rest[0] != ':') {
		return o, fmt.Errorf("inference: %q is not a dummy model spec (want dummy or dummy:pre=1ms,infer=10ms,post=1ms)", spec)
	}
	rest = strings.TrimPrefix(rest, ":")
	if strings.TrimSpace(rest) == "" {
		return o, nil
	}
	seen := map[*time.Duration]bool{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		field := dummyKeys[strings.TrimSpace(k)]
		switch {
		case !ok:
			return o, fmt.Errorf("inference: %q: %q is not stage=duration", spec, kv)
		case field == nil:
			return o, fmt.Errorf("inference: %q: unknown stage %q (want pre, infer or post)", spec, k)
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return o, fmt.Errorf("inference: %q: stage %s: %w", spec, k, err)
		}
		if d < 0 {
			return o, fmt.Errorf("inference: %q: stage %s: %v is negative", spec, k, d)
		}
		p := field(&o)
		if seen[p] {
			return o, fmt.Errorf("inference: %q: stage %s given twice", spec, k)
		}
		seen[p] = true
		*p = d
	}
	return o, nil
}

// Options returns the model's stage durations.
func (d *Dummy) Options() DummyOptions { return d.opts }

// Preprocess waits for the preprocessing time and passes the input on.
func (d *Dummy) Preprocess(ctx context.Context, in Input) (any, error) {
	return in, sleep(ctx, d.opts.Preprocess)
}

// Infer waits for the inference time.
func (d *Dummy) Infer(ctx context.Context, in any) (any, error) {
	return nil, sleep(ctx, d.opts.Inference)
}

// Postprocess waits for the postprocessing time and returns DummyReply.
// The reply's bytes are shared between calls: read them, don't write them.
func (d *Dummy) Postprocess(ctx context.Context, _ any) (Output, error) {
	if err := sleep(ctx, d.opts.Postprocess); err != nil {
		return Output{}, err
	}
	return Output{Data: d.reply, Encoding: media.JSON}, nil
}

// sleep waits for d or until ctx ends, whichever comes first, and returns
// ctx.Err() in the second case. It never waits for a negative time.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
