package sensor

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
)

// sniff returns the encoding of an image file's content: media.JPEG,
// media.PNG, or "" for anything else.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return media.JPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return media.PNG
	}
	return ""
}

// checkImageFormat validates Options.Format for the image sensors.
func checkImageFormat(format string) error {
	switch format {
	case "", media.JPEG, media.PNG, media.RGB8, media.BGR8, media.Mono8:
		return nil
	}
	return fmt.Errorf("sensor: Format %q: want \"\" (files as they are), jpeg, png, rgb8, bgr8 or mono8", format)
}

// converter turns image files into samples of one format, reusing its
// buffers from one file to the next.
type converter struct {
	format  string // Options.Format
	quality int
	rgba    *image.RGBA  // decoded pixels
	gray    *image.Gray  // decoded pixels, for mono8
	raw     []byte       // packed raw pixels
	out     bytes.Buffer // re-encoded image
}

// convert returns the sample for one image file's bytes and its encoding.
// The result may alias data or the converter's buffers.
func (c *converter) convert(name string, data []byte) ([]byte, string, error) {
	enc := sniff(data)
	if enc == "" {
		return nil, "", fmt.Errorf("sensor: %s: not a JPEG or PNG file", name)
	}
	if c.format == "" || c.format == enc {
		return data, enc, nil
	}
	img, err := decode(enc, data)
	if err != nil {
		return nil, "", fmt.Errorf("sensor: %s: %w", name, err)
	}
	switch c.format {
	case media.JPEG, media.PNG:
		c.out.Reset()
		if c.format == media.JPEG {
			err = jpeg.Encode(&c.out, img, &jpeg.Options{Quality: c.quality})
		} else {
			err = png.Encode(&c.out, img)
		}
		if err != nil {
			return nil, "", fmt.Errorf("sensor: %s: encode %s: %w", name, c.format, err)
		}
		return c.out.Bytes(), c.format, nil
	}
	b := img.Bounds()
	raw := media.RawImage{Format: c.format, Width: b.Dx(), Height: b.Dy()}
	c.raw = grow(c.raw, raw.Size())
	if c.format == media.Mono8 {
		if c.gray == nil || c.gray.Rect.Size() != b.Size() {
			c.gray = image.NewGray(image.Rectangle{Max: b.Size()})
		}
		draw.Draw(c.gray, c.gray.Rect, img, b.Min, draw.Src)
		copy(c.raw, c.gray.Pix)
	} else {
		if c.rgba == nil || c.rgba.Rect.Size() != b.Size() {
			c.rgba = image.NewRGBA(image.Rectangle{Max: b.Size()})
		}
		draw.Draw(c.rgba, c.rgba.Rect, img, b.Min, draw.Src)
		packRGB(c.raw, c.rgba.Pix, c.format == media.BGR8)
	}
	return c.raw, raw.String(), nil
}

func decode(enc string, data []byte) (image.Image, error) {
	if enc == media.PNG {
		return png.Decode(bytes.NewReader(data))
	}
	return jpeg.Decode(bytes.NewReader(data))
}

// grow returns b resized to n bytes, reallocated only when too small.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// packRGB packs RGBA pixels into 3-byte RGB (or BGR) pixels.
func packRGB(dst, rgba []byte, bgr bool) {
	r, b := 0, 2
	if bgr {
		r, b = 2, 0
	}
	for i, j := 0, 0; i+3 < len(rgba); i, j = i+4, j+3 {
		dst[j+r] = rgba[i]
		dst[j+1] = rgba[i+1]
		dst[j+b] = rgba[i+2]
	}
}

// fixed is the image sensor: the same bytes every sample.
type fixed struct {
	closer
	data []byte
	enc  string
}

var _ Sensor = (*fixed)(nil)

func openImage(o Options) (Sensor, error) {
	if o.DatasetLoc == "" {
		return nil, fmt.Errorf("sensor: image: DatasetLoc (--dataset-loc) is empty: name a JPEG or PNG file")
	}
	if err := checkImageFormat(o.Format); err != nil {
		return nil, err
	}
	quality, err := checkQuality(o.Quality)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(o.DatasetLoc)
	if err != nil {
		return nil, fmt.Errorf("sensor: image: %w", err)
	}
	c := converter{format: o.Format, quality: quality}
	out, enc, err := c.convert(o.DatasetLoc, data)
	if err != nil {
		return nil, err
	}
	return &fixed{data: out, enc: enc}, nil
}

// Sample returns the image.
func (f *fixed) Sample(ctx context.Context) (Sample, error) {
	if err := f.check(ctx); err != nil {
		return Sample{}, err
	}
	return Sample{Data: f.data, Encoding: f.enc, Time: time.Now()}, nil
}

// Close marks the sensor closed.
func (f *fixed) Close() error {
	f.closed = true
	return nil
}

// folder is the image-folder sensor.
type folder struct {
	closer
	dir   string
	files []string
	next  int
	buf   []byte // file contents, reused
	conv  converter
}

var _ Sensor = (*folder)(nil)

// imageExts are the file extensions image-folder picks up.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

func openFolder(o Options) (Sensor, error) {
	if o.DatasetLoc == "" {
		return nil, fmt.Errorf("sensor: image-folder: DatasetLoc (--dataset-loc) is empty: name a folder of JPEG or PNG files")
	}
	if err := checkImageFormat(o.Format); err != nil {
		return nil, err
	}
	quality, err := checkQuality(o.Quality)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(o.DatasetLoc) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("sensor: image-folder: %w", err)
	}
	f := &folder{dir: o.DatasetLoc, conv: converter{format: o.Format, quality: quality}}
	for _, e := range entries {
		if e.Type().IsRegular() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			f.files = append(f.files, filepath.Join(o.DatasetLoc, e.Name()))
		}
	}
	if len(f.files) == 0 {
		return nil, fmt.Errorf("sensor: image-folder %s: no .jpg, .jpeg or .png files", o.DatasetLoc)
	}
	return f, nil
}

// Sample reads the next file.
func (f *folder) Sample(ctx context.Context) (Sample, error) {
	if err := f.check(ctx); err != nil {
		return Sample{}, err
	}
	name := f.files[f.next]
	f.next = (f.next + 1) % len(f.files)
	var err error
	f.buf, err = readFile(name, f.buf)
	if err != nil {
		return Sample{}, fmt.Errorf("sensor: image-folder: %w", err)
	}
	data, enc, err := f.conv.convert(name, f.buf)
	if err != nil {
		return Sample{}, err
	}
	return Sample{Data: data, Encoding: enc, Time: time.Now()}, nil
}

// Close marks the sensor closed.
func (f *folder) Close() error {
	f.closed = true
	return nil
}

// readFile reads a whole file into buf, growing it when needed.
func readFile(name string, buf []byte) ([]byte, error) {
	file, err := os.Open(name)
	if err != nil {
		return buf, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return buf, err
	}
	size := fi.Size()
	if size > MaxSampleSize {
		return buf, fmt.Errorf("%s: %d bytes is more than the %d-byte limit", name, size, MaxSampleSize)
	}
	buf = grow(buf, int(size))
	if _, err := io.ReadFull(file, buf); err != nil {
		return buf, fmt.Errorf("%s: %w", name, err)
	}
	return buf, nil
}

// checkQuality applies the default JPEG quality and checks its range.
func checkQuality(q int) (int, error) {
	if q == 0 {
		return DefaultQuality, nil
	}
	if q < 1 || q > 100 {
		return 0, fmt.Errorf("sensor: Quality %d is outside 1..100", q)
	}
	return q, nil
}
