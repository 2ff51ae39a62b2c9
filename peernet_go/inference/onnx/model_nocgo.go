//go:build !cgo

package onnx

import (
	"context"

	"github.com/peernet/peernet_go/peernet_go/inference"
)

// Model is an ONNX model. In this build (without cgo) it cannot be opened:
// Open returns ErrNoCgo.
type Model struct{}

var (
	_ inference.Model         = (*Model)(nil)
	_ inference.Preprocessor  = (*Model)(nil)
	_ inference.Postprocessor = (*Model)(nil)
)

// Open returns ErrNoCgo: ONNX Runtime needs cgo.
func Open(string, Options) (*Model, error) { return nil, ErrNoCgo }

// Info returns the zero Info.
func (*Model) Info() Info { return Info{} }

// Spec returns the zero Spec.
func (*Model) Spec() Spec { return Spec{} }

// Preprocess returns ErrNoCgo.
func (*Model) Preprocess(context.Context, inference.Input) (any, error) { return nil, ErrNoCgo }

// Infer returns ErrNoCgo.
func (*Model) Infer(context.Context, any) (any, error) { return nil, ErrNoCgo }

// Postprocess returns ErrNoCgo.
func (*Model) Postprocess(context.Context, any) (inference.Output, error) {
	return inference.Output{}, ErrNoCgo
}

// Close does nothing.
func (*Model) Close() error { return nil }
