package onnx_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/onnx"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// Open the BlazeFace model fetched by scripts/fetch-models (its spec is
// built in), and run a JPEG through an Engine, which times the three
// stages. (Not run as a test: it needs the fetched library and model; the
// package's tests cover the same steps and skip when they are absent.)
func ExampleOpen() {
	cache, err := onnx.CacheDir()
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := onnx.Open(filepath.Join(cache, onnx.BlazeFaceModel), onnx.Options{})
	if err != nil {
		fmt.Println(err) // e.g. the library is missing: run scripts/fetch-onnxruntime
		return
	}
	defer m.Close()
	jpg, err := os.ReadFile("face.jpg")
	if err != nil {
		fmt.Println(err)
		return
	}
	e := inference.NewEngine(m)
	out, t, err := e.Run(context.Background(), inference.Input{Data: jpg, Encoding: media.JPEG})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Data)) // {"boxes":[{"score":0.917,"x0":0.3456,...}]}
	fmt.Println(t.Preprocess, t.Inference, t.Postprocess)
}

// A spec for an ImageNet classifier, as it would sit beside the model in
// resnet50.onnx.yaml.
func ExampleParseSpec() {
	spec, err := onnx.ParseSpec([]byte(`
input:
  layout: NCHW
  width: 224
  height: 224
  mean: [0.485, 0.456, 0.406]
  std: [0.229, 0.224, 0.225]
output:
  decoder: classify
  top_k: 3
  softmax: true
  labels: imagenet_classes.txt
threads: 2
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Output.Decoder, spec.Output.TopK, spec.Input.Width, spec.Threads)

	_, err = onnx.ParseSpec([]byte("output:\n  decoder: classify\n  topk: 3\n"))
	fmt.Println(err)
	// Output:
	// classify 3 224 2
	// onnx: spec: line 3: unknown key "output.topk"
}
