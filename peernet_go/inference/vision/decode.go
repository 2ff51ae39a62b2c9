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

// source decodes a sample into an image, reusing the pipeline's buffers
// where the format allows.
func (p *Pipeline) source(data []byte, enc string) (image.Image, error) {
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
		return nil, fmt.Errorf("vision: unsupported ROS message %s (want %s or %s)", t, cdr.TypeImage, cdr.TypeCompressedImage)
	}
	if strings.Contains(enc, ":") {
		ri, err := media.ParseRawImage(enc)
		if err != nil {
			return nil, fmt.Errorf("vision: %w", err)
		}
		return p.raw(ri.Format, ri.Width, ri.Height, ri.Width*ri.Channels(), data)
	}
	return nil, fmt.Errorf("vision: unsupported sample encoding %q (want jpeg, png, rgb8:WxH, bgr8:WxH, mono8:WxH, %s or %s)",
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

// decodeJPEG decodes a JPEG with the standard library, after checking the
// size in its header against max_pixels.
func (p *Pipeline) decodeJPEG(data []byte) (image.Image, error) {
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
func (p *Pipeline) decodePNG(data []byte) (image.Image, error) {
	p.rd.Reset(data)
	c, err := png.DecodeConfig(&p.rd)
	if err != nil {
		return nil, fmt.Errorf("vision: decode png: %w", err)
	}
	if err := p.checkSize("png", c.Width, c.Height); err != nil {
		return nil, err
	}
	p.rd.Reset(data)
	img, err := png.Decode(&p.rd)
	if err != nil {
		return nil, fmt.Errorf("vision: decode png: %w", err)
	}
	return img, nil
}

// raw wraps or converts a tightly or step-packed 8-bit image. Supported
// formats are the sensor_msgs/Image encodings rgb8, bgr8, mono8, rgba8 and
// bgra8.
func (p *Pipeline) raw(format string, w, h, step int, data []byte) (image.Image, error) {
	var bpp int
	switch format {
	case media.RGB8, media.BGR8:
		bpp = 3
	case media.Mono8:
		bpp = 1
	case "rgba8", "bgra8":
		bpp = 4
	default:
		return nil, fmt.Errorf("vision: unsupported pixel format %q (want rgb8, bgr8, mono8, rgba8 or bgra8)", format)
	}
	if err := p.checkSize(format, w, h); err != nil {
		return nil, err
	}
	if step < w*bpp {
		return nil, fmt.Errorf("vision: %s %dx%d: row step %d is shorter than a row (%d bytes)", format, w, h, step, w*bpp)
	}
	need := int64(step)*int64(h-1) + int64(w*bpp)
	if int64(len(data)) < need {
		return nil, fmt.Errorf("vision: %s %dx%d: have %d bytes, want %d", format, w, h, len(data), need)
	}
	rect := image.Rect(0, 0, w, h)
	switch format {
	case media.Mono8:
		p.gray = image.Gray{Pix: data[:need], Stride: step, Rect: rect}
		return &p.gray, nil
	case "rgba8":
		p.rgba = image.RGBA{Pix: data[:need], Stride: step, Rect: rect}
		return &p.rgba, nil
	}
	if cap(p.conv) < w*h*4 {
		p.conv = make([]byte, w*h*4)
	}
	out := p.conv[:w*h*4]
	for y := 0; y < h; y++ {
		row := data[y*step : y*step+w*bpp]
		o := out[y*w*4 : (y+1)*w*4]
		switch format {
		case media.RGB8:
			for x := 0; x < w; x++ {
				s, d := row[x*3:x*3+3:x*3+3], o[x*4:x*4+4:x*4+4]
				d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 0xff
			}
		case media.BGR8:
			for x := 0; x < w; x++ {
				s, d := row[x*3:x*3+3:x*3+3], o[x*4:x*4+4:x*4+4]
				d[0], d[1], d[2], d[3] = s[2], s[1], s[0], 0xff
			}
		default: // bgra8
			for x := 0; x < w; x++ {
				s, d := row[x*4:x*4+4:x*4+4], o[x*4:x*4+4:x*4+4]
				d[0], d[1], d[2], d[3] = s[2], s[1], s[0], s[3]
			}
		}
	}
	p.rgba = image.RGBA{Pix: out, Stride: w * 4, Rect: rect}
	return &p.rgba, nil
}
