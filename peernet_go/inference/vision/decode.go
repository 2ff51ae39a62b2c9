package vision

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// source decodes a sample into p.frame, reusing the pipeline's buffers
// where the format allows and reading raw pixels where they lie.
func (p *Pipeline) source(data []byte, enc string) error {
	switch enc {
	case media.JPEG:
		return p.decodeJPEG(data)
	case media.PNG:
		return p.decodePNG(data)
	}
	if t, ok := media.ROSType(enc); ok {
		switch t {
		case cdr.TypeImage:
			return p.rosImage(data)
		case cdr.TypeCompressedImage:
			return p.rosCompressedImage(data)
		}
		return fmt.Errorf("vision: unsupported ROS message %s (want %s or %s)", t, cdr.TypeImage, cdr.TypeCompressedImage)
	}
	if strings.Contains(enc, ":") {
		ri, err := media.ParseRawImage(enc)
		if err != nil {
			return fmt.Errorf("vision: %w", err)
		}
		return p.raw(ri.Format, ri.Width, ri.Height, ri.Width*ri.Channels(), data)
	}
	return fmt.Errorf("vision: unsupported sample encoding %q (want jpeg, png, rgb8:WxH, bgr8:WxH, mono8:WxH, %s or %s)",
		enc, media.ROS(cdr.TypeImage), media.ROS(cdr.TypeCompressedImage))
}

var (
	jpegMagic = []byte{0xff, 0xd8}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
)

func (p *Pipeline) checkSize(format string, w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("vision: %s image has size %dx%d", format, w, h)
	}
	if int64(w)*int64(h) > int64(p.cfg.MaxPixels) {
		return fmt.Errorf("vision: %s image of %dx%d exceeds max_pixels %d", format, w, h, p.cfg.MaxPixels)
	}
	return nil
}

// decodeJPEG decodes a JPEG with libjpeg-turbo (see turboJPEG) or, in a
// binary built without cgo and for every JPEG libjpeg-turbo does not
// decode cleanly, with the standard library.
func (p *Pipeline) decodeJPEG(data []byte) error {
	if done, err := p.turboJPEG(data); done || err != nil {
		return err
	}
	img, err := p.stdJPEG(data)
	if err != nil {
		return err
	}
	return p.imageFrame(img)
}

// dctScale returns the largest of 8, 4 and 2 by which a w×h JPEG can be
// shrunk while decoding and still be at least tw×th, or 1. Decoding at
// 1/scale in the DCT domain (as OpenCV's IMREAD_REDUCED_* and PIL's draft
// mode do) costs less than decoding in full and averages each scale×scale
// block, leaving the resize less to do.
func dctScale(w, h, tw, th int) int {
	for _, s := range [...]int{8, 4, 2} {
		if tw*s <= w && th*s <= h {
			return s
		}
	}
	return 1
}

// stdJPEG decodes a JPEG with the standard library, after checking the size
// in its header against max_pixels.
func (p *Pipeline) stdJPEG(data []byte) (image.Image, error) {
	defer p.rd.Reset(nil)
	p.rd.Reset(data)
	c, err := jpeg.DecodeConfig(&p.rd)
	if err != nil {
		return nil, fmt.Errorf("vision: decode jpeg: %w", err)
	}
	if err := p.checkSize("jpeg", c.Width, c.Height); err != nil {
		return nil, err
	}
	p.rd.Reset(data)
	img, err := jpeg.Decode(&p.rd)
	if err != nil {
		return nil, fmt.Errorf("vision: decode jpeg: %w", err)
	}
	return img, nil
}

// decodePNG decodes a PNG with the standard library, after checking the
// size in its header against max_pixels.
func (p *Pipeline) decodePNG(data []byte) error {
	defer p.rd.Reset(nil)
	p.rd.Reset(data)
	c, err := png.DecodeConfig(&p.rd)
	if err != nil {
		return fmt.Errorf("vision: decode png: %w", err)
	}
	if err := p.checkSize("png", c.Width, c.Height); err != nil {
		return err
	}
	p.rd.Reset(data)
	img, err := png.Decode(&p.rd)
	if err != nil {
		return fmt.Errorf("vision: decode png: %w", err)
	}
	return p.imageFrame(img)
}

// raw makes p.frame a view of a tightly or step-packed 8-bit image, read
// where it lies. Supported formats are the sensor_msgs/Image encodings
// rgb8, bgr8, mono8, rgba8 and bgra8; alpha is ignored.
func (p *Pipeline) raw(format string, w, h, step int, data []byte) error {
	var bpp int
	bgr := false
	switch format {
	case media.RGB8:
		bpp = 3
	case media.BGR8:
		bpp, bgr = 3, true
	case media.Mono8:
		bpp = 1
	case "rgba8":
		bpp = 4
	case "bgra8":
		bpp, bgr = 4, true
	default:
		return fmt.Errorf("vision: unsupported pixel format %q (want rgb8, bgr8, mono8, rgba8 or bgra8)", format)
	}
	if err := p.checkSize(format, w, h); err != nil {
		return err
	}
	if step < w*bpp {
		return fmt.Errorf("vision: %s %dx%d: row step %d is shorter than a row (%d bytes)", format, w, h, step, w*bpp)
	}
	need := int64(step)*int64(h-1) + int64(w*bpp)
	if int64(len(data)) < need {
		return fmt.Errorf("vision: %s %dx%d: have %d bytes, want %d", format, w, h, len(data), need)
	}
	p.frame.setPacked(data[:need], w, h, step, bpp, bgr)
	return nil
}
