package vision

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"strings"

	"golang.org/x/image/draw"

	"github.com/peernet/peernet_go/peernet_go/cdr"
)

// Layout is the order of a tensor's dimensions.
type Layout string

// Tensor layouts. The batch dimension is always 1.
const (
	// NCHW is [1, channels, height, width] (PyTorch, PaddlePaddle).
	NCHW Layout = "NCHW"
	// NHWC is [1, height, width, channels] (TensorFlow, MediaPipe).
	NHWC Layout = "NHWC"
)

// Color is the channel order a model expects.
type Color string

// Channel orders.
const (
	// RGB is red, green, blue.
	RGB Color = "RGB"
	// BGR is blue, green, red (OpenCV-trained models).
	BGR Color = "BGR"
	// Gray is one luminance channel (ITU-R BT.601 weights, as image/color).
	Gray Color = "GRAY"
)

// Resize says how a source image of another aspect ratio fits the input.
type Resize string

// Resize modes.
const (
	// Stretch scales each axis independently to fill the input.
	Stretch Resize = "stretch"
	// Letterbox keeps the aspect ratio, centres the image and pads the rest
	// with black.
	Letterbox Resize = "letterbox"
)

// Interpolation names a resampling filter of golang.org/x/image/draw.
type Interpolation string

// Interpolations, fastest first.
const (
	// Nearest picks the nearest source pixel.
	Nearest Interpolation = "nearest"
	// ApproxBiLinear blends the 2×2 nearest source pixels (fast, aliases
	// when shrinking a lot).
	ApproxBiLinear Interpolation = "approx-bilinear"
	// BiLinear is the tent filter, widened when shrinking (the default).
	BiLinear Interpolation = "bilinear"
	// CatmullRom is the Catmull-Rom cubic filter (sharpest, slowest).
	CatmullRom Interpolation = "catmull-rom"
)

// DefaultMaxPixels is the default limit on a decoded image's width × height.
const DefaultMaxPixels = 1 << 25

// Config describes a model's image input. The YAML keys are those of the
// input section of a model spec.
type Config struct {
	// Width and Height are the input's size in pixels. Required.
	Width  int `yaml:"width,omitempty"`
	Height int `yaml:"height,omitempty"`
	// Layout is NCHW or NHWC. It defaults to NCHW.
	Layout Layout `yaml:"layout,omitempty"`
	// Color is the channel order: RGB, BGR or GRAY. It defaults to RGB.
	Color Color `yaml:"color,omitempty"`
	// Scale multiplies each 0..255 pixel value before Mean and Std apply:
	// value = (pixel*Scale - Mean[c]) / Std[c]. It defaults to 1/255.
	Scale float32 `yaml:"scale,omitempty"`
	// Mean is subtracted per channel, in the tensor's channel order; one
	// value applies to every channel. It defaults to 0.
	Mean []float32 `yaml:"mean,omitempty,flow"`
	// Std divides per channel, in the tensor's channel order; one value
	// applies to every channel. It defaults to 1.
	Std []float32 `yaml:"std,omitempty,flow"`
	// Resize is stretch or letterbox. It defaults to stretch.
	Resize Resize `yaml:"resize,omitempty"`
	// Interpolation is nearest, approx-bilinear, bilinear or catmull-rom.
	// It defaults to bilinear.
	Interpolation Interpolation `yaml:"interpolation,omitempty"`
	// MaxPixels limits the decoded source image (width × height); larger
	// samples are rejected before any pixel buffer is allocated. It defaults
	// to DefaultMaxPixels.
	MaxPixels int `yaml:"max_pixels,omitempty"`
}

// Channels returns the number of channels of the tensor: 1 for Gray, else 3.
func (c *Config) Channels() int {
	if c.Color == Gray {
		return 1
	}
	return 3
}

// Initialize fills in defaults and validates c. Errors start with the YAML
// key of the offending field.
func (c *Config) Initialize() error {
	if c.Width <= 0 || c.Width > 1<<14 {
		return fmt.Errorf("width: must be in 1..16384, got %d", c.Width)
	}
	if c.Height <= 0 || c.Height > 1<<14 {
		return fmt.Errorf("height: must be in 1..16384, got %d", c.Height)
	}
	switch strings.ToUpper(string(c.Layout)) {
	case "":
		c.Layout = NCHW
	case string(NCHW), string(NHWC):
		c.Layout = Layout(strings.ToUpper(string(c.Layout)))
	default:
		return fmt.Errorf("layout: must be NCHW or NHWC, got %q", c.Layout)
	}
	switch strings.ToUpper(string(c.Color)) {
	case "":
		c.Color = RGB
	case string(RGB), string(BGR), string(Gray):
		c.Color = Color(strings.ToUpper(string(c.Color)))
	case "GREY", "MONO":
		c.Color = Gray
	default:
		return fmt.Errorf("color: must be RGB, BGR or GRAY, got %q", c.Color)
	}
	if c.Scale == 0 {
		c.Scale = 1.0 / 255
	}
	if !finite(c.Scale) {
		return fmt.Errorf("scale: must be finite, got %v", c.Scale)
	}
	ch := c.Channels()
	var err error
	if c.Mean, err = perChannel(c.Mean, ch, 0); err != nil {
		return fmt.Errorf("mean: %w", err)
	}
	if c.Std, err = perChannel(c.Std, ch, 1); err != nil {
		return fmt.Errorf("std: %w", err)
	}
	for i, s := range c.Std {
		if s == 0 {
			return fmt.Errorf("std: value %d is zero", i)
		}
	}
	switch c.Resize {
	case "":
		c.Resize = Stretch
	case Stretch, Letterbox:
	default:
		return fmt.Errorf("resize: must be stretch or letterbox, got %q", c.Resize)
	}
	switch c.Interpolation {
	case "":
		c.Interpolation = BiLinear
	case Nearest, ApproxBiLinear, BiLinear, CatmullRom:
	default:
		return fmt.Errorf("interpolation: must be nearest, approx-bilinear, bilinear or catmull-rom, got %q", c.Interpolation)
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = DefaultMaxPixels
	}
	if c.MaxPixels < 0 {
		return fmt.Errorf("max_pixels: must be positive, got %d", c.MaxPixels)
	}
	return nil
}

// perChannel expands v to n values (one value applies to all), or returns def
// for every channel when v is empty. It always returns a fresh slice.
func perChannel(v []float32, n int, def float32) ([]float32, error) {
	out := make([]float32, n)
	switch len(v) {
	case 0:
		for i := range out {
			out[i] = def
		}
	case 1:
		for i := range out {
			out[i] = v[0]
		}
	case n:
		copy(out, v)
	default:
		return nil, fmt.Errorf("want 1 or %d values, got %d", n, len(v))
	}
	for i, x := range out {
		if !finite(x) {
			return nil, fmt.Errorf("value %d is not finite", i)
		}
	}
	return out, nil
}

// Geometry records where the source image landed in the model input, so
// that coordinates the model reports (normalised to its input) can be mapped
// back to the source image.
type Geometry struct {
	// Width and Height are the source image's size in pixels.
	Width, Height int
	// OffsetX and OffsetY are the source's top-left corner and ScaleX and
	// ScaleY its size, as fractions of the input's width and height. A
	// stretched image has offsets 0 and scales 1.
	OffsetX, OffsetY, ScaleX, ScaleY float32
}

// ToSource maps a point normalised to the model input to a point normalised
// to the source image. A zero Geometry maps every point to itself.
func (g *Geometry) ToSource(x, y float32) (float32, float32) {
	if g.ScaleX == 0 || g.ScaleY == 0 {
		return x, y
	}
	return (x - g.OffsetX) / g.ScaleX, (y - g.OffsetY) / g.ScaleY
}

// Pipeline turns samples into an input tensor. It owns the tensor and every
// intermediate buffer and reuses them, so Run allocates no large buffer
// except what the JPEG and PNG decoders of the standard library allocate for
// the decoded image. A Pipeline is used by one goroutine at a time.
type Pipeline struct {
	cfg    Config
	ch     int
	tensor []float32
	lut    [3][256]float32
	first  int // index of the pixel byte (R=0, B=2) feeding tensor channel 0

	dst   *image.RGBA // the resized image, Width × Height
	conv  []byte      // conversion buffer for packed RGB/BGR/BGRA sources
	rgba  image.RGBA  // header over conv or over an rgba8 sample
	gray  image.Gray  // header over a mono8 sample
	rd    bytes.Reader
	dec   cdr.Decoder         // reused for every ROS sample
	rosIm cdr.Image           // the last sensor_msgs/msg/Image, Data cleared
	rosCI cdr.CompressedImage // the last CompressedImage, Data cleared

	interp    draw.Interpolator
	kernel    *draw.Kernel
	scaler    draw.Scaler
	scalerKey [4]int
}

// NewPipeline returns a Pipeline for cfg, after cfg.Initialize.
func NewPipeline(cfg Config) (*Pipeline, error) {
	if err := cfg.Initialize(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, ch: cfg.Channels()}
	p.tensor = make([]float32, cfg.Width*cfg.Height*p.ch)
	p.dst = image.NewRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
	for c := 0; c < p.ch; c++ {
		for v := 0; v < 256; v++ {
			p.lut[c][v] = (float32(v)*cfg.Scale - cfg.Mean[c]) / cfg.Std[c]
		}
	}
	if cfg.Color == BGR {
		p.first = 2
	}
	switch cfg.Interpolation {
	case Nearest:
		p.interp = draw.NearestNeighbor
	case ApproxBiLinear:
		p.interp = draw.ApproxBiLinear
	case BiLinear:
		p.kernel = draw.BiLinear
	case CatmullRom:
		p.kernel = draw.CatmullRom
	}
	return p, nil
}

// Config returns the pipeline's configuration with defaults filled in.
func (p *Pipeline) Config() Config { return p.cfg }

// Tensor returns the input tensor the pipeline fills: Width × Height ×
// channels float32 values in the configured layout. The slice is the same
// on every call; its contents change on every Run.
func (p *Pipeline) Tensor() []float32 { return p.tensor }

// Shape returns the tensor's shape, batch first.
func (p *Pipeline) Shape() []int64 {
	c, h, w := int64(p.ch), int64(p.cfg.Height), int64(p.cfg.Width)
	if p.cfg.Layout == NHWC {
		return []int64{1, h, w, c}
	}
	return []int64{1, c, h, w}
}

// Run decodes one sample of the given encoding (see package media) into the
// tensor and returns where the source image landed in it.
func (p *Pipeline) Run(data []byte, encoding string) (Geometry, error) {
	src, err := p.source(data, encoding)
	if err != nil {
		return Geometry{}, err
	}
	return p.Image(src)
}

// Image resizes and normalises an already decoded image into the tensor.
func (p *Pipeline) Image(src image.Image) (Geometry, error) {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	if sw <= 0 || sh <= 0 {
		return Geometry{}, errors.New("vision: empty image")
	}
	W, H := p.cfg.Width, p.cfg.Height
	r := p.dst.Rect
	g := Geometry{Width: sw, Height: sh, ScaleX: 1, ScaleY: 1}
	if p.cfg.Resize == Letterbox {
		s := min(float64(W)/float64(sw), float64(H)/float64(sh))
		nw := max(1, min(W, int(float64(sw)*s+0.5)))
		nh := max(1, min(H, int(float64(sh)*s+0.5)))
		x0, y0 := (W-nw)/2, (H-nh)/2
		r = image.Rect(x0, y0, x0+nw, y0+nh)
		if r != p.dst.Rect {
			clear(p.dst.Pix)
			for i := 3; i < len(p.dst.Pix); i += 4 {
				p.dst.Pix[i] = 0xff
			}
		}
		g.OffsetX, g.OffsetY = float32(x0)/float32(W), float32(y0)/float32(H)
		g.ScaleX, g.ScaleY = float32(nw)/float32(W), float32(nh)/float32(H)
	}
	switch {
	case sw == r.Dx() && sh == r.Dy():
		draw.Draw(p.dst, r, src, sb.Min, draw.Src)
	case p.kernel != nil:
		// The kernel scalers convert a YCbCr (JPEG) source to RGB once per
		// filter tap; converting the whole image first is several times
		// faster.
		if _, ok := src.(*image.RGBA); !ok {
			src = p.toRGBA(src)
			sb = src.Bounds()
		}
		key := [4]int{r.Dx(), r.Dy(), sw, sh}
		if p.scaler == nil || p.scalerKey != key {
			p.scaler = p.kernel.NewScaler(key[0], key[1], key[2], key[3])
			p.scalerKey = key
		}
		p.scaler.Scale(p.dst, r, src, sb, draw.Src, nil)
	default:
		p.interp.Scale(p.dst, r, src, sb, draw.Src, nil)
	}
	p.fill()
	return g, nil
}

// toRGBA converts src into the pipeline's reused conversion buffer.
func (p *Pipeline) toRGBA(src image.Image) *image.RGBA {
	b := src.Bounds()
	n := b.Dx() * b.Dy() * 4
	if cap(p.conv) < n {
		p.conv = make([]byte, n)
	}
	p.rgba = image.RGBA{Pix: p.conv[:n], Stride: b.Dx() * 4, Rect: b}
	draw.Draw(&p.rgba, b, src, b.Min, draw.Src)
	return &p.rgba
}

// fill converts the resized RGBA image into the tensor.
func (p *Pipeline) fill() {
	pix := p.dst.Pix
	n := p.cfg.Width * p.cfg.Height
	t := p.tensor[:n*p.ch]
	pix = pix[:n*4]
	if p.ch == 1 {
		lut := &p.lut[0]
		for i := 0; i < n; i++ {
			s := pix[i*4 : i*4+3 : i*4+3]
			y := (19595*uint32(s[0]) + 38470*uint32(s[1]) + 7471*uint32(s[2]) + 1<<15) >> 16
			t[i] = lut[uint8(y)]
		}
		return
	}
	l0, l1, l2 := &p.lut[0], &p.lut[1], &p.lut[2]
	c0, c2 := p.first, 2-p.first
	if p.cfg.Layout == NHWC {
		for i := 0; i < n; i++ {
			s := pix[i*4 : i*4+3 : i*4+3]
			d := t[i*3 : i*3+3 : i*3+3]
			d[0] = l0[s[c0]]
			d[1] = l1[s[1]]
			d[2] = l2[s[c2]]
		}
		return
	}
	t0, t1, t2 := t[:n], t[n:2*n], t[2*n:3*n]
	for i := 0; i < n; i++ {
		s := pix[i*4 : i*4+3 : i*4+3]
		t0[i] = l0[s[c0]]
		t1[i] = l1[s[1]]
		t2[i] = l2[s[c2]]
	}
}
