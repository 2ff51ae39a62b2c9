package vision

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"strings"

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

// Interpolation names a resampling filter. Pixel centres are aligned:
// input pixel i of n across a source of size s samples the source at
// (i+0.5)×s/n, source pixel j being centred at j+0.5.
type Interpolation string

// Interpolations, fastest first.
const (
	// Nearest picks the nearest source pixel.
	Nearest Interpolation = "nearest"
	// ApproxBiLinear blends the 2×2 nearest source pixels (fast, aliases
	// when shrinking a lot).
	ApproxBiLinear Interpolation = "approx-bilinear"
	// BiLinear blends the 2×2 nearest source pixels when enlarging or
	// shrinking by up to 2× along an axis, and beyond averages the source
	// pixels each input pixel covers, weighted by the area they share (as
	// OpenCV's INTER_AREA), so that shrinking does not alias. The two
	// agree at exactly 2×. It is the default.
	BiLinear Interpolation = "bilinear"
	// CatmullRom is the Catmull-Rom cubic filter, widened when shrinking
	// (sharpest, slowest).
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
// intermediate buffer and reuses them: once it has seen a sample of a given
// size, decoding a JPEG with libjpeg-turbo or reading a raw or ROS image,
// and resizing it, allocates nothing. PNG samples, and the JPEG samples the
// standard library decodes (see the package documentation), allocate the
// decoded image. A Pipeline is used by one goroutine at a time.
type Pipeline struct {
	cfg    Config
	ch     int
	tensor []float32
	out    out
	rs     resampler

	frame frame               // the decoded sample
	conv  []byte              // RGBA conversion buffer for other image types
	rgba  image.RGBA          // header over conv
	rd    bytes.Reader        // over the sample, for the standard decoders
	dec   cdr.Decoder         // reused for every ROS sample
	rosIm cdr.Image           // the last sensor_msgs/msg/Image, Data cleared
	rosCI cdr.CompressedImage // the last CompressedImage, Data cleared
	tj    *turboDecoder       // libjpeg-turbo, made on the first JPEG
}

// NewPipeline returns a Pipeline for cfg, after cfg.Initialize.
func NewPipeline(cfg Config) (*Pipeline, error) {
	if err := cfg.Initialize(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, ch: cfg.Channels()}
	p.tensor = make([]float32, cfg.Width*cfg.Height*p.ch)
	p.out = out{t: p.tensor, w: cfg.Width, h: cfg.Height, ch: p.ch, nhwc: cfg.Layout == NHWC, bgr: cfg.Color == BGR}
	// value = (pixel*Scale - Mean) / Std, with pixel = sample / 2^outBits.
	for c := 0; c < p.ch; c++ {
		p.out.mul[c] = cfg.Scale / cfg.Std[c] / (1 << outBits)
		p.out.add[c] = -cfg.Mean[c] / cfg.Std[c]
	}
	switch cfg.Interpolation {
	case Nearest:
		p.rs.f = filterNearest
	case ApproxBiLinear:
		p.rs.f = filterLinear
	case BiLinear:
		p.rs.f = filterBilinear
	case CatmullRom:
		p.rs.f = filterCubic
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
	if err := p.source(data, encoding); err != nil {
		return Geometry{}, err
	}
	return p.resize(&p.frame), nil
}

// Image resizes and normalises an already decoded image into the tensor.
// *image.RGBA and *image.Gray images are read where they lie; other types
// are first converted to RGBA in a buffer the pipeline reuses.
func (p *Pipeline) Image(src image.Image) (Geometry, error) {
	if err := p.imageFrame(src); err != nil {
		return Geometry{}, err
	}
	return p.resize(&p.frame), nil
}

// imageFrame makes p.frame a view of src, converting it to RGBA unless it
// is RGBA or Gray already.
func (p *Pipeline) imageFrame(src image.Image) error {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return errors.New("vision: empty image")
	}
	switch m := src.(type) {
	case *image.RGBA:
		p.frame.setPacked(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], w, h, m.Stride, 4, false)
		return nil
	case *image.Gray:
		p.frame.setPacked(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], w, h, m.Stride, 1, false)
		return nil
	}
	n := w * h * 4
	if cap(p.conv) < n {
		p.conv = make([]byte, n)
	}
	p.rgba = image.RGBA{Pix: p.conv[:n], Stride: w * 4, Rect: b}
	draw.Draw(&p.rgba, b, src, b.Min, draw.Src)
	p.frame.setPacked(p.rgba.Pix, w, h, p.rgba.Stride, 4, false)
	return nil
}

// place returns the rectangle of the input that a sw×sh source image fills
// and the matching Geometry.
func (p *Pipeline) place(sw, sh int) (image.Rectangle, Geometry) {
	W, H := p.cfg.Width, p.cfg.Height
	g := Geometry{Width: sw, Height: sh, ScaleX: 1, ScaleY: 1}
	if p.cfg.Resize != Letterbox {
		return image.Rect(0, 0, W, H), g
	}
	s := min(float64(W)/float64(sw), float64(H)/float64(sh))
	nw := max(1, min(W, int(float64(sw)*s+0.5)))
	nh := max(1, min(H, int(float64(sh)*s+0.5)))
	x0, y0 := (W-nw)/2, (H-nh)/2
	g.OffsetX, g.OffsetY = float32(x0)/float32(W), float32(y0)/float32(H)
	g.ScaleX, g.ScaleY = float32(nw)/float32(W), float32(nh)/float32(H)
	return image.Rect(x0, y0, x0+nw, y0+nh), g
}

// resize resamples f into the tensor.
func (p *Pipeline) resize(f *frame) Geometry {
	r, g := p.place(f.srcW, f.srcH)
	o := &p.out
	o.x0, o.y0, o.dw, o.dh = r.Min.X, r.Min.Y, r.Dx(), r.Dy()
	p.rs.resize(f, o)
	return g
}
