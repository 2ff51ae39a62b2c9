// Package onnx is the ONNX Runtime inference backend: it runs .onnx models
// through github.com/yalue/onnxruntime_go, with image preprocessing and
// output decoding from package vision, timed separately by the
// inference.Engine.
//
//	m, err := onnx.Open("face_detection_front_128x128_barracuda.onnx", onnx.Options{})
//	if err != nil { ... }
//	defer m.Close()
//	e := inference.NewEngine(m)
//	out, t, err := e.Run(ctx, inference.Input{Data: jpegBytes, Encoding: media.JPEG})
//	// out.Data: {"boxes":[{"score":0.98,"x0":0.31,"y0":0.12,...}]}
//	// t.Preprocess, t.Inference, t.Postprocess
//
// # Shared library
//
// ONNX Runtime is loaded at run time from, in order: Options.Library (the
// CLI's --ort-lib; when set it is the only candidate), the environment
// variable ONNXRUNTIME_SHARED_LIBRARY_PATH, and the project cache
// (<cache>/onnxruntime/1.30.0/libonnxruntime.so.1, installed by
// scripts/fetch-onnxruntime; see [CacheDir]). A missing or incompatible
// library is a one-line [*LibraryError] naming every path tried. ONNX
// Runtime's environment is global to the process: the first successful Open
// loads the library and it stays loaded until the process exits; later Opens
// share it, and asking for a different library then is an error.
//
// # Model spec
//
// How to feed the model and decode its outputs comes from a [Spec]: a YAML
// file beside the model, a built-in spec for known models (BlazeFace, the
// PaddleOCR detector and recogniser), or what the model's input shape says.
// See [Spec] for the format.
//
// # Concurrency
//
// A [Model] is used by one goroutine at a time: it owns one input tensor,
// reuses its output tensors and buffers, and what Infer returns is valid
// until its next call. Open one Model per worker to serve in parallel.
//
// Binaries built without cgo contain a stub whose Open returns [ErrNoCgo].
package onnx
