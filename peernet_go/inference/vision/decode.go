package vision

import (
	"bytes"
	"errors"
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

func (p *Pipeline) decodeJPEG(data []byte) (image.Image, error) {
	w, h, err := JPEGSize(data)
	if err != nil {
		return nil, err
	}
	if err := p.checkSize("jpeg", w, h); err != nil {
		return nil, err
	}
	p.rd.Reset(data)
	img, err := jpeg.Decode(&p.rd)
	if err != nil {
		return nil, fmt.Errorf("vision: decode jpeg: %w", err)
	}
	return img, nil
}

func (p *Pipeline) decodePNG(data []byte) (image.Image, error) {
	w, h, err := PNGSize(data)
	if err != nil {
		return nil, err
	}
	if err := p.checkSize("png", w, h); err != nil {
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

// JPEGSize returns the width and height in a JPEG's frame header without
// decoding the image.
func JPEGSize(b []byte) (w, h int, err error) {
	if !bytes.HasPrefix(b, jpegMagic) {
		return 0, 0, errors.New("vision: not a JPEG (no SOI marker)")
	}
	i := 2
	for i+2 <= len(b) {
		if b[i] != 0xff {
			return 0, 0, fmt.Errorf("vision: jpeg: bad marker at offset %d", i)
		}
		m := b[i+1]
		if m == 0xff { // fill byte
			i++
			continue
		}
		i += 2
		if m == 0x01 || (m >= 0xd0 && m <= 0xd8) { // markers without a segment
			continue
		}
		if m == 0xd9 || m == 0xda {
			return 0, 0, errors.New("vision: jpeg: no frame header before the scan")
		}
		if i+2 > len(b) {
			break
		}
		l := int(b[i])<<8 | int(b[i+1])
		if l < 2 {
			return 0, 0, fmt.Errorf("vision: jpeg: bad segment length %d at offset %d", l, i)
		}
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc {
			if l < 7 || i+7 > len(b) {
				break
			}
			return int(b[i+5])<<8 | int(b[i+6]), int(b[i+3])<<8 | int(b[i+4]), nil
		}
		i += l
	}
	return 0, 0, errors.New("vision: jpeg: truncated before the frame header")
}

// PNGSize returns the width and height in a PNG's IHDR chunk without
// decoding the image.
func PNGSize(b []byte) (w, h int, err error) {
	if !bytes.HasPrefix(b, pngMagic) {
		return 0, 0, errors.New("vision: not a PNG (bad signature)")
	}
	if len(b) < 24 || string(b[12:16]) != "IHDR" {
		return 0, 0, errors.New("vision: png: missing IHDR chunk")
	}
	be := func(s []byte) int64 { return int64(s[0])<<24 | int64(s[1])<<16 | int64(s[2])<<8 | int64(s[3]) }
	w64, h64 := be(b[16:20]), be(b[20:24])
	if w64 > 1<<24 || h64 > 1<<24 {
		return 0, 0, fmt.Errorf("vision: png: implausible size %dx%d", w64, h64)
	}
	return int(w64), int(h64), nil
}
