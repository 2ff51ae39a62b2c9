package vision

import (
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// Real photographs from Debian's mate-backgrounds package (scripts/
// install-deps --test installs it): a baseline 2560×1600 JPEG of a ladybird
// and a progressive 1600×1203 JPEG of a flower, both 4:2:0.
const (
	photoLadyBird    = "/usr/share/backgrounds/mate/nature/LadyBird.jpg"
	photoFreshFlower = "/usr/share/backgrounds/mate/nature/FreshFlower.jpg"
)

// decodedByTurbo reports whether libjpeg-turbo decoded the pipeline's
// current frame.
func (p *Pipeline) decodedByTurbo() bool {
	return p.tj != nil && len(p.frame.pix) > 0 && len(p.tj.buf) > 0 && &p.frame.pix[0] == &p.tj.buf[0]
}

// readPhoto returns a photograph installed by a Debian package, or skips.
func readPhoto(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Skipf("photo %s not installed (scripts/install-deps --test installs mate-backgrounds): %v", path, err)
	}
	return b
}

// refAxis returns, for each of dst outputs, the weight of each of src
// source samples (dense, summing to 1), computed from the definitions of
// the interpolations in float64: the outputs span the first extent source
// samples, output i being centred at (i+0.5)×extent/dst and sample j at
// j+0.5.
func refAxis(interp Interpolation, src int, extent float64, dst int) [][]float64 {
	scale := extent / float64(dst)
	out := make([][]float64, dst)
	for i := range out {
		w := make([]float64, src)
		centre := (float64(i) + 0.5) * scale // in the source, pixel j spanning [j, j+1)
		switch {
		case interp == Nearest:
			w[min(int(math.Floor(centre)), src-1)] = 1
		case interp == CatmullRom:
			widen := max(scale, 1)
			for j := range w {
				d := math.Abs(centre-(float64(j)+0.5)) / widen
				switch {
				case d < 1:
					w[j] = 1.5*d*d*d - 2.5*d*d + 1
				case d < 2:
					w[j] = -0.5*d*d*d + 2.5*d*d - 4*d + 2
				}
			}
		case interp == BiLinear && scale > 2: // area
			lo, hi := float64(i)*scale, float64(i+1)*scale
			for j := range w {
				w[j] = max(0, min(hi, float64(j+1))-max(lo, float64(j)))
			}
		default: // linear between the two nearest centres, clamped at the edges
			c := min(max(centre-0.5, 0), float64(src-1))
			j := int(math.Floor(c))
			f := c - float64(j)
			w[j] += 1 - f
			if f > 0 {
				w[j+1] += f
			}
		}
		var sum float64
		for _, v := range w {
			sum += v
		}
		for j := range w {
			w[j] /= sum
		}
		out[i] = w
	}
	return out
}

// refResize resizes the pipeline's current frame into a w×h float64 image
// of 1 or 3 channels (RGB order), in pixel units, without rounding.
func refResize(f *frame, interp Interpolation, w, h, ch int) []float64 {
	// Source values in float64, RGB order, or luma for a gray tensor.
	src := make([]float64, f.w*f.h*ch)
	for y := 0; y < f.h; y++ {
		for x := 0; x < f.w; x++ {
			p := f.pix[y*f.stride+x*f.bpp:]
			r, g, b := float64(p[0]), float64(p[0]), float64(p[0])
			if f.bpp >= 3 {
				r, g, b = float64(p[0]), float64(p[1]), float64(p[2])
				if f.bgr {
					r, b = b, r
				}
			}
			d := src[(y*f.w+x)*ch:]
			if ch == 1 {
				d[0] = (lumaR*r + lumaG*g + lumaB*b) / (1 << 16)
				if f.bpp == 1 {
					d[0] = r
				}
				continue
			}
			d[0], d[1], d[2] = r, g, b
		}
	}
	wx := refAxis(interp, f.w, float64(f.srcW)/float64(f.scale), w)
	wy := refAxis(interp, f.h, float64(f.srcH)/float64(f.scale), h)
	mid := make([]float64, f.h*w*ch) // horizontal pass
	for y := 0; y < f.h; y++ {
		for x := 0; x < w; x++ {
			for j, v := range wx[x] {
				if v == 0 {
					continue
				}
				for c := 0; c < ch; c++ {
					mid[(y*w+x)*ch+c] += v * src[(y*f.w+j)*ch+c]
				}
			}
		}
	}
	out := make([]float64, w*h*ch)
	for y := 0; y < h; y++ {
		for j, v := range wy[y] {
			if v == 0 {
				continue
			}
			for i := 0; i < w*ch; i++ {
				out[y*w*ch+i] += v * mid[j*w*ch+i]
			}
		}
	}
	for i, v := range out {
		out[i] = min(max(v, 0), 255)
	}
	return out
}

// compareWithReference runs sample through a pipeline for cfg (in pixel
// units: Scale 1, no mean or std) and returns the largest difference
// between any tensor value and the float64 reference resize of the same
// decoded pixels, in the tensor's layout and channel order.
func compareWithReference(t *testing.T, cfg Config, data []byte, enc string) (float64, *Pipeline) {
	t.Helper()
	cfg.Scale, cfg.Mean, cfg.Std = 1, nil, nil
	p := newPipeline(t, cfg)
	g, err := p.Run(data, enc)
	if err != nil {
		t.Fatal(err)
	}
	cfg = p.Config()
	r, _ := p.place(g.Width, g.Height)
	ch := cfg.Channels()
	ref := refResize(&p.frame, cfg.Interpolation, r.Dx(), r.Dy(), ch)
	worst := 0.0
	for y := 0; y < cfg.Height; y++ {
		for x := 0; x < cfg.Width; x++ {
			for c := 0; c < ch; c++ {
				want := 0.0 // letterbox padding is black
				if x >= r.Min.X && x < r.Max.X && y >= r.Min.Y && y < r.Max.Y {
					rc := c
					if cfg.Color == BGR {
						rc = 2 - c
					}
					want = ref[((y-r.Min.Y)*r.Dx()+x-r.Min.X)*ch+rc]
				}
				i := (y*cfg.Width+x)*ch + c
				if cfg.Layout == NCHW {
					i = c*cfg.Width*cfg.Height + y*cfg.Width + x
				}
				worst = max(worst, math.Abs(float64(p.Tensor()[i])-want))
			}
		}
	}
	return worst, p
}

// TestResizeMatchesReference checks the fixed-point resampler against the
// float64 reference on real photographs, for each interpolation, layout,
// channel order and resize mode: every tensor value must be within 2 (of
// 255) of the reference resize of the same decoded pixels. With cgo the
// decoded pixels are libjpeg-turbo's, at the DCT scale the pipeline chose.
func TestResizeMatchesReference(t *testing.T) {
	astronaut, err := os.ReadFile("testdata/astronaut.jpg")
	if err != nil {
		t.Fatal(err)
	}
	type sample struct {
		name string
		data []byte
		enc  string
	}
	cases := []struct {
		sample
		cfgs []Config
	}{
		{sample{"astronaut", astronaut, media.JPEG}, []Config{
			{Width: 128, Height: 128, Layout: NHWC},
			{Width: 224, Height: 224, Color: BGR},
			{Width: 64, Height: 48, Color: Gray, Resize: Letterbox},
			{Width: 96, Height: 80, Layout: NHWC, Interpolation: ApproxBiLinear},
			{Width: 100, Height: 60, Interpolation: Nearest, Resize: Letterbox},
			{Width: 90, Height: 90, Layout: NHWC, Color: BGR, Interpolation: CatmullRom},
			{Width: 400, Height: 300, Layout: NHWC}, // enlarging
		}},
		{sample{"ladybird", nil, media.JPEG}, []Config{
			{Width: 128, Height: 128, Layout: NHWC},
			{Width: 640, Height: 480},
			{Width: 300, Height: 300, Layout: NHWC, Color: BGR, Resize: Letterbox},
			{Width: 160, Height: 120, Color: Gray},
		}},
		{sample{"flower (progressive)", nil, media.JPEG}, []Config{
			{Width: 224, Height: 224, Layout: NHWC},
			{Width: 128, Height: 128, Color: BGR, Resize: Letterbox},
			{Width: 77, Height: 53, Layout: NHWC, Interpolation: ApproxBiLinear},
		}},
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.name, func(t *testing.T) {
			switch c.name {
			case "ladybird":
				c.data = readPhoto(t, photoLadyBird)
			case "flower (progressive)":
				c.data = readPhoto(t, photoFreshFlower)
			}
			for _, cfg := range c.cfgs {
				worst, p := compareWithReference(t, cfg, c.data, c.enc)
				cfg = p.Config()
				f := &p.frame
				t.Logf("%dx%d %s %s %s %s: decoded %dx%d at 1/%d (libjpeg-turbo %v), max |diff| %.3f",
					cfg.Width, cfg.Height, cfg.Layout, cfg.Color, cfg.Interpolation, cfg.Resize, f.w, f.h, f.scale, p.decodedByTurbo(), worst)
				if worst > 2 {
					t.Errorf("%+v: max |diff| %.3f from the reference, want at most 2", cfg, worst)
				}
			}
		})
	}

	// Raw and ROS frames: the astronaut as rgb8, and as a bgr8 ROS image
	// with padded rows.
	p := newPipeline(t, Config{Width: 256, Height: 256, Layout: NHWC, Scale: 1})
	if _, err := p.Run(astronaut, media.JPEG); err != nil {
		t.Fatal(err)
	}
	rgb := slices.Clone(p.Tensor())
	pix := make([]byte, len(rgb))
	for i, v := range rgb {
		pix[i] = byte(v)
	}
	const step = 256*3 + 20
	bgr := make([]byte, step*256)
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			s, d := pix[(y*256+x)*3:], bgr[y*step+x*3:]
			d[0], d[1], d[2] = s[2], s[1], s[0]
		}
	}
	ros := cdr.Marshal(&cdr.Image{Height: 256, Width: 256, Encoding: media.BGR8, Step: step, Data: bgr})
	for _, cfg := range []Config{
		{Width: 128, Height: 128, Layout: NHWC},
		{Width: 50, Height: 70, Color: BGR, Resize: Letterbox},
		{Width: 31, Height: 17, Color: Gray, Interpolation: CatmullRom},
	} {
		for _, s := range []sample{{"rgb8", pix, "rgb8:256x256"}, {"ros bgr8", ros, rosImageEnc}} {
			worst, _ := compareWithReference(t, cfg, s.data, s.enc)
			t.Logf("%s to %dx%d %s: max |diff| %.3f", s.name, cfg.Width, cfg.Height, cfg.Interpolation, worst)
			if worst > 2 {
				t.Errorf("%s, %+v: max |diff| %.3f from the reference, want at most 2", s.name, cfg, worst)
			}
		}
	}
}

// TestResizeProperties: on random images of random sizes and formats, any
// interpolation and layout, the resampler stays within 2 of the float64
// reference, and a uniform image gives exactly its colour.
func TestResizeProperties(t *testing.T) {
	interps := []Interpolation{Nearest, ApproxBiLinear, BiLinear, CatmullRom}
	rapid.Check(t, func(rt *rapid.T) {
		sw, sh := rapid.IntRange(1, 60).Draw(rt, "sw"), rapid.IntRange(1, 60).Draw(rt, "sh")
		format := rapid.SampledFrom([]string{media.RGB8, media.BGR8, media.Mono8, "rgba8", "bgra8"}).Draw(rt, "format")
		bpp := map[string]int{media.RGB8: 3, media.BGR8: 3, media.Mono8: 1, "rgba8": 4, "bgra8": 4}[format]
		step := sw*bpp + rapid.IntRange(0, 7).Draw(rt, "padding")
		uniform := rapid.Bool().Draw(rt, "uniform")
		pix := rapid.SliceOfN(rapid.Byte(), step*sh, step*sh).Draw(rt, "pix")
		if uniform {
			px := rapid.SliceOfN(rapid.Byte(), bpp, bpp).Draw(rt, "colour")
			for i := range pix {
				pix[i] = px[(i%step)%bpp]
			}
		}
		cfg := Config{
			Width: rapid.IntRange(1, 50).Draw(rt, "w"), Height: rapid.IntRange(1, 50).Draw(rt, "h"),
			Layout:        rapid.SampledFrom([]Layout{NCHW, NHWC}).Draw(rt, "layout"),
			Color:         rapid.SampledFrom([]Color{RGB, BGR, Gray}).Draw(rt, "color"),
			Interpolation: rapid.SampledFrom(interps).Draw(rt, "interp"),
			Resize:        rapid.SampledFrom([]Resize{Stretch, Letterbox}).Draw(rt, "resize"),
			Scale:         1,
		}
		msg := &cdr.Image{Height: uint32(sh), Width: uint32(sw), Encoding: format, Step: uint32(step), Data: pix}
		p := newPipeline(t, cfg)
		if _, err := p.Run(cdr.Marshal(msg), rosImageEnc); err != nil {
			rt.Fatal(err)
		}
		cfg = p.Config()
		r, _ := p.place(sw, sh)
		ch := cfg.Channels()
		ref := refResize(&p.frame, cfg.Interpolation, r.Dx(), r.Dy(), ch)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				for c := 0; c < ch; c++ {
					rc := c
					if cfg.Color == BGR {
						rc = 2 - c
					}
					want := ref[((y-r.Min.Y)*r.Dx()+x-r.Min.X)*ch+rc]
					i := (y*cfg.Width+x)*ch + c
					if cfg.Layout == NCHW {
						i = c*cfg.Width*cfg.Height + y*cfg.Width + x
					}
					got := float64(p.Tensor()[i])
					if uniform && format != "rgba8" && format != "bgra8" && cfg.Color != Gray && got != math.Round(want) {
						rt.Fatalf("uniform image: tensor[%d] = %v, want %v", i, got, want)
					}
					if math.Abs(got-want) > 2 {
						rt.Fatalf("%s %s: tensor[%d] (x %d, y %d, c %d) = %v, reference %v", format, fmt.Sprint(cfg), i, x, y, c, got, want)
					}
				}
			}
		}
	})
}

// TestTapsInvariants checks what the passes rely on, for every filter and
// many sizes, at full and reduced (DCT) scale: the weights of each output
// sum to exactly one, starts never decrease and every tap lies in the
// source.
func TestTapsInvariants(t *testing.T) {
	var tp taps
	var wf []float64
	for _, f := range []filter{filterNearest, filterLinear, filterBilinear, filterCubic} {
		for src := 1; src <= 40; src++ {
			for dst := 1; dst <= 40; dst++ {
				for _, scale := range []int{1, 2, 4, 8} {
					ext := src * scale
					if scale > 1 {
						ext -= scale - 1 // the last reduced sample is partly padding
					}
					k := tapsKey{f, src, dst, ext, scale}
					wf = tp.make(k, wf)
					for i := 0; i < dst; i++ {
						s := int(tp.start[i])
						if s < 0 || s+tp.n > src || i > 0 && s < int(tp.start[i-1]) {
							t.Fatalf("%+v: output %d starts at %d with %d taps (previous start %d)", k, i, s, tp.n, tp.start[max(i-1, 0)])
						}
						var sum int32
						for _, w := range tp.w[i*tp.n : (i+1)*tp.n] {
							sum += w
						}
						if sum != 1<<weightBits {
							t.Fatalf("%+v: output %d weights %v sum to %d", k, i, tp.w[i*tp.n:(i+1)*tp.n], sum)
						}
					}
				}
			}
		}
	}
}
