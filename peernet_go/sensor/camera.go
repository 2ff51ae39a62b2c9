package sensor

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"strconv"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/peernet/peernet_go/peernet_go/media"
)

// camera is the synthetic-camera sensor. Each frame is a gradient that
// drifts from frame to frame (or the background image), crossed by a moving
// inverted bar, with the frame number in the top-left corner.
type camera struct {
	closer
	w, h    int
	format  string
	quality int
	frame   uint64

	// Pixels are drawn into pix: the RGBA image's buffer for jpeg and png,
	// the raw sample for rgb8 and bgr8. bg, when set, has the same layout.
	pix        []byte
	bpp        int // bytes per pixel of pix
	r, g, b    int // channel offsets within a pixel
	bg         []byte
	pattern    []byte // gradient wider than a frame by patternShift pixels
	rgba       *image.RGBA
	out        bytes.Buffer
	jpegOpts   jpeg.Options
	pngEnc     png.Encoder
	encoding   string
	digitScale int
}

var _ Sensor = (*camera)(nil)

func openCamera(o Options) (Sensor, error) {
	w, h := o.Width, o.Height
	if w == 0 && h == 0 {
		w, h = DefaultWidth, DefaultHeight
	}
	if w < 16 || w > maxSide {
		return nil, fmt.Errorf("sensor: Width %d is outside 16..%d", w, maxSide)
	}
	if h < 16 || h > maxSide {
		return nil, fmt.Errorf("sensor: Height %d is outside 16..%d", h, maxSide)
	}
	quality, err := checkQuality(o.Quality)
	if err != nil {
		return nil, err
	}
	c := &camera{w: w, h: h, format: o.Format, quality: quality, r: 0, g: 1, b: 2}
	if c.format == "" {
		c.format = DefaultFormat
	}
	switch c.format {
	case media.JPEG, media.PNG:
		c.rgba = image.NewRGBA(image.Rect(0, 0, w, h))
		c.pix, c.bpp, c.encoding = c.rgba.Pix, 4, c.format
		for i := 3; i < len(c.pix); i += 4 {
			c.pix[i] = 0xff
		}
		c.jpegOpts.Quality = quality
		c.pngEnc.CompressionLevel = png.BestSpeed
		c.pngEnc.BufferPool = &pngPool{}
	case media.RGB8, media.BGR8:
		raw := media.RawImage{Format: c.format, Width: w, Height: h}
		c.pix, c.bpp, c.encoding = make([]byte, raw.Size()), 3, raw.String()
		if c.format == media.BGR8 {
			c.r, c.b = 2, 0
		}
	default:
		return nil, fmt.Errorf("sensor: synthetic-camera: Format %q: want jpeg, png, rgb8 or bgr8", o.Format)
	}
	c.digitScale = max(2, h/60)
	if o.DatasetLoc != "" {
		if err := c.loadBackground(o.DatasetLoc); err != nil {
			return nil, err
		}
	} else {
		c.drawPattern()
	}
	return c, nil
}

// patternShift is the period, in pixels, of the gradient's drift.
const patternShift = 256

// drawPattern renders a diagonal gradient patternShift pixels wider than
// the frame. Frame f shows it from column f mod patternShift on, so the
// gradient drifts from frame to frame at the cost of a copy.
func (c *camera) drawPattern() {
	pw := c.w + patternShift
	c.pattern = make([]byte, pw*c.h*c.bpp)
	for y := range c.h {
		row := c.pattern[y*pw*c.bpp : (y+1)*pw*c.bpp]
		for x, o := 0, 0; o < len(row); x, o = x+1, o+c.bpp {
			row[o+c.r] = byte(x)
			row[o+c.g] = byte(y)
			row[o+c.b] = byte((x + y) >> 1)
			if c.bpp == 4 {
				row[o+3] = 0xff
			}
		}
	}
}

// loadBackground decodes an image and scales it to the frame size.
func (c *camera) loadBackground(name string) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("sensor: synthetic-camera: background: %w", err)
	}
	enc := sniff(data)
	if enc == "" {
		return fmt.Errorf("sensor: synthetic-camera: background %s: not a JPEG or PNG file", name)
	}
	img, err := decode(enc, data)
	if err != nil {
		return fmt.Errorf("sensor: synthetic-camera: background %s: %w", name, err)
	}
	scaled := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	xdraw.ApproxBiLinear.Scale(scaled, scaled.Rect, img, img.Bounds(), xdraw.Src, nil)
	if c.bpp == 4 {
		c.bg = scaled.Pix
	} else {
		c.bg = make([]byte, len(c.pix))
		packRGB(c.bg, scaled.Pix, c.format == media.BGR8)
	}
	return nil
}

// Sample draws and, for jpeg and png, encodes the next frame.
func (c *camera) Sample(ctx context.Context) (Sample, error) {
	if err := c.check(ctx); err != nil {
		return Sample{}, err
	}
	c.frame++
	c.draw(c.frame)
	data := c.pix
	switch c.format {
	case media.JPEG:
		c.out.Reset()
		if err := jpeg.Encode(&c.out, c.rgba, &c.jpegOpts); err != nil {
			return Sample{}, fmt.Errorf("sensor: synthetic-camera: %w", err)
		}
		data = c.out.Bytes()
	case media.PNG:
		c.out.Reset()
		if err := c.pngEnc.Encode(&c.out, c.rgba); err != nil {
			return Sample{}, fmt.Errorf("sensor: synthetic-camera: %w", err)
		}
		data = c.out.Bytes()
	}
	return Sample{Data: data, Encoding: c.encoding, Time: time.Now()}, nil
}

// Close marks the sensor closed.
func (c *camera) Close() error {
	c.closed = true
	return nil
}

// draw renders frame f into c.pix.
func (c *camera) draw(f uint64) {
	w, bpp, pix := c.w, c.bpp, c.pix
	stride := w * bpp
	if c.bg != nil {
		copy(pix, c.bg)
	} else {
		pstride := (w + patternShift) * bpp
		off := int(f%patternShift) * bpp
		for y := range c.h {
			copy(pix[y*stride:(y+1)*stride], c.pattern[y*pstride+off:])
		}
	}
	// A vertical bar, inverted, sweeping left to right.
	barW := max(2, w/40)
	x0 := int(f*uint64(max(1, w/120))) % w
	for y := range c.h {
		row := pix[y*stride : (y+1)*stride]
		for x := x0; x < min(x0+barW, w); x++ {
			o := x * bpp
			row[o+c.r] ^= 0xff
			row[o+c.g] ^= 0xff
			row[o+c.b] ^= 0xff
		}
	}
	c.drawCounter(f)
}

// digits are 3×5 bitmaps of 0–9, row by row, most significant bit first.
var digits = [10]uint16{
	0b111_101_101_101_111, 0b010_110_010_010_111, 0b111_001_111_100_111,
	0b111_001_111_001_111, 0b101_101_111_001_001, 0b111_100_111_001_111,
	0b111_100_111_101_111, 0b111_001_001_001_001, 0b111_101_111_101_111,
	0b111_101_111_001_111,
}

// drawCounter writes the frame number, white on black, in the top-left
// corner.
func (c *camera) drawCounter(f uint64) {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], f, 10)
	sc := c.digitScale
	cellW := 4 * sc
	boxW := min(c.w, len(s)*cellW+sc)
	boxH := min(c.h, 7*sc)
	for y := range boxH {
		for x := range boxW {
			on := false
			gx, gy := (x-sc)/sc, (y-sc)/sc
			if x >= sc && y >= sc && gy < 5 {
				d, col := gx/4, gx%4
				if d < len(s) && col < 3 {
					on = digits[s[d]-'0']>>(14-(gy*3+col))&1 == 1
				}
			}
			v := byte(0)
			if on {
				v = 0xff
			}
			o := y*c.w*c.bpp + x*c.bpp
			c.pix[o+c.r], c.pix[o+c.g], c.pix[o+c.b] = v, v, v
		}
	}
}

// pngPool lets the PNG encoder reuse its buffers from frame to frame.
type pngPool struct{ b *png.EncoderBuffer }

func (p *pngPool) Get() *png.EncoderBuffer  { return p.b }
func (p *pngPool) Put(b *png.EncoderBuffer) { p.b = b }
