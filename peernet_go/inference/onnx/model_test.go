//go:build cgo

package onnx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/modeltest"
	"github.com/peernet/peernet_go/peernet_go/inference/vision"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// requireRuntime skips the test when no ONNX Runtime library is installed.
func requireRuntime(t testing.TB) {
	t.Helper()
	if _, _, err := loadRuntime(""); err != nil {
		if errors.Is(err, ErrNoLibrary) {
			t.Skipf("ONNX Runtime not installed (run scripts/fetch-onnxruntime): %v", err)
		}
		t.Fatal(err)
	}
}

// cachedModel returns a model fetched by scripts/fetch-models, or skips.
func cachedModel(t testing.TB, rel string) string {
	t.Helper()
	requireRuntime(t)
	dir, err := CacheDir()
	if err != nil {
		t.Skipf("no cache directory: %v", err)
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("model %s not found: run scripts/fetch-models", p)
	}
	return p
}

// astronaut is Debian python3-skimage's astronaut.png (a public-domain NASA
// portrait of Eileen Collins) resized to 256×256.
func astronaut(t testing.TB) ([]byte, *image.RGBA) {
	t.Helper()
	b, err := os.ReadFile("../vision/testdata/astronaut.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, image.Point{}, draw.Src)
	return b, rgba
}

// rosImage returns img as a bgr8 sensor_msgs/msg/Image in little-endian
// CDR, with rows of step bytes (at least 3 × width; padding bytes are 0xee).
func rosImage(img *image.RGBA, step int) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	pix := bytes.Repeat([]byte{0xee}, step*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s, d := img.Pix[y*img.Stride+x*4:], pix[y*step+x*3:]
			d[0], d[1], d[2] = s[2], s[1], s[0]
		}
	}
	return cdr.Marshal(&cdr.Image{
		Header: cdr.Header{Stamp: cdr.Time{Sec: 1700000000}, FrameID: "camera_optical_frame"},
		Height: uint32(h), Width: uint32(w), Encoding: media.BGR8, Step: uint32(step), Data: pix,
	})
}

// packed returns the image's pixels as rgb8 or bgr8.
func packed(img *image.RGBA, bgr bool) []byte {
	out := make([]byte, 0, len(img.Pix)/4*3)
	for i := 0; i < len(img.Pix); i += 4 {
		r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]
		if bgr {
			r, b = b, r
		}
		out = append(out, r, g, b)
	}
	return out
}

type boxesJSON struct {
	Boxes []struct {
		Score          float64
		X0, Y0, X1, Y1 float64
		Keypoints      [][2]float64
	}
}

// checkFace asserts that out holds exactly one face box around her face,
// which spans about x 0.35..0.53 and y 0.16..0.34 of the portrait (found by
// drawing the detected box and keypoints on the image and looking).
func checkFace(t *testing.T, out inference.Output) {
	t.Helper()
	var got boxesJSON
	if err := json.Unmarshal(out.Data, &got); err != nil {
		t.Fatalf("%v: %s", err, out.Data)
	}
	if len(got.Boxes) != 1 {
		t.Fatalf("want exactly one face, got %d: %s", len(got.Boxes), out.Data)
	}
	b := got.Boxes[0]
	if b.Score < 0.75 || b.X0 < 0.30 || b.X0 > 0.40 || b.X1 < 0.48 || b.X1 > 0.58 ||
		b.Y0 < 0.10 || b.Y0 > 0.21 || b.Y1 < 0.29 || b.Y1 > 0.40 {
		t.Fatalf("face box %+v is not around her face", b)
	}
	if len(b.Keypoints) != 6 {
		t.Fatalf("want 6 keypoints, got %d", len(b.Keypoints))
	}
	for i, k := range b.Keypoints[:4] { // eyes, nose tip and mouth lie inside the box
		if k[0] < b.X0 || k[0] > b.X1 || k[1] < b.Y0 || k[1] > b.Y1 {
			t.Errorf("keypoint %d %v outside the box", i, k)
		}
	}
	rEye, lEye, nose, mouth := b.Keypoints[0], b.Keypoints[1], b.Keypoints[2], b.Keypoints[3]
	if !(rEye[0] < nose[0] && nose[0] < lEye[0] && max(rEye[1], lEye[1]) < nose[1] && nose[1] < mouth[1]) {
		t.Errorf("keypoints %v are not eyes above nose above mouth", b.Keypoints)
	}
}

func TestBlazeFaceAstronaut(t *testing.T) {
	path := cachedModel(t, BlazeFaceModel)
	m, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info := m.Info()
	if info.Decoder != DecoderSSDAnchors || info.Input != "input:0" || !strings.HasPrefix(string(info.SpecSource), "built-in") ||
		!reflect.DeepEqual(info.InputShape, []int64{1, 128, 128, 3}) || info.Provider != ProviderCPU || info.RuntimeVersion != RuntimeVersion && info.RuntimeVersion == "" {
		t.Fatalf("info = %+v", info)
	}
	jpg, img := astronaut(t)
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	bgr := packed(img, true)
	rosJPEG := cdr.Marshal(&cdr.CompressedImage{Header: cdr.Header{FrameID: "camera_optical_frame"}, Format: "jpeg", Data: jpg})
	e := inference.NewEngine(m)
	for _, c := range []struct {
		name string
		in   inference.Input
	}{
		{"jpeg", inference.Input{Data: jpg, Encoding: media.JPEG}},
		{"png", inference.Input{Data: pngBuf.Bytes(), Encoding: media.PNG}},
		{"rgb8", inference.Input{Data: packed(img, false), Encoding: media.RawImage{Format: media.RGB8, Width: w, Height: h}.String()}},
		{"bgr8", inference.Input{Data: bgr, Encoding: media.RawImage{Format: media.BGR8, Width: w, Height: h}.String()}},
		{"ros image", inference.Input{Data: rosImage(img, w*3), Encoding: media.ROS(cdr.TypeImage)}},
		{"ros image, padded rows", inference.Input{Data: rosImage(img, w*3+40), Encoding: media.ROS(cdr.TypeImage)}},
		{"ros compressed", inference.Input{Data: rosJPEG, Encoding: media.ROS(cdr.TypeCompressedImage)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, tm, err := e.Run(context.Background(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s (pre %v, infer %v, post %v)", out.Data, tm.Preprocess, tm.Inference, tm.Postprocess)
			if out.Encoding != media.JSON || tm.Preprocess <= 0 || tm.Inference <= 0 || tm.Postprocess <= 0 {
				t.Fatalf("encoding %q, timings %+v", out.Encoding, tm)
			}
			checkFace(t, out)
		})
	}

	// A landscape crop of the portrait (her face off-centre), letterboxed
	// rather than stretched: the box must come back in the crop's
	// coordinates.
	spec := builtinSpecs[filepath.Base(path)]()
	spec.Input.Resize = vision.Letterbox
	lb, err := Open(path, Options{Spec: &spec})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	crop := img.SubImage(image.Rect(0, 0, 256, 128)).(*image.RGBA)
	var cropJPEG bytes.Buffer
	if err := jpeg.Encode(&cropJPEG, crop, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	out, _, err := inference.NewEngine(lb).Run(context.Background(), inference.Input{Data: cropJPEG.Bytes(), Encoding: media.JPEG})
	if err != nil {
		t.Fatal(err)
	}
	var got boxesJSON
	if err := json.Unmarshal(out.Data, &got); err != nil || len(got.Boxes) != 1 {
		t.Fatalf("letterbox: %s, %v", out.Data, err)
	}
	// In the 256×128 crop the face spans x 0.35..0.53 as before and y
	// 0.32..0.68 (twice the portrait's fractions).
	if b := got.Boxes[0]; b.X0 < 0.30 || b.X1 > 0.58 || b.Y0 < 0.2 || b.Y0 > 0.42 || b.Y1 < 0.58 || b.Y1 > 0.8 {
		t.Fatalf("letterboxed face box %+v not mapped back to the crop", b)
	}
}

func TestBlazeFaceOtherDecoders(t *testing.T) {
	path := cachedModel(t, BlazeFaceModel)
	jpg, _ := astronaut(t)
	in := inference.Input{Data: jpg, Encoding: media.JPEG}

	// raw: every output, with shapes.
	spec := builtinSpecs[filepath.Base(path)]()
	spec.Output = OutputSpec{Decoder: DecoderRaw, RawConfig: vision.RawConfig{MaxValues: 2}}
	m, err := Open(path, Options{Spec: &spec})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := inference.NewEngine(m).Run(context.Background(), in)
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Outputs []struct {
			Name   string
			Shape  []int64
			Values []float64
		}
	}
	if err := json.Unmarshal(out.Data, &raw); err != nil || len(raw.Outputs) != 4 {
		t.Fatalf("raw: %s, %v", out.Data, err)
	}
	for _, o := range raw.Outputs {
		if len(o.Values) != 2 || len(o.Shape) != 3 {
			t.Errorf("raw output %+v", o)
		}
	}

	// classify over the stride-8 face scores, with labels: the best
	// "class" is an anchor on her face.
	dir := t.TempDir()
	var labels strings.Builder
	for i := 0; i < 512; i++ {
		fmt.Fprintf(&labels, "anchor %d\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "anchors.txt"), []byte(labels.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec.Output = OutputSpec{Decoder: DecoderClassify, Name: "Identity:0", Labels: "anchors.txt", ClassifyConfig: vision.ClassifyConfig{TopK: 3}}
	spec.dir = dir
	m, err = Open(path, Options{Spec: &spec})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out, _, err = inference.NewEngine(m).Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var cls struct {
		Top []struct {
			Index int
			Label string
			Score float64
		}
	}
	if err := json.Unmarshal(out.Data, &cls); err != nil || len(cls.Top) != 3 {
		t.Fatalf("classify: %s, %v", out.Data, err)
	}
	best := cls.Top[0]
	cell := best.Index / 2 // 2 anchors per 8-pixel cell of a 16×16 grid
	x, y := (float64(cell%16)+0.5)/16, (float64(cell/16)+0.5)/16
	if best.Label != fmt.Sprintf("anchor %d", best.Index) || x < 0.3 || x > 0.6 || y < 0.1 || y > 0.4 || best.Score < cls.Top[1].Score {
		t.Fatalf("best anchor %+v at (%.2f, %.2f) is not on her face", best, x, y)
	}
}

func TestOpenErrors(t *testing.T) {
	path := cachedModel(t, BlazeFaceModel)
	base := builtinSpecs[filepath.Base(path)]
	for _, c := range []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"width", func(s *Spec) { s.Input.Width = 64 }, "input.width: 64, but model input input:0 has width 128"},
		{"input name", func(s *Spec) { s.Input.Name = "image" }, `input.name: model has no input "image" (inputs: input:0)`},
		{"gray", func(s *Spec) { s.Input.Color = vision.Gray }, "input.color: GRAY for a 3-channel input input:0"},
		{"layout", func(s *Spec) { s.Input.Layout = vision.NCHW; s.Input.Width, s.Input.Height = 0, 0 }, "input input:0 has 128 channels; images have 1 or 3"},
		{"head name", func(s *Spec) { s.Output.Heads[0].Scores = "scores" }, `output.heads[0].scores: model has no output "scores"`},
		{"anchors", func(s *Spec) { s.Output.Heads[0].Anchors = []int{3} }, "output.heads[0]: Identity:0 has 512 values, but the head has 768 anchors"},
		{"keypoints", func(s *Spec) { s.Output.Keypoints = 7 }, "output.heads[0]: Identity_2:0 has 8192 values, not 512 anchors × at least 18"},
		{"labels", func(s *Spec) {
			s.Output = OutputSpec{Decoder: DecoderClassify, Labels: "/nonexistent/labels.txt"}
		}, "output.labels: open /nonexistent/labels.txt"},
		{"raw names", func(s *Spec) { s.Output = OutputSpec{Names: []string{"nope"}} }, `output.names: model has no output "nope"`},
		{"cuda", func(s *Spec) { s.Provider = ProviderCUDA }, "execution provider cuda is unavailable"},
		{"tensorrt", func(s *Spec) { s.Provider = ProviderTensorRT }, "execution provider tensorrt is unavailable"},
		{"check", func(s *Spec) { s.Threads = -3 }, "onnx: spec: threads"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := base()
			c.edit(&s)
			m, err := Open(path, Options{Spec: &s})
			if err == nil {
				m.Close()
				t.Fatalf("Open succeeded, want %q", c.want)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, c.want)
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.onnx"), Options{}); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Fatalf("missing model: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad, Options{}); err == nil || !strings.Contains(err.Error(), "bad.onnx: load model") {
		t.Fatalf("bad model: %v", err)
	}
}

func TestInferErrors(t *testing.T) {
	m, err := Open(cachedModel(t, BlazeFaceModel), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	jpg, _ := astronaut(t)
	if _, err := m.Preprocess(ctx, inference.Input{Data: jpg[:100], Encoding: media.JPEG}); err == nil {
		t.Error("truncated JPEG accepted")
	}
	if _, err := m.Preprocess(ctx, inference.Input{Data: jpg, Encoding: "gif"}); err == nil || !strings.Contains(err.Error(), `"gif"`) {
		t.Errorf("gif: %v", err)
	}
	if _, err := m.Infer(ctx, 42); err == nil || !strings.Contains(err.Error(), "Infer got int") {
		t.Errorf("Infer(42): %v", err)
	}
	if _, err := m.Postprocess(ctx, "x"); err == nil {
		t.Error("Postprocess(string) accepted")
	}
	if _, err := m.Infer(ctx, []Tensor{{Name: "x", Shape: []int64{1}, Data: []float32{1}}}); err == nil || !strings.Contains(err.Error(), `no input "x"`) {
		t.Errorf("tensor name: %v", err)
	}
	if _, err := m.Infer(ctx, []Tensor{{Name: "input:0", Shape: []int64{1, 2}, Data: []float32{1}}}); err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Errorf("tensor shape: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Infer(canceled, inference.Input{Data: jpg, Encoding: media.JPEG}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	// Infer does the preprocessing itself when given an Input, and a
	// deadline that does not fire leaves later runs alone.
	dctx, dcancel := context.WithTimeout(ctx, time.Minute)
	defer dcancel()
	for i := 0; i < 3; i++ {
		r, err := m.Infer(dctx, inference.Input{Data: jpg, Encoding: media.JPEG})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Postprocess(dctx, r)
		if err != nil {
			t.Fatal(err)
		}
		checkFace(t, out)
	}
	// The image input also runs as a plain tensor.
	g, err := m.Preprocess(ctx, inference.Input{Data: jpg, Encoding: media.JPEG})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Infer(ctx, []Tensor{{Name: "input:0", Shape: []int64{1, 128, 128, 3}, Data: append([]float32(nil), m.pipe.Tensor()...)}})
	if err != nil {
		t.Fatal(err)
	}
	res := r.(*Result)
	res.Geometry = *g.(*vision.Geometry)
	out, err := m.Postprocess(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	checkFace(t, out)

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.Infer(ctx, inference.Input{Data: jpg, Encoding: media.JPEG}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := m.Preprocess(ctx, inference.Input{Data: jpg, Encoding: media.JPEG}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestONNXTestData runs single-operator and small converted PyTorch models
// from Debian's libonnx-testdata and compares every output with the
// expected tensor shipped beside it.
func TestONNXTestData(t *testing.T) {
	requireTestData(t)
	requireRuntime(t)
	const tol = 1e-5
	for _, name := range []string{
		"node/test_conv_with_strides_padding",
		"node/test_conv_with_strides_no_padding",
		"node/test_relu",
		"node/test_sigmoid",
		"node/test_softmax_axis_1",
		"node/test_maxpool_2d_pads",
		"node/test_averagepool_2d_default",
		"node/test_batchnorm_example",
		"node/test_gemm_default_matrix_bias",
		"node/test_matmul_2d",
		"node/test_lrn",
		"pytorch-converted/test_Conv2d",
		"pytorch-converted/test_Conv2d_depthwise_strided",
		"pytorch-converted/test_ConvTranspose2d",
		"pytorch-converted/test_Conv2d_dilated",
		"pytorch-converted/test_Conv2d_groups",
		"pytorch-converted/test_Softmax",
		"pytorch-converted/test_ELU",
		"pytorch-converted/test_MaxPool2d",
		"pytorch-converted/test_PixelShuffle",
		"pytorch-operator/test_operator_conv",
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(onnxTestData, name)
			m, err := Open(filepath.Join(dir, "model.onnx"), Options{Spec: &Spec{Output: OutputSpec{Decoder: DecoderRaw}}})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
			if len(sets) == 0 {
				t.Fatalf("no test data sets in %s", dir)
			}
			for _, set := range sets {
				ins := readProtos(t, set, "input", m.Info().Inputs)
				wants := readProtos(t, set, "output", nil)
				r, err := m.Infer(context.Background(), ins)
				if err != nil {
					t.Fatal(err)
				}
				got := r.(*Result).Outputs
				if len(got) != len(wants) {
					t.Fatalf("%d outputs, want %d", len(got), len(wants))
				}
				worst := 0.0
				for i, w := range wants {
					g := got[i]
					if !reflect.DeepEqual(g.Shape, w.Shape) {
						t.Fatalf("output %d shape %v, want %v", i, g.Shape, w.Shape)
					}
					for j := range w.Data {
						d := math.Abs(float64(g.Data[j]) - float64(w.Data[j]))
						worst = max(worst, d)
						if !(d <= tol) {
							t.Fatalf("output %d value %d: %v, want %v (|diff| %g > %g)", i, j, g.Data[j], w.Data[j], d, tol)
						}
					}
				}
				t.Logf("%s: %d outputs match, max |diff| %.2g", filepath.Base(set), len(wants), worst)
			}
		})
	}
}

// readProtos reads <kind>_0.pb, <kind>_1.pb, ... naming unnamed tensors
// after the model's inputs.
func readProtos(t *testing.T, dir, kind string, names []string) []Tensor {
	t.Helper()
	var ts []Tensor
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s_%d.pb", kind, i)))
		if errors.Is(err, os.ErrNotExist) {
			return ts
		}
		if err != nil {
			t.Fatal(err)
		}
		x, err := ReadTensorProto(b)
		if err != nil {
			t.Fatalf("%s_%d.pb: %v", kind, i, err)
		}
		if x.Name == "" && i < len(names) {
			x.Name = names[i]
		}
		ts = append(ts, x)
	}
}

// textImage draws black text on a white size×size image, with glyphs
// scaled up 3 times, and returns it with the text's bounding box.
func textImage(size int, text string) (*image.RGBA, image.Rectangle) {
	const scale = 3
	face := basicfont.Face7x13
	small := image.NewRGBA(image.Rect(0, 0, size/scale, size/scale))
	draw.Draw(small, small.Rect, image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: small, Src: image.Black, Face: face, Dot: fixed.P(4, size/scale/2)}
	adv := d.MeasureString(text).Ceil()
	d.DrawString(text)
	box := image.Rect(4, size/scale/2-face.Ascent, 4+adv, size/scale/2+face.Descent)
	big := image.NewRGBA(image.Rect(0, 0, size, size))
	xdraw.NearestNeighbor.Scale(big, big.Rect, small, small.Rect, draw.Src, nil)
	return big, image.Rectangle{Min: box.Min.Mul(scale), Max: box.Max.Mul(scale)}
}

// TestPPOCRDetector runs the PaddleOCR text detector (dynamic input and
// output shapes, ONNX Runtime-allocated outputs) with a spec beside the
// model and the raw decoder, on an image of printed text.
func TestPPOCRDetector(t *testing.T) {
	model := cachedModel(t, PPOCRDetModel)
	dir := t.TempDir()
	link := filepath.Join(dir, "det.onnx")
	if err := os.Symlink(model, link); err != nil {
		t.Fatal(err)
	}
	spec := `input:
  width: 320
  height: 320
  color: BGR
  mean: [0.485, 0.456, 0.406]
  std: [0.229, 0.224, 0.225]
output:
  decoder: raw
  max_values: 4
threads: 1
warmup: 0
`
	if err := os.WriteFile(filepath.Join(dir, "det.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(link, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if info := m.Info(); info.Input != "x" || !reflect.DeepEqual(info.InputShape, []int64{1, 3, 320, 320}) || string(info.SpecSource) != filepath.Join(dir, "det.yaml") {
		t.Fatalf("info %+v", info)
	}
	img, textBox := textImage(320, "PEERNET 2024")
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	in := inference.Input{Data: pngBuf.Bytes(), Encoding: media.PNG}
	ctx := context.Background()
	for i := 0; i < 2; i++ { // the second run reuses the outputs the first allocated
		g, err := m.Preprocess(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.Infer(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		res := r.(*Result)
		if len(res.Outputs) != 1 || !reflect.DeepEqual(res.Outputs[0].Shape, []int64{1, 1, 320, 320}) {
			t.Fatalf("outputs %+v", res.Outputs)
		}
		// The probability map is high on the text and low elsewhere.
		prob := res.Outputs[0].Data
		var on, inside int
		around := textBox.Inset(-6)
		for y := 0; y < 320; y++ {
			for x := 0; x < 320; x++ {
				if prob[y*320+x] > 0.5 {
					on++
					if image.Pt(x, y).In(around) {
						inside++
					}
				}
			}
		}
		t.Logf("text at %v: %d pixels above 0.5, %d of them on the text", textBox, on, inside)
		if on < textBox.Dx()*textBox.Dy()/4 || inside < on*95/100 {
			t.Fatalf("text not found: %d pixels above 0.5, %d on the text %v", on, inside, textBox)
		}
		out, err := m.Postprocess(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Outputs []struct {
				Name     string
				Shape    []int64
				Min, Max float64
				Values   []float64
			}
		}
		if err := json.Unmarshal(out.Data, &raw); err != nil || len(raw.Outputs) != 1 {
			t.Fatalf("%s, %v", out.Data, err)
		}
		if o := raw.Outputs[0]; o.Name != "sigmoid_0.tmp_0" || o.Min < 0 || o.Max > 1 || o.Max < 0.5 || len(o.Values) != 4 {
			t.Fatalf("output %+v", o)
		}
	}
}

// TestCancelRunningInference stops a long inference through its context.
func TestCancelRunningInference(t *testing.T) {
	model := cachedModel(t, PPOCRDetModel)
	spec := builtinSpecs[filepath.Base(model)]() // 640×640
	spec.Warmup = new(int)
	m, err := Open(model, Options{Spec: &spec})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	jpg, _ := astronaut(t)
	in := inference.Input{Data: jpg, Encoding: media.JPEG}
	start := time.Now()
	if _, err := m.Infer(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), full/20)
	defer cancel()
	start = time.Now()
	_, err = m.Infer(ctx, in)
	stopped := time.Since(start)
	t.Logf("full run %v, canceled run returned after %v: %v", full, stopped, err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// The terminate flag is cleared: the next run completes.
	if _, err := m.Infer(context.Background(), in); err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
}

// The library tests run in a fresh process: ONNX Runtime, once loaded,
// stays loaded.
const childEnv = "PEERNET_ONNX_TEST_CHILD"

func TestLibraryErrorsInFreshProcess(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child process")
	}
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	notLib := filepath.Join(dir, "libonnxruntime.so.1")
	for _, p := range []string{model, notLib} {
		if err := os.WriteFile(p, []byte("not an ELF file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(dir, "cache")
	cached := filepath.Join(cache, "onnxruntime", RuntimeVersion, "libonnxruntime.so.1")
	missing := filepath.Join(dir, "missing.so")
	for _, c := range []struct {
		name     string
		lib, env string
		want     []string
	}{
		{"nothing installed", "", "", []string{"ONNX Runtime library not found", "$" + LibraryEnv + " (unset)", cached + " (cache: not found)", "scripts/fetch-onnxruntime"}},
		{"env missing", "", missing, []string{"library not found", missing + " ($" + LibraryEnv + ": not found)", cached}},
		{"explicit missing", missing, "", []string{"library not found", missing + " (--ort-lib: not found)"}},
		{"explicit incompatible", notLib, "", []string{"cannot load ONNX Runtime (need 1.24 or later)", notLib + " (--ort-lib) failed"}},
		{"env incompatible", "", notLib, []string{"cannot load ONNX Runtime", notLib + " ($" + LibraryEnv + ") failed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestLibraryChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"=1", CacheEnv+"="+cache, LibraryEnv+"="+c.env,
				"CHILD_MODEL="+model, "CHILD_LIB="+c.lib)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var msg string
			for _, line := range strings.Split(string(out), "\n") {
				if m, ok := strings.CutPrefix(line, "OPEN ERROR: "); ok {
					msg = m
				}
			}
			t.Log(msg)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestLibraryChild is the child of TestLibraryErrorsInFreshProcess.
func TestLibraryChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestLibraryErrorsInFreshProcess")
	}
	_, err := Open(os.Getenv("CHILD_MODEL"), Options{Library: os.Getenv("CHILD_LIB")})
	if err == nil {
		t.Fatal("Open succeeded")
	}
	fmt.Printf("OPEN ERROR: %s\n", strings.ReplaceAll(err.Error(), "\n", `\n`))
}

// TestConformance runs the project's model conformance kit on BlazeFace.
func TestConformance(t *testing.T) {
	m, err := Open(cachedModel(t, BlazeFaceModel), Options{})
	if err != nil {
		t.Fatal(err)
	}
	jpg, img := astronaut(t)
	modeltest.Run(t, m,
		inference.Input{Data: jpg, Encoding: media.JPEG},
		inference.Input{Data: packed(img, false), Encoding: "rgb8:256x256"})
}
