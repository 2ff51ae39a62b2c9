package vision

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// tiny is a 2×2 rgb8 image: red, green / blue, white.
var tiny = []byte{
	255, 0, 0, 0, 255, 0,
	0, 0, 255, 255, 255, 255,
}

func newPipeline(t testing.TB, cfg Config) *Pipeline {
	t.Helper()
	p, err := NewPipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPipelineLayouts(t *testing.T) {
	enc := media.RawImage{Format: media.RGB8, Width: 2, Height: 2}.String()
	for _, c := range []struct {
		name string
		cfg  Config
		want []float32
	}{
		{"NCHW RGB", Config{Width: 2, Height: 2, Scale: 1}, []float32{
			255, 0, 0, 255, // R plane
			0, 255, 0, 255, // G plane
			0, 0, 255, 255, // B plane
		}},
		{"NHWC RGB", Config{Width: 2, Height: 2, Layout: NHWC, Scale: 1}, []float32{
			255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255,
		}},
		{"NHWC BGR", Config{Width: 2, Height: 2, Layout: NHWC, Color: BGR, Scale: 1}, []float32{
			0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255,
		}},
		{"NCHW BGR", Config{Width: 2, Height: 2, Color: BGR, Scale: 1}, []float32{
			0, 0, 255, 255, 0, 255, 0, 255, 255, 0, 0, 255,
		}},
		{"gray", Config{Width: 2, Height: 2, Color: Gray, Scale: 1}, []float32{76, 150, 29, 255}},
		{"[-1,1]", Config{Width: 2, Height: 2, Layout: NHWC, Scale: 1 / 127.5, Mean: []float32{1}}, []float32{
			1, -1, -1, -1, 1, -1, -1, -1, 1, 1, 1, 1,
		}},
		{"mean/std", Config{Width: 2, Height: 2, Mean: []float32{0.5, 0, 1}, Std: []float32{0.5, 1, 2}}, []float32{
			1, -1, -1, 1,
			0, 1, 0, 1,
			-0.5, -0.5, 0, 0,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPipeline(t, c.cfg)
			g, err := p.Run(tiny, enc)
			if err != nil {
				t.Fatal(err)
			}
			if g != (Geometry{Width: 2, Height: 2, ScaleX: 1, ScaleY: 1}) {
				t.Errorf("geometry %+v", g)
			}
			got := p.Tensor()
			if len(got) != len(c.want) {
				t.Fatalf("tensor has %d values, want %d", len(got), len(c.want))
			}
			for i := range got {
				if math.Abs(float64(got[i]-c.want[i])) > 1e-5 {
					t.Fatalf("tensor = %v, want %v", got, c.want)
				}
			}
			shape := p.Shape()
			if n := shape[0] * shape[1] * shape[2] * shape[3]; n != int64(len(got)) || shape[0] != 1 {
				t.Errorf("shape %v for %d values", shape, len(got))
			}
		})
	}
}

// uniform returns a w×h image of one colour in every encoding the pipeline
// reads.
func uniform(t testing.TB, w, h int, c color.RGBA) map[string][]byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rgb := make([]byte, 0, w*h*3)
	bgr := make([]byte, 0, w*h*3)
	gray := make([]byte, 0, w*h)
	for i := 0; i < w*h; i++ {
		img.Pix[i*4], img.Pix[i*4+1], img.Pix[i*4+2], img.Pix[i*4+3] = c.R, c.G, c.B, 255
		rgb = append(rgb, c.R, c.G, c.B)
		bgr = append(bgr, c.B, c.G, c.R)
		gray = append(gray, c.G)
	}
	var pb, jb bytes.Buffer
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	// A ROS image whose rows are padded to a multiple of 16 bytes.
	step := (w*3 + 15) &^ 15
	padded := make([]byte, step*h)
	for y := 0; y < h; y++ {
		copy(padded[y*step:], bgr[y*w*3:(y+1)*w*3])
	}
	return map[string][]byte{
		media.PNG:  pb.Bytes(),
		media.JPEG: jb.Bytes(),
		media.RawImage{Format: media.RGB8, Width: w, Height: h}.String(): rgb,
		media.RawImage{Format: media.BGR8, Width: w, Height: h}.String(): bgr,
		rosImageEnc:      cdr.Marshal(&cdr.Image{Height: uint32(h), Width: uint32(w), Encoding: media.BGR8, Step: uint32(step), Data: padded}),
		rosCompressedEnc: cdr.Marshal(&cdr.CompressedImage{Format: "png", Data: pb.Bytes()}),
		media.RawImage{Format: media.Mono8, Width: w, Height: h}.String(): gray,
	}
}

func TestPipelineEncodingsAndInterpolations(t *testing.T) {
	c := color.RGBA{200, 100, 50, 255}
	samples := uniform(t, 64, 48, c)
	for _, interp := range []Interpolation{Nearest, ApproxBiLinear, BiLinear, CatmullRom} {
		for _, resize := range []Resize{Stretch, Letterbox} {
			p := newPipeline(t, Config{Width: 16, Height: 16, Layout: NHWC, Scale: 1, Interpolation: interp, Resize: resize})
			for enc, data := range samples {
				g, err := p.Run(data, enc)
				if err != nil {
					t.Fatalf("%s: %v", enc, err)
				}
				if g.Width != 64 || g.Height != 48 {
					t.Errorf("%s: geometry %+v", enc, g)
				}
				want := [3]float32{200, 100, 50}
				if strings.HasPrefix(enc, media.Mono8) {
					want = [3]float32{100, 100, 100}
				}
				tol := float32(1)
				if enc == media.JPEG {
					tol = 4
				}
				// Check the centre row, which the image covers in both modes.
				row := p.Tensor()[8*16*3 : 9*16*3]
				for i, v := range row {
					if d := v - want[i%3]; d > tol || d < -tol {
						t.Fatalf("%s %s %s: centre row %v, want %v", interp, resize, enc, row, want)
					}
				}
			}
		}
	}
}

func TestPipelineLetterbox(t *testing.T) {
	p := newPipeline(t, Config{Width: 8, Height: 8, Resize: Letterbox, Scale: 1, Mean: []float32{10}})
	// 16×8 white: scaled to 8×4, centred vertically with 2 black rows above
	// and below.
	white := bytes.Repeat([]byte{255}, 16*8*3)
	g, err := p.Run(white, "rgb8:16x8")
	if err != nil {
		t.Fatal(err)
	}
	if g != (Geometry{Width: 16, Height: 8, OffsetX: 0, OffsetY: 0.25, ScaleX: 1, ScaleY: 0.5}) {
		t.Fatalf("geometry %+v", g)
	}
	for y := 0; y < 8; y++ {
		want := float32(-10)
		if y >= 2 && y < 6 {
			want = 245
		}
		for x := 0; x < 8; x++ {
			if v := p.Tensor()[y*8+x]; v != want {
				t.Fatalf("R(%d,%d) = %v, want %v", x, y, v, want)
			}
		}
	}
	if x, y := g.ToSource(0.5, 0.25); x != 0.5 || y != 0 {
		t.Errorf("ToSource(0.5, 0.25) = %v, %v", x, y)
	}
	if x, y := g.ToSource(1, 0.75); x != 1 || y != 1 {
		t.Errorf("ToSource(1, 0.75) = %v, %v", x, y)
	}
	// A later stretched-size sample leaves no stale content: the same
	// pipeline letterboxes an 8×16 image with black columns.
	g, err = p.Run(white, "rgb8:8x16")
	if err != nil {
		t.Fatal(err)
	}
	if g.OffsetX != 0.25 || g.OffsetY != 0 || p.Tensor()[0] != -10 || p.Tensor()[3] != 245 {
		t.Fatalf("portrait: %+v, first row %v", g, p.Tensor()[:8])
	}
	var zero Geometry
	if x, y := zero.ToSource(0.3, 0.7); x != 0.3 || y != 0.7 {
		t.Errorf("zero geometry maps (0.3, 0.7) to (%v, %v)", x, y)
	}
}

// jpegBomb returns the header of a greyscale JPEG that claims 60000×60000
// pixels: a frame header and a scan header, and no data.
func jpegBomb() []byte {
	return []byte{
		0xff, 0xd8, // SOI
		0xff, 0xc0, 0, 11, 8, 0xea, 0x60, 0xea, 0x60, 1, 1, 0x11, 0, // SOF0: 8 bits, 60000×60000, 1 component
		0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0, // SOS: component 1, spectral 0..63
	}
}

func TestPipelineErrors(t *testing.T) {
	p := newPipeline(t, Config{Width: 4, Height: 4, MaxPixels: 100 * 100})
	bomb := jpegBomb()
	var big bytes.Buffer
	if err := png.Encode(&big, image.NewGray(image.Rect(0, 0, 101, 100))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, enc string
		data      []byte
		want      string
	}{
		{"unknown", "gif", nil, `unsupported sample encoding "gif"`},
		{"short raw", "rgb8:4x4", make([]byte, 47), "have 47 bytes, want 48"},
		{"bad raw", "rgb8:4", nil, "bad image size"},
		{"bad format", "yuv422:4x4", nil, "unknown pixel format"},
		{"jpeg bomb", media.JPEG, bomb, "60000x60000 exceeds max_pixels 10000"},
		{"png too big", media.PNG, big.Bytes(), "101x100 exceeds max_pixels"},
		{"not jpeg", media.JPEG, []byte("GIF89a"), "decode jpeg: invalid JPEG format: missing SOI marker"},
		{"not png", media.PNG, []byte("GIF89a\x01\x00\x01\x00"), "decode png: png: invalid format: not a PNG file"},
		{"truncated jpeg", media.JPEG, []byte{0xff, 0xd8, 0xff, 0xc0, 0, 11, 8}, "decode jpeg: unexpected EOF"},
		{"corrupt jpeg", media.JPEG, append(append([]byte{}, bomb[:5]...), 11, 8, 0, 4, 0, 4, 1, 1, 0x11, 0, 0xff, 0xda), "decode jpeg"},
		{"ros type", media.ROS("sensor_msgs/msg/PointCloud2"), nil, "unsupported ROS message"},
	} {
		_, err := p.Run(c.data, c.enc)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line containing %q", c.name, err, c.want)
		}
	}
	if _, err := p.Image(image.NewRGBA(image.Rectangle{})); err == nil {
		t.Error("empty image accepted")
	}
}

func TestConfigInitialize(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Height: 4}, "width: must be in 1..16384, got 0"},
		{Config{Width: 4}, "height: must be in 1..16384, got 0"},
		{Config{Width: 4, Height: 4, Layout: "CHW"}, `layout: must be NCHW or NHWC, got "CHW"`},
		{Config{Width: 4, Height: 4, Color: "YUV"}, `color: must be RGB, BGR or GRAY, got "YUV"`},
		{Config{Width: 4, Height: 4, Mean: []float32{1, 2}}, "mean: want 1 or 3 values, got 2"},
		{Config{Width: 4, Height: 4, Std: []float32{1, 0, 1}}, "std: value 1 is zero"},
		{Config{Width: 4, Height: 4, Std: []float32{float32(math.NaN())}}, "std: value 0 is not finite"},
		{Config{Width: 4, Height: 4, Scale: float32(math.Inf(1))}, "scale: must be finite"},
		{Config{Width: 4, Height: 4, Resize: "crop"}, `resize: must be stretch or letterbox, got "crop"`},
		{Config{Width: 4, Height: 4, Interpolation: "lanczos"}, "interpolation: must be"},
		{Config{Width: 4, Height: 4, MaxPixels: -1}, "max_pixels: must be positive"},
	} {
		err := c.cfg.Initialize()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	c := Config{Width: 4, Height: 4, Layout: "nhwc", Color: "bgr"}
	if err := c.Initialize(); err != nil {
		t.Fatal(err)
	}
	want := Config{Width: 4, Height: 4, Layout: NHWC, Color: BGR, Scale: 1.0 / 255, Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1},
		Resize: Stretch, Interpolation: BiLinear, MaxPixels: DefaultMaxPixels}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}
}

// FuzzPipeline feeds arbitrary bytes under every encoding: the pipeline
// must return an error or fill the tensor, never panic, and never decode
// an image larger than max_pixels. A ROS sample must be rejected when
// package cdr rejects it, and an accepted sensor_msgs/msg/Image must have
// the message's size and hold every row its step implies.
func FuzzPipeline(f *testing.F) {
	astro, err := os.ReadFile("testdata/astronaut.jpg")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), astro[:600])
	encodings := []string{media.JPEG, media.PNG, "rgb8:5x3", "bgr8:5x3", "mono8:5x3", rosImageEnc, rosCompressedEnc}
	const rosImage, rosCompressed = 5, 6
	samples := uniform(f, 5, 3, color.RGBA{1, 2, 3, 255})
	for i, enc := range encodings {
		f.Add(uint8(i), samples[enc])
	}
	f.Add(uint8(0), []byte{0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 2, 0, 2, 1, 1, 0x11, 0})
	for _, c := range []struct {
		enc       string
		step      int
		shortLast bool
	}{{media.RGB8, 6, false}, {media.BGR8, 8, true}, {media.Mono8, 4, false}, {"rgba8", 12, true}, {"bgra8", 8, false}} {
		m := &cdr.Image{Header: cdr.Header{FrameID: "cam"}, Height: 2, Width: 2, Encoding: c.enc, Step: uint32(c.step), Data: rosPixels(f, c.enc, c.step, c.shortLast)}
		f.Add(uint8(rosImage), cdr.Marshal(m))
		f.Add(uint8(rosImage), cdr.MarshalAppend(nil, m, true))
	}
	f.Add(uint8(rosCompressed), cdr.MarshalAppend(nil, &cdr.CompressedImage{Format: "jpeg", Data: astro[:600]}, true))
	p, err := NewPipeline(Config{Width: 8, Height: 8, MaxPixels: 64 * 64})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		i := int(which) % len(encodings)
		enc := encodings[i]
		g, err := p.Run(data, enc)
		var msg cdr.Message
		var cdrErr error
		if i == rosImage || i == rosCompressed {
			msg, cdrErr = cdr.Decode(strings.TrimPrefix(enc, "cdr:"), data)
			if cdrErr != nil && err == nil {
				t.Fatalf("%s: accepted a message that cdr rejects: %v", enc, cdrErr)
			}
		}
		if err != nil {
			return
		}
		if g.Width*g.Height > 64*64 || g.Width <= 0 || g.Height <= 0 {
			t.Fatalf("%s: decoded %dx%d", enc, g.Width, g.Height)
		}
		switch m := msg.(type) {
		case *cdr.Image:
			if g.Width != int(m.Width) || g.Height != int(m.Height) {
				t.Fatalf("%s: decoded %dx%d from a %dx%d message", enc, g.Width, g.Height, m.Width, m.Height)
			}
			if need := int64(m.Step)*int64(m.Height-1) + int64(m.Width); int64(len(m.Data)) < need {
				t.Fatalf("%s: accepted %d bytes of data for %dx%d with step %d", enc, len(m.Data), m.Width, m.Height, m.Step)
			}
		case nil:
			if i >= 2 && i <= 4 && (g.Width != 5 || g.Height != 3) {
				t.Fatalf("%s: decoded %dx%d", enc, g.Width, g.Height)
			}
		}
	})
}
