package onnx

import (
	"errors"

	"github.com/peernet/peernet_go/peernet_go/inference/vision"
)

// Prefix starts the CLI's model name for this backend: --model-name
// onnx:PATH opens PATH.
const Prefix = "onnx:"

// Options configure Open. The zero value finds everything by itself.
type Options struct {
	// Library is the ONNX Runtime shared library (the CLI's --ort-lib).
	// When empty, $ONNXRUNTIME_SHARED_LIBRARY_PATH and then the cache are
	// used; see the package documentation.
	Library string
	// Spec, when not nil, is used instead of looking for a spec file.
	Spec *Spec
	// SpecFile is read instead of looking beside the model. Ignored when
	// Spec is set.
	SpecFile string
}

// Result is what Infer returns and Postprocess decodes.
type Result struct {
	// Outputs are the model's float outputs in the model's order (those the
	// decoder reads, or every float output for the raw decoder). Their
	// Data is owned by the Model and valid until its next Infer.
	Outputs []Tensor
	// Geometry maps coordinates normalised to the model input back to the
	// source image.
	Geometry vision.Geometry
}

// Info describes an open model, for run records.
type Info struct {
	// Path is the model file.
	Path string `json:"path" yaml:"path"`
	// Library is the ONNX Runtime shared library in use.
	Library string `json:"library" yaml:"library"`
	// RuntimeVersion is the library's ONNX Runtime version.
	RuntimeVersion string `json:"runtime_version" yaml:"runtime_version"`
	// SpecSource says where the spec came from: a file, a built-in spec or
	// "model" (derived from the model alone).
	SpecSource SpecSource `json:"spec_source" yaml:"spec_source"`
	// Provider is the execution provider.
	Provider string `json:"provider" yaml:"provider"`
	// Inputs are the names of all the model's inputs, in order.
	Inputs []string `json:"inputs" yaml:"inputs"`
	// Input is the image input's name and InputShape its shape; both are
	// empty when the model has no image input.
	Input      string  `json:"input,omitempty" yaml:"input,omitempty"`
	InputShape []int64 `json:"input_shape,omitempty" yaml:"input_shape,omitempty"`
	// Outputs are the outputs the decoder reads.
	Outputs []string `json:"outputs" yaml:"outputs"`
	// Decoder is raw, classify or ssd-anchors.
	Decoder string `json:"decoder" yaml:"decoder"`
}

// ErrClosed is returned by a closed Model.
var ErrClosed = errors.New("onnx: model is closed")
