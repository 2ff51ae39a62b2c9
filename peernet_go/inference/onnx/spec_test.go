package onnx

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/inference/vision"
)

const blazeFaceYAML = `
input:
  name: "input:0"
  layout: NHWC
  width: 128
  height: 128
  color: RGB
  scale: 0.007843137
  mean: [1]
output:
  decoder: ssd-anchors
  score_threshold: 0.75
  iou_threshold: 0.3
  nms: weighted
  keypoints: 6
  heads:
    - {scores: "Identity:0", boxes: "Identity_2:0", strides: [8], anchors: [2]}
    - {scores: "Identity_1:0", boxes: "Identity_3:0", strides: [16], anchors: [6]}
provider: cpu
threads: 2
warmup: 3
`

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec([]byte(blazeFaceYAML))
	if err != nil {
		t.Fatal(err)
	}
	if s.Input.Name != "input:0" || s.Input.Layout != vision.NHWC || s.Input.Width != 128 || s.Input.Scale != 0.007843137 {
		t.Errorf("input = %+v", s.Input)
	}
	o := s.Output
	if o.Decoder != DecoderSSDAnchors || len(o.Heads) != 2 || o.Heads[1].Boxes != "Identity_3:0" ||
		!reflect.DeepEqual(o.Heads[1].Strides, []int{16}) || !reflect.DeepEqual(o.Heads[1].Anchors, []int{6}) ||
		o.Keypoints != 6 || o.NMS != vision.NMSWeighted || o.ScoreThreshold != 0.75 {
		t.Errorf("output = %+v", o)
	}
	if s.Threads != 2 || s.warmup() != 3 || s.Provider != ProviderCPU {
		t.Errorf("spec = %+v", s)
	}
	// The YAML example in the Spec documentation is the built-in spec.
	b := builtinSpecs["face_detection_front_128x128_barracuda.onnx"]()
	if b.Output.Heads[0].Scores != o.Heads[0].Scores || b.Output.Keypoints != o.Keypoints {
		t.Errorf("built-in spec differs from the documented one: %+v", b.Output)
	}
	// Empty spec: everything from the model.
	s, err = ParseSpec(nil)
	if err != nil || s.warmup() != DefaultWarmup || s.Output.Decoder != "" {
		t.Fatalf("empty spec: %+v, %v", s, err)
	}
	zero := 0
	if s := (Spec{Warmup: &zero}); s.warmup() != 0 {
		t.Error("warmup: 0 not honoured")
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"input:\n  widht: 3\n", `line 2: unknown key "input.widht"`},
		{"bogus: 1\n", `line 1: unknown key "bogus"`},
		{"output:\n  decoder: ssd-anchors\n  heads:\n    - {scores: a, boxes: b, strides: [8], anchors: [2], stride: 3}\n", `unknown key "output.heads[].stride"`},
		{"output:\n  decoder: classify\n  heads: [{scores: a, boxes: b}]\n", "output.heads: not a key of decoder classify"},
		{"output:\n  top_k: 3\n", "output.top_k: not a key of decoder raw"},
		{"output:\n  decoder: ssd-anchors\n  max_values: 3\n  heads: [{scores: a, boxes: b, strides: [8], anchors: [2]}]\n", "output.max_values: not a key of decoder ssd-anchors"},
		{"output:\n  decoder: yolo\n", `output.decoder: must be raw, classify or ssd-anchors, got "yolo"`},
		{"output:\n  decoder: ssd-anchors\n", "output.heads: decoder ssd-anchors needs at least one head"},
		{"output:\n  decoder: ssd-anchors\n  heads: [{scores: a, strides: [8], anchors: [2]}]\n", "output.heads[0]: scores and boxes are required"},
		{"output:\n  decoder: ssd-anchors\n  heads: [{scores: a, boxes: b, strides: [8, 16], anchors: [2]}]\n", "output.heads[0]: want as many anchors as strides"},
		{"output:\n  decoder: ssd-anchors\n  score_threshold: 2\n  heads: [{scores: a, boxes: b, strides: [8], anchors: [2]}]\n", "output.score_threshold: must be in (0,1]"},
		{"output:\n  decoder: ssd-anchors\n  nms: soft\n  heads: [{scores: a, boxes: b, strides: [8], anchors: [2]}]\n", `output.nms: must be hard or weighted, got "soft"`},
		{"output:\n  decoder: classify\n  top_k: -1\n", "output.top_k: must be in 1..1000"},
		{"output:\n  max_values: -2\n", "output.max_values: must be -1 (all) or positive"},
		{"provider: rocm\n", `provider: must be cpu, cuda or tensorrt, got "rocm"`},
		{"threads: -1\n", "threads: must be in 0..1024"},
		{"warmup: -1\n", "warmup: must be in 0..1000"},
		{"input:\n  width: -5\n", "input.width, input.height: must be positive"},
		{"input: [1, 2]\n", "cannot unmarshal"},
		{"input:\n  width: x\n", "cannot unmarshal"},
		{strings.Repeat("#", MaxSpecSize+1), "exceeds"},
	} {
		_, err := ParseSpec([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") ||
			!strings.HasPrefix(err.Error(), "onnx: spec: ") {
			t.Errorf("ParseSpec(%q) = %v, want one line containing %q", c.yaml, err, c.want)
		}
	}
}

func TestBuiltinSpecsRoundTrip(t *testing.T) {
	for name, f := range builtinSpecs {
		s := f()
		if err := s.check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSpec(b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, back, s)
		}
	}
}

func TestFindSpec(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "face_detection_front_128x128_barracuda.onnx")
	s, src, err := FindSpec(model, "")
	if err != nil || !strings.HasPrefix(string(src), "built-in") || s.Output.Decoder != DecoderSSDAnchors {
		t.Fatalf("built-in: %v %q %v", s.Output.Decoder, src, err)
	}
	if _, src, err := FindSpec(filepath.Join(dir, "other.onnx"), ""); err != nil || src != "model" {
		t.Fatalf("no spec: %q %v", src, err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	beside := strings.TrimSuffix(model, ".onnx") + ".yaml"
	write(beside, "output:\n  decoder: raw\n  max_values: 4\n")
	s, src, err = FindSpec(model, "")
	if err != nil || string(src) != beside || s.Output.MaxValues != 4 || s.dir != dir {
		t.Fatalf("beside: %+v %q %v", s.Output, src, err)
	}
	write(model+".yaml", "warmup: 0\n")
	if _, _, err := FindSpec(model, ""); err == nil || !strings.Contains(err.Error(), "keep one spec") {
		t.Fatalf("two specs: %v", err)
	}
	s, src, err = FindSpec(model, model+".yaml")
	if err != nil || string(src) != model+".yaml" || s.warmup() != 0 {
		t.Fatalf("explicit: %+v %q %v", s, src, err)
	}
	write(beside, "output:\n  bogus: 1\n")
	if _, err := ReadSpecFile(beside); err == nil || !strings.Contains(err.Error(), beside) || !strings.Contains(err.Error(), `"output.bogus"`) {
		t.Fatalf("bad file: %v", err)
	}
	if _, err := ReadSpecFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

// FuzzParseSpec checks that ParseSpec never panics and that every spec it
// accepts marshals to YAML it reads back unchanged.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(blazeFaceYAML))
	f.Add([]byte("output:\n  decoder: classify\n  top_k: 3\n  labels: l.txt\n  softmax: true\n"))
	f.Add([]byte("input: {width: 640, height: 480, resize: letterbox, interpolation: nearest, color: BGR}\n"))
	f.Add([]byte("output: {decoder: raw, names: [a, b], max_values: -1}\nprovider: cuda\ndevice: 1\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpec(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatalf("marshal %+v: %v", s, err)
		}
		back, err := ParseSpec(b)
		if err != nil {
			t.Fatalf("re-parse %q: %v", b, err)
		}
		if !reflect.DeepEqual(normSpec(back), normSpec(s)) {
			t.Fatalf("round trip\n got %+v\nwant %+v\nyaml %q", back, s, b)
		}
	})
}

// normSpec clears differences YAML cannot express: empty versus nil lists.
func normSpec(s Spec) Spec {
	if len(s.Input.Mean) == 0 {
		s.Input.Mean = nil
	}
	if len(s.Input.Std) == 0 {
		s.Input.Std = nil
	}
	if len(s.Output.Names) == 0 {
		s.Output.Names = nil
	}
	if len(s.Output.Heads) == 0 {
		s.Output.Heads = nil
	}
	for i := range s.Output.Heads {
		h := &s.Output.Heads[i]
		if len(h.Strides) == 0 {
			h.Strides = nil
		}
		if len(h.Anchors) == 0 {
			h.Anchors = nil
		}
	}
	return s
}
