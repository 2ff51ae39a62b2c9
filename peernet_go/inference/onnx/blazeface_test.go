//go:build cgo

package onnx

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"sort"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/vision"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// legacyInput is BlazeFace's 128×128 NHWC input in [-1, 1] computed as
// this backend did before libjpeg-turbo and package vision's fixed-point
// resize: image/jpeg decodes, x/image/draw's BiLinear scaler stretches the
// RGBA image, and each 8-bit value v becomes v/127.5 - 1.
func legacyInput(t *testing.T, jpg []byte) ([]float32, vision.Geometry) {
	t.Helper()
	src, err := jpeg.Decode(bytes.NewReader(jpg))
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(src.Bounds())
	draw.Draw(rgba, rgba.Rect, src, src.Bounds().Min, draw.Src)
	dst := image.NewRGBA(image.Rect(0, 0, 128, 128))
	xdraw.BiLinear.Scale(dst, dst.Rect, rgba, rgba.Rect, xdraw.Src, nil)
	out := make([]float32, 0, 128*128*3)
	for i := 0; i < len(dst.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			out = append(out, float32(dst.Pix[i+c])*(1/127.5)-1)
		}
	}
	return out, vision.Geometry{Width: rgba.Rect.Dx(), Height: rgba.Rect.Dy(), ScaleX: 1, ScaleY: 1}
}

// face is a box of an ssd-anchors reply.
type face struct {
	Score          float64
	X0, Y0, X1, Y1 float64
}

// boxes decodes a reply of the ssd-anchors decoder, best score first.
func boxes(t *testing.T, out inference.Output) []face {
	t.Helper()
	var r struct{ Boxes []face }
	if err := json.Unmarshal(out.Data, &r); err != nil {
		t.Fatalf("%v: %s", err, out.Data)
	}
	sort.Slice(r.Boxes, func(i, j int) bool { return r.Boxes[i].Score > r.Boxes[j].Score })
	return r.Boxes
}

// photoJPEG returns img stretched to w×h as a quality-90 JPEG.
func photoJPEG(t *testing.T, img image.Image, w, h int) []byte {
	t.Helper()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Rect, img, img.Bounds(), xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBlazeFaceSameFacesAsBefore runs BlazeFace on the new preprocessing
// (libjpeg-turbo with DCT scaling, fixed-point resize) and on the old
// pure-Go one (image/jpeg and x/image/draw, fed as a tensor), on the
// astronaut at several camera sizes, mirrored, and on a photograph
// without a face: both must find the same faces, with scores within 0.01
// and boxes within 0.01 of the image's size.
func TestBlazeFaceSameFacesAsBefore(t *testing.T) {
	m, err := Open(cachedModel(t, BlazeFaceModel), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	jpg, portrait := astronaut(t)
	mirrored := image.NewRGBA(portrait.Rect)
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			copy(mirrored.Pix[y*mirrored.Stride+x*4:][:4], portrait.Pix[y*portrait.Stride+(255-x)*4:])
		}
	}
	inputs := []struct {
		name  string
		jpg   []byte
		faces int
	}{
		{"astronaut 256x256", jpg, 1},
		{"astronaut 640x480", photoJPEG(t, portrait, 640, 480), 1},
		{"astronaut 1920x1080", photoJPEG(t, portrait, 1920, 1080), 1},
		{"mirrored 800x600", photoJPEG(t, mirrored, 800, 600), 1},
	}
	if b, err := os.ReadFile("/usr/share/backgrounds/mate/nature/LadyBird.jpg"); err == nil {
		inputs = append(inputs, struct {
			name  string
			jpg   []byte
			faces int
		}{"ladybird 2560x1600", b, 0})
	} else {
		t.Logf("no face-free photograph (scripts/install-deps --test installs mate-backgrounds): %v", err)
	}
	e := inference.NewEngine(m)
	ctx := context.Background()
	for _, in := range inputs {
		out, _, err := e.Run(ctx, inference.Input{Data: in.jpg, Encoding: media.JPEG})
		if err != nil {
			t.Fatal(err)
		}
		now := boxes(t, out)
		tensor, g := legacyInput(t, in.jpg)
		r, err := m.Infer(ctx, []Tensor{{Name: "input:0", Shape: []int64{1, 128, 128, 3}, Data: tensor}})
		if err != nil {
			t.Fatal(err)
		}
		res := r.(*Result)
		res.Geometry = g
		out, err = m.Postprocess(ctx, res)
		if err != nil {
			t.Fatal(err)
		}
		before := boxes(t, out)
		if len(now) != in.faces || len(before) != in.faces {
			t.Fatalf("%s: %d faces now, %d before, want %d", in.name, len(now), len(before), in.faces)
		}
		if in.faces == 0 {
			t.Logf("%s: no face now or before", in.name)
		}
		for i := range now {
			a, b := now[i], before[i]
			d := max(math.Abs(a.X0-b.X0), math.Abs(a.Y0-b.Y0), math.Abs(a.X1-b.X1), math.Abs(a.Y1-b.Y1))
			t.Logf("%s: face %d score %.4f now, %.4f before; box differs by at most %.4f", in.name, i, a.Score, b.Score, d)
			if math.Abs(a.Score-b.Score) > 0.01 || d > 0.01 {
				t.Errorf("%s: face %d now %+v, before %+v", in.name, i, a, b)
			}
		}
	}
}
