package vision_test

import (
	"fmt"
	"os"
	"slices"

	"github.com/peernet/peernet_go/peernet_go/inference/vision"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// A 4×2 raw camera frame becomes a 2×2 NCHW tensor in [0, 1].
func ExamplePipeline() {
	p, err := vision.NewPipeline(vision.Config{Width: 2, Height: 2, Interpolation: vision.Nearest})
	if err != nil {
		fmt.Println(err)
		return
	}
	frame := make([]byte, 4*2*3) // rgb8, 4×2, all red
	for i := 0; i < len(frame); i += 3 {
		frame[i] = 255
	}
	g, err := p.Run(frame, media.RawImage{Format: media.RGB8, Width: 4, Height: 2}.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Shape(), p.Tensor())
	fmt.Printf("source %dx%d\n", g.Width, g.Height)
	// Output:
	// [1 3 2 2] [1 1 1 1 0 0 0 0 0 0 0 0]
	// source 4x2
}

// Decoding a detector's output: one 32×32 input, one head of 2×2 cells with
// one anchor each; the anchor at cell (1, 0) saw a 16×16-pixel object.
func ExampleSSDDecoder() {
	d, err := vision.NewSSDDecoder(vision.SSDConfig{
		InputWidth: 32, InputHeight: 32, ScoreThreshold: 0.5, Activation: vision.ActivationNone,
		Heads: []vision.SSDHead{{Strides: []int{16}, Anchors: []int{1}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	scores := []float32{0.1, 0.9, 0.2, 0.1}
	boxes := make([]float32, 4*4) // per anchor: dx, dy, w, h in input pixels
	copy(boxes[4:], []float32{0, 0, 16, 16})
	found, err := d.Decode([][]float32{scores}, [][]float32{boxes}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(vision.AppendBoxesJSON(nil, found)))
	// Output:
	// {"boxes":[{"score":0.9,"x0":0.5,"y0":0,"x1":1,"y1":0.5}]}
}

// A camera JPEG becomes BlazeFace's input, 128×128 NHWC RGB in [-1, 1].
// With cgo, libjpeg-turbo decodes the 256×256 image at half size, and the
// resize does the rest.
func ExamplePipeline_jpeg() {
	jpg, err := os.ReadFile("testdata/astronaut.jpg")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := vision.NewPipeline(vision.Config{Width: 128, Height: 128, Layout: vision.NHWC,
		Scale: 1 / 127.5, Mean: []float32{1}})
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := p.Run(jpg, media.JPEG)
	if err != nil {
		fmt.Println(err)
		return
	}
	lo, hi := slices.Min(p.Tensor()), slices.Max(p.Tensor())
	fmt.Println(p.Shape(), "from", g.Width, "x", g.Height)
	fmt.Println(lo >= -1 && hi <= 1)
	// Output:
	// [1 128 128 3] from 256 x 256
	// true
}
