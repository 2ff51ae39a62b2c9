package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/peernet/peernet_go/peernet_go/inference/vision"
	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// Decoders of OutputSpec.Decoder.
const (
	// DecoderRaw reports output tensors as they are (the default).
	DecoderRaw = "raw"
	// DecoderClassify reports the top-k classes of a score vector.
	DecoderClassify = "classify"
	// DecoderSSDAnchors decodes an anchor-based detector into boxes.
	DecoderSSDAnchors = "ssd-anchors"
)

// Execution providers of Spec.Provider.
const (
	// ProviderCPU runs on the CPU (the default).
	ProviderCPU = "cpu"
	// ProviderCUDA runs on an NVIDIA GPU through CUDA.
	ProviderCUDA = "cuda"
	// ProviderTensorRT runs on an NVIDIA GPU through TensorRT.
	ProviderTensorRT = "tensorrt"
)

// DefaultWarmup is the number of warm-up runs when a spec does not say.
const DefaultWarmup = 1

// MaxSpecSize bounds a spec file.
const MaxSpecSize = 64 << 10

// Spec says how to feed a model and read its outputs. It is read from a
// YAML file beside the model (<model>.onnx.yaml or <model>.yaml), built in
// for known models, or given in Options. Every field is optional: what the
// spec leaves out is taken from the model (input name, size and layout from
// its input's shape) or from the defaults documented on each field.
//
// Example (BlazeFace, which is also built in):
//
//	input:
//	  name: "input:0"
//	  layout: NHWC
//	  width: 128
//	  height: 128
//	  color: RGB
//	  scale: 0.007843137   # 1/127.5, then mean 1: pixels map to [-1, 1]
//	  mean: [1]
//	output:
//	  decoder: ssd-anchors
//	  score_threshold: 0.75
//	  iou_threshold: 0.3
//	  nms: weighted
//	  keypoints: 6
//	  heads:
//	    - {scores: "Identity:0", boxes: "Identity_2:0", strides: [8], anchors: [2]}
//	    - {scores: "Identity_1:0", boxes: "Identity_3:0", strides: [16], anchors: [6]}
//	provider: cpu
//	threads: 0
//	warmup: 1
type Spec struct {
	// Input describes the image input.
	Input InputSpec `yaml:"input,omitempty"`
	// Output says how to decode the outputs.
	Output OutputSpec `yaml:"output,omitempty"`
	// Provider is the execution provider: cpu, cuda or tensorrt. It
	// defaults to cpu. A provider the library or machine lacks makes Open
	// fail with an error saying so.
	Provider string `yaml:"provider,omitempty"`
	// Device is the GPU index for cuda and tensorrt. It defaults to 0.
	Device int `yaml:"device,omitempty"`
	// Threads is ONNX Runtime's intra-op thread count. It defaults to 0,
	// ONNX Runtime's choice (one per physical core).
	Threads int `yaml:"threads,omitempty"`
	// Warmup is how many inferences Open runs on a blank input so that the
	// first measured iteration is not the slowest. It defaults to
	// DefaultWarmup.
	Warmup *int `yaml:"warmup,omitempty"`

	// dir resolves relative paths (labels); set when read from a file.
	dir string
}

// InputSpec describes the image input: the model input's name and the
// image pipeline's settings (see [vision.Config] for each key).
type InputSpec struct {
	// Name is the model input fed with the image. It defaults to the
	// model's only input.
	Name          string `yaml:"name,omitempty"`
	vision.Config `yaml:",inline"`
}

// OutputSpec selects and configures the output decoder. Keys that belong
// to another decoder are an error.
type OutputSpec struct {
	// Decoder is raw, classify or ssd-anchors. It defaults to raw.
	Decoder string `yaml:"decoder,omitempty"`

	// Name is the output tensor holding the class scores (classify). It
	// defaults to the model's first output.
	Name string `yaml:"name,omitempty"`
	// Labels is a file of class names, one per line (classify; optional).
	// A relative path is relative to the spec file, or to the working
	// directory for a spec given in Options.
	Labels                string `yaml:"labels,omitempty"`
	vision.ClassifyConfig `yaml:",inline"`

	// Heads pairs the scores and boxes tensors of an anchor-based detector
	// (ssd-anchors; required).
	Heads            []HeadSpec `yaml:"heads,omitempty"`
	vision.SSDConfig `yaml:",inline"`

	// Names are the outputs to report (raw). It defaults to every float
	// output.
	Names            []string `yaml:"names,omitempty,flow"`
	vision.RawConfig `yaml:",inline"`
}

// HeadSpec is one anchor group of an ssd-anchors decoder: the names of its
// scores and boxes tensors and its anchor layout.
type HeadSpec struct {
	Scores         string `yaml:"scores"`
	Boxes          string `yaml:"boxes"`
	vision.SSDHead `yaml:",inline"`
}

// ParseSpec parses a YAML spec. Unknown keys, keys of another decoder and
// out-of-range values are errors naming the key. An empty document is an
// empty spec.
func ParseSpec(data []byte) (Spec, error) {
	s, err := parseSpec(data)
	if err != nil {
		return Spec{}, fmt.Errorf("onnx: spec: %w", err)
	}
	return s, nil
}

func parseSpec(data []byte) (Spec, error) {
	var s Spec
	if len(data) > MaxSpecSize {
		return Spec{}, fmt.Errorf("%d bytes exceeds %d", len(data), MaxSpecSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return Spec{}, errors.New(yamlError(err))
	}
	if err := s.check(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Marshal returns s as YAML that ParseSpec reads back.
func (s *Spec) Marshal() ([]byte, error) {
	return yaml.Marshal(s)
}

var yamlFieldRE = regexp.MustCompile(`field (\S+) not found in type (\S+)`)

// yamlError folds yaml.v3's multi-line errors onto one line and names the
// section of an unknown key.
func yamlError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	msg = yamlFieldRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := yamlFieldRE.FindStringSubmatch(m)
		section := map[string]string{
			"onnx.Spec":       "",
			"onnx.InputSpec":  "input.",
			"onnx.OutputSpec": "output.",
			"onnx.HeadSpec":   "output.heads[].",
		}[sub[2]]
		return fmt.Sprintf("unknown key %q", section+sub[1])
	})
	return errline.Flat(msg)
}

// check validates what can be checked without the model.
func (s *Spec) check() error {
	switch s.Provider {
	case "", ProviderCPU, ProviderCUDA, ProviderTensorRT:
	default:
		return fmt.Errorf("provider: must be cpu, cuda or tensorrt, got %q", s.Provider)
	}
	if s.Device < 0 || s.Device > 1024 {
		return fmt.Errorf("device: must be in 0..1024, got %d", s.Device)
	}
	if s.Threads < 0 || s.Threads > 1024 {
		return fmt.Errorf("threads: must be in 0..1024, got %d", s.Threads)
	}
	if s.Warmup != nil && (*s.Warmup < 0 || *s.Warmup > 1000) {
		return fmt.Errorf("warmup: must be in 0..1000, got %d", *s.Warmup)
	}
	if in := s.Input; in.Width < 0 || in.Height < 0 {
		return fmt.Errorf("input.width, input.height: must be positive, got %dx%d", in.Width, in.Height)
	}
	o := &s.Output
	type field struct {
		key string
		set bool
	}
	classify := []field{{"name", o.Name != ""}, {"labels", o.Labels != ""}, {"top_k", o.TopK != 0}, {"softmax", o.Softmax}}
	ssd := []field{
		{"heads", len(o.Heads) > 0}, {"score_threshold", o.ScoreThreshold != 0}, {"iou_threshold", o.IOUThreshold != 0},
		{"max_detections", o.MaxDetections != 0}, {"nms", o.NMS != ""}, {"activation", o.Activation != ""},
		{"keypoints", o.Keypoints != 0},
	}
	raw := []field{{"names", len(o.Names) > 0}, {"max_values", o.MaxValues != 0}}
	var others [][]field
	switch o.Decoder {
	case "", DecoderRaw:
		others = [][]field{classify, ssd}
	case DecoderClassify:
		others = [][]field{raw, ssd}
	case DecoderSSDAnchors:
		others = [][]field{raw, classify}
	default:
		return fmt.Errorf("output.decoder: must be raw, classify or ssd-anchors, got %q", o.Decoder)
	}
	for _, group := range others {
		for _, f := range group {
			if f.set {
				d := o.Decoder
				if d == "" {
					d = DecoderRaw
				}
				return fmt.Errorf("output.%s: not a key of decoder %s", f.key, d)
			}
		}
	}
	// Validate decoder settings that do not depend on the model.
	switch o.Decoder {
	case DecoderClassify:
		c := o.ClassifyConfig
		if err := c.Initialize(); err != nil {
			return fmt.Errorf("output.%w", err)
		}
	case DecoderSSDAnchors:
		if len(o.Heads) == 0 {
			return errors.New("output.heads: decoder ssd-anchors needs at least one head")
		}
		for i, h := range o.Heads {
			if h.Scores == "" || h.Boxes == "" {
				return fmt.Errorf("output.heads[%d]: scores and boxes are required", i)
			}
		}
		c := o.SSDConfig
		c.InputWidth, c.InputHeight = 1, 1
		for _, h := range o.Heads {
			c.Heads = append(c.Heads, h.SSDHead)
		}
		if err := c.Initialize(); err != nil {
			return fmt.Errorf("output.%w", err)
		}
	default:
		c := o.RawConfig
		if err := c.Initialize(); err != nil {
			return fmt.Errorf("output.%w", err)
		}
	}
	return nil
}

// builtinSpecs are used for known model files that have no spec beside
// them, keyed by file name.
var builtinSpecs = map[string]func() Spec{
	// MediaPipe BlazeFace short-range (front camera) detector as converted
	// for Barracuda: 128x128 NHWC RGB in [-1,1]; 512 anchors at stride 8
	// (2 per cell) and 384 at stride 16 (6 per cell); per anchor 16 values:
	// box (dx, dy, w, h) and 6 keypoints, in input pixels.
	"face_detection_front_128x128_barracuda.onnx": func() Spec {
		return Spec{
			Input: InputSpec{Name: "input:0", Config: vision.Config{
				Width: 128, Height: 128, Layout: vision.NHWC, Color: vision.RGB,
				Scale: 1 / 127.5, Mean: []float32{1}, Std: []float32{1},
			}},
			Output: OutputSpec{
				Decoder: DecoderSSDAnchors,
				Heads: []HeadSpec{
					{Scores: "Identity:0", Boxes: "Identity_2:0", SSDHead: vision.SSDHead{Strides: []int{8}, Anchors: []int{2}}},
					{Scores: "Identity_1:0", Boxes: "Identity_3:0", SSDHead: vision.SSDHead{Strides: []int{16}, Anchors: []int{6}}},
				},
				SSDConfig: vision.SSDConfig{
					ScoreThreshold: 0.75, IOUThreshold: 0.3, NMS: vision.NMSWeighted,
					Activation: vision.ActivationSigmoid, Keypoints: 6, MaxDetections: 100,
				},
			},
		}
	},
	// PaddleOCR PP-OCRv4 text detector: NCHW, BGR (as PaddleOCR reads
	// images), ImageNet mean/std; a 1×1×H×W text probability map.
	"ch_PP-OCRv4_det_infer.onnx": func() Spec {
		return Spec{
			Input: InputSpec{Name: "x", Config: vision.Config{
				Width: 640, Height: 640, Layout: vision.NCHW, Color: vision.BGR, Scale: 1.0 / 255,
				Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225},
				Resize: vision.Letterbox,
			}},
			Output: OutputSpec{Decoder: DecoderRaw},
		}
	},
	// PaddleOCR PP-OCRv4 recogniser: a 48-pixel-high text line, [-1,1].
	"ch_PP-OCRv4_rec_infer.onnx": func() Spec {
		return Spec{
			Input: InputSpec{Name: "x", Config: vision.Config{
				Width: 320, Height: 48, Layout: vision.NCHW, Color: vision.BGR, Scale: 1.0 / 255,
				Mean: []float32{0.5}, Std: []float32{0.5}, Resize: vision.Letterbox,
			}},
			Output: OutputSpec{Decoder: DecoderRaw},
		}
	},
}

// SpecSource says where a model's spec came from.
type SpecSource string

// FindSpec returns the spec for the model at modelPath and where it came
// from: specFile if not empty, else <model>.onnx.yaml or <model>.yaml beside
// the model (both present is an error), else the built-in spec for a known
// model file name, else an empty spec (everything from the model).
func FindSpec(modelPath, specFile string) (Spec, SpecSource, error) {
	if specFile != "" {
		s, err := ReadSpecFile(specFile)
		return s, SpecSource(specFile), err
	}
	base := strings.TrimSuffix(modelPath, filepath.Ext(modelPath))
	var found []string
	for _, p := range []string{modelPath + ".yaml", base + ".yaml"} {
		if p == modelPath {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		s, err := ReadSpecFile(found[0])
		return s, SpecSource(found[0]), err
	case 2:
		return Spec{}, "", fmt.Errorf("onnx: both %s and %s exist; keep one spec beside the model", found[0], found[1])
	}
	if f, ok := builtinSpecs[filepath.Base(modelPath)]; ok {
		return f(), SpecSource("built-in spec for " + filepath.Base(modelPath)), nil
	}
	return Spec{}, "model", nil
}

// ReadSpecFile reads and parses a spec file; relative paths in it (labels)
// are relative to the file.
func ReadSpecFile(path string) (Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return Spec{}, fmt.Errorf("onnx: spec: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSpecSize+1))
	if err != nil {
		return Spec{}, fmt.Errorf("onnx: spec %s: %w", path, err)
	}
	s, err := parseSpec(data)
	if err != nil {
		return Spec{}, fmt.Errorf("onnx: spec %s: %w", path, err)
	}
	s.dir = filepath.Dir(path)
	return s, nil
}

// warmup returns the number of warm-up runs.
func (s *Spec) warmup() int {
	if s.Warmup == nil {
		return DefaultWarmup
	}
	return *s.Warmup
}

// isZero reports whether the input section sets nothing.
func (in *InputSpec) isZero() bool {
	return reflect.ValueOf(*in).IsZero()
}
