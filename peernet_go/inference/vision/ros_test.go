package vision

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
)

var (
	rosImageEnc      = media.ROS(cdr.TypeImage)
	rosCompressedEnc = media.ROS(cdr.TypeCompressedImage)
)

// tinyRGBA is the 2×2 image of tiny (red, green / blue, white) as RGBA, and
// tinyGray a 2×2 mono8 image.
var (
	tinyRGBA = [4][4]byte{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 255, 255}}
	tinyGray = [4]byte{10, 20, 30, 40}
)

// rosPixels packs the 2×2 test image in a sensor_msgs/msg/Image encoding
// with rows of step bytes. Row padding is filled with 0xee, which must never
// reach the tensor; with shortLast the last row has no padding, the least a
// publisher may send.
func rosPixels(t testing.TB, enc string, step int, shortLast bool) []byte {
	t.Helper()
	var out []byte
	for y := 0; y < 2; y++ {
		row := make([]byte, 0, step)
		for x := 0; x < 2; x++ {
			p := tinyRGBA[y*2+x]
			switch enc {
			case media.RGB8:
				row = append(row, p[0], p[1], p[2])
			case media.BGR8:
				row = append(row, p[2], p[1], p[0])
			case "rgba8":
				row = append(row, p[0], p[1], p[2], p[3])
			case "bgra8":
				row = append(row, p[2], p[1], p[0], p[3])
			case media.Mono8:
				row = append(row, tinyGray[y*2+x])
			default:
				t.Fatalf("no packer for %q", enc)
			}
		}
		if len(row) > step {
			t.Fatalf("%s: step %d is shorter than a row of %d bytes", enc, step, len(row))
		}
		if y == 0 || !shortLast {
			for len(row) < step {
				row = append(row, 0xee)
			}
		}
		out = append(out, row...)
	}
	return out
}

// TestPipelineROSImage decodes sensor_msgs/msg/Image samples in every
// supported encoding, with and without row padding, in both CDR byte orders
// and with middleware padding after the message: the tensor must hold the
// image and nothing of the padding.
func TestPipelineROSImage(t *testing.T) {
	color := []float32{255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255}
	gray := []float32{10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40}
	for _, c := range []struct {
		name      string
		enc       string
		step      int
		shortLast bool
		want      []float32
	}{
		{"rgb8", media.RGB8, 6, false, color},
		{"rgb8 padded", media.RGB8, 8, false, color},
		{"bgr8", media.BGR8, 6, false, color},
		{"bgr8 padded", media.BGR8, 16, false, color},
		{"bgr8 padded, last row short", media.BGR8, 16, true, color},
		{"mono8", media.Mono8, 2, false, gray},
		{"mono8 padded", media.Mono8, 4, false, gray},
		{"mono8 padded, last row short", media.Mono8, 4, true, gray},
		{"rgba8 padded", "rgba8", 12, false, color},
		{"bgra8 padded", "bgra8", 12, false, color},
	} {
		for _, be := range []bool{false, true} {
			name := c.name
			if be {
				name += " big-endian"
			}
			t.Run(name, func(t *testing.T) {
				msg := &cdr.Image{
					Header: cdr.Header{Stamp: cdr.Time{Sec: 1700000000, Nanosec: 5}, FrameID: "camera_optical_frame"},
					Height: 2, Width: 2, Encoding: c.enc, Step: uint32(c.step),
					Data: rosPixels(t, c.enc, c.step, c.shortLast),
				}
				data := append(cdr.MarshalAppend(nil, msg, be), 0, 0, 0) // middleware padding
				p := newPipeline(t, Config{Width: 2, Height: 2, Layout: NHWC, Scale: 1})
				g, err := p.Run(data, rosImageEnc)
				if err != nil {
					t.Fatal(err)
				}
				if g != (Geometry{Width: 2, Height: 2, ScaleX: 1, ScaleY: 1}) {
					t.Errorf("geometry %+v", g)
				}
				if got := p.Tensor(); !slices.Equal(got, c.want) {
					t.Errorf("tensor %v, want %v", got, c.want)
				}
				if p.rosIm.Data != nil {
					t.Error("the pipeline's message still references the sample")
				}
			})
		}
	}
}

// TestROSImageNoCopy checks that the pixels of a sensor_msgs/msg/Image are
// used where they lie in the sample, in every supported encoding: neither
// decoding the CDR message nor the resize copies them.
func TestROSImageNoCopy(t *testing.T) {
	p := newPipeline(t, Config{Width: 2, Height: 2})
	for _, c := range []struct {
		enc  string
		step int
	}{{media.Mono8, 4}, {"rgba8", 12}, {"bgra8", 8}, {media.RGB8, 6}, {media.BGR8, 8}} {
		pix := rosPixels(t, c.enc, c.step, false)
		data := cdr.Marshal(&cdr.Image{Height: 2, Width: 2, Encoding: c.enc, Step: uint32(c.step), Data: pix})
		if err := p.source(data, rosImageEnc); err != nil {
			t.Fatal(err)
		}
		if &p.frame.pix[0] != &data[len(data)-len(pix)] || p.frame.stride != c.step {
			t.Errorf("%s: pixels were copied out of the sample", c.enc)
		}
	}
}

func TestPipelineROSCompressedImage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i, px := range tinyRGBA {
		copy(img.Pix[i*4:], px[:])
	}
	var pb bytes.Buffer
	if err := png.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	astro, err := os.ReadFile("testdata/astronaut.jpg")
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, Config{Width: 2, Height: 2, Layout: NHWC, Scale: 1})
	for _, be := range []bool{false, true} {
		// The format field is free-form (image_transport writes such as
		// "bgr8; png compressed bgr8"); the data's signature decides.
		msg := &cdr.CompressedImage{Header: cdr.Header{FrameID: "camera"}, Format: "bgr8; png compressed bgr8", Data: pb.Bytes()}
		g, err := p.Run(cdr.MarshalAppend(nil, msg, be), rosCompressedEnc)
		if err != nil {
			t.Fatalf("png, big-endian=%v: %v", be, err)
		}
		want := []float32{255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255}
		if g.Width != 2 || g.Height != 2 || !slices.Equal(p.Tensor(), want) {
			t.Errorf("png, big-endian=%v: geometry %+v, tensor %v", be, g, p.Tensor())
		}
		msg = &cdr.CompressedImage{Format: "jpeg", Data: astro}
		if g, err = p.Run(cdr.MarshalAppend(nil, msg, be), rosCompressedEnc); err != nil || g.Width != 256 || g.Height != 256 {
			t.Errorf("jpeg, big-endian=%v: geometry %+v, %v", be, g, err)
		}
		if p.rosCI.Data != nil {
			t.Error("the pipeline's message still references the sample")
		}
	}
}

// TestPipelineROSErrors: every malformed or unusable ROS sample yields one
// line saying what failed, wrapping cdr's sentinel errors where the CDR
// itself is bad.
func TestPipelineROSErrors(t *testing.T) {
	rosImg := func(enc string, w, h, step uint32, n int) []byte {
		return cdr.Marshal(&cdr.Image{Header: cdr.Header{FrameID: "cam"}, Height: h, Width: w, Encoding: enc, Step: step, Data: make([]byte, n)})
	}
	compressed := func(data []byte) []byte {
		return cdr.Marshal(&cdr.CompressedImage{Format: "jpeg", Data: data})
	}
	good := rosImg(media.RGB8, 2, 2, 6, 12)
	bomb := jpegBomb()
	for _, c := range []struct {
		name, enc string
		data      []byte
		is        error
		want      string
	}{
		{"empty", rosImageEnc, nil, cdr.ErrTruncated, "vision: decode sensor_msgs/msg/Image: cdr: message truncated: 0 bytes"},
		{"short", rosImageEnc, []byte{0, 1, 0, 0, 1}, cdr.ErrTruncated, "uint32 needs 4 bytes at offset 0, 1 left"},
		{"xcdr2", rosImageEnc, append([]byte{0, 7}, good[2:]...), cdr.ErrEncapsulation, "identifier 0x0007"},
		{"not cdr", rosImageEnc, []byte{1, 0, 0, 0}, cdr.ErrEncapsulation, "identifier 0x0100"},
		{"header", rosImageEnc, good[:10], cdr.ErrTruncated, "decode sensor_msgs/msg/Image"},
		{"truncated data", rosImageEnc, good[:len(good)-1], cdr.ErrTruncated, "sequence of 12 elements of 1 bytes"},
		{"huge string", rosImageEnc, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, cdr.ErrTruncated, "string needs 2147483647 bytes"},
		{"format", rosImageEnc, rosImg("yuv422", 4, 4, 8, 32), nil, `unsupported pixel format "yuv422"`},
		{"16-bit", rosImageEnc, rosImg("mono16", 2, 2, 4, 8), nil, `unsupported pixel format "mono16"`},
		{"step", rosImageEnc, rosImg(media.RGB8, 4, 4, 8, 48), nil, "rgb8 4x4: row step 8 is shorter than a row (12 bytes)"},
		{"short data", rosImageEnc, rosImg(media.RGB8, 2, 2, 8, 13), nil, "rgb8 2x2: have 13 bytes, want 14"},
		{"short mono", rosImageEnc, rosImg(media.Mono8, 2, 2, 2, 3), nil, "mono8 2x2: have 3 bytes, want 4"},
		{"huge step", rosImageEnc, rosImg(media.BGR8, 2, 2, 1<<31-1, 6), nil, "bgr8 2x2: have 6 bytes, want 2147483653"},
		{"zero height", rosImageEnc, rosImg(media.RGB8, 2, 0, 6, 0), nil, "rgb8 image has size 2x0"},
		{"max pixels", rosImageEnc, rosImg(media.Mono8, 101, 100, 101, 0), nil, "mono8 image of 101x100 exceeds max_pixels 10000"},
		{"implausible", rosImageEnc, rosImg(media.Mono8, 1<<31, 1, 1<<31, 0), nil, "implausible size 2147483648x1 step 2147483648"},
		{"compressed truncated", rosCompressedEnc, compressed(bomb)[:9], cdr.ErrTruncated, "vision: decode sensor_msgs/msg/CompressedImage: cdr: message truncated"},
		{"compressed garbage", rosCompressedEnc, compressed([]byte("xx")), nil, `sensor_msgs/msg/CompressedImage with format "jpeg": data is neither JPEG nor PNG`},
		{"compressed empty", rosCompressedEnc, compressed(nil), nil, "neither JPEG nor PNG"},
		{"compressed bomb", rosCompressedEnc, compressed(bomb), nil, "60000x60000 exceeds max_pixels 10000"},
		{"compressed png", rosCompressedEnc, compressed(pngMagic), nil, "decode png: unexpected EOF"},
	} {
		p := newPipeline(t, Config{Width: 4, Height: 4, MaxPixels: 100 * 100})
		_, err := p.Run(c.data, c.enc)
		switch {
		case err == nil:
			t.Errorf("%s: no error", c.name)
		case !strings.HasPrefix(err.Error(), "vision: ") || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: %v, want one line containing %q", c.name, err, c.want)
		case c.is != nil && !errors.Is(err, c.is):
			t.Errorf("%s: %v does not wrap %v", c.name, err, c.is)
		}
	}
}
