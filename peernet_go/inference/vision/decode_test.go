package vision

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// cgoEnabled reports whether this test binary has libjpeg-turbo: it does
// when a pipeline has made a decoder for the astronaut.
func cgoEnabled(t testing.TB) bool {
	t.Helper()
	p := newPipeline(t, Config{Width: 8, Height: 8})
	if _, err := p.Run(readFile(t, "testdata/astronaut.jpg"), media.JPEG); err != nil {
		t.Fatal(err)
	}
	return p.decodedByTurbo()
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stdDecode decodes a JPEG with image/jpeg to RGBA.
func stdDecode(t testing.TB, b []byte) (*image.RGBA, error) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	return rgba, nil
}

// TestJPEGDecoders decodes one small JPEG of each kind at full size (no
// resize): libjpeg-turbo must decode all but the YCCK one, which goes to
// image/jpeg, and agree with image/jpeg on luma within 2 and, for 4:4:4,
// on RGB within 3 (the two upsample subsampled chroma differently); the
// BGR tensor must be the RGB one with red and blue swapped. Without cgo,
// image/jpeg decodes everything it can.
func TestJPEGDecoders(t *testing.T) {
	turbo := cgoEnabled(t)
	files, err := filepath.Glob("testdata/jpeg/*.jpg")
	if err != nil || len(files) < 8 {
		t.Fatalf("%d test JPEGs, %v", len(files), err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		data := readFile(t, file)
		want, stdErr := stdDecode(t, data)
		gray := newPipeline(t, Config{Width: 16, Height: 16, Color: Gray, Scale: 1})
		rgb := newPipeline(t, Config{Width: 16, Height: 16, Layout: NHWC, Scale: 1})
		bgr := newPipeline(t, Config{Width: 16, Height: 16, Layout: NHWC, Color: BGR, Scale: 1})
		var errs [3]error
		for i, p := range []*Pipeline{gray, rgb, bgr} {
			_, errs[i] = p.Run(data, media.JPEG)
		}
		wantTurbo := turbo && name != "ycck.jpg"
		switch {
		case name == "arithmetic.jpg" && !turbo:
			// image/jpeg does not decode arithmetic coding.
			if errs[1] == nil || stdErr == nil || !strings.Contains(errs[1].Error(), "unsupported JPEG feature") {
				t.Errorf("%s: %v, want image/jpeg's error", name, errs[1])
			}
			continue
		case errs[0] != nil || errs[1] != nil || errs[2] != nil:
			t.Fatalf("%s: %v", name, errs)
		case rgb.decodedByTurbo() != wantTurbo || gray.decodedByTurbo() != wantTurbo:
			t.Errorf("%s: decoded by libjpeg-turbo: %v, want %v", name, rgb.decodedByTurbo(), wantTurbo)
		}
		for i := 0; i < 16*16; i++ {
			r, g, b := rgb.Tensor()[i*3], rgb.Tensor()[i*3+1], rgb.Tensor()[i*3+2]
			if s := bgr.Tensor()[i*3 : i*3+3]; s[0] != b || s[1] != g || s[2] != r {
				t.Fatalf("%s: pixel %d is %v in RGB, %v in BGR", name, i, []float32{r, g, b}, s)
			}
		}
		if stdErr != nil {
			t.Logf("%s: image/jpeg: %v", name, stdErr)
			continue
		}
		var lumaDiff, rgbDiff float64
		for i := 0; i < 16*16; i++ {
			p := want.Pix[i*4 : i*4+3]
			y := float64((lumaR*int(p[0]) + lumaG*int(p[1]) + lumaB*int(p[2]) + 1<<15) >> 16)
			lumaDiff = max(lumaDiff, math.Abs(float64(gray.Tensor()[i])-y))
			for c := 0; c < 3; c++ {
				rgbDiff = max(rgbDiff, math.Abs(float64(rgb.Tensor()[i*3+c])-float64(p[c])))
			}
		}
		t.Logf("%s: libjpeg-turbo %v; max |diff| from image/jpeg: luma %.0f, RGB %.0f", name, rgb.decodedByTurbo(), lumaDiff, rgbDiff)
		if lumaDiff > 2 || (name == "sampling444.jpg" || name == "gray.jpg") && rgbDiff > 3 {
			t.Errorf("%s: max |diff| from image/jpeg: luma %.0f (want ≤ 2), RGB %.0f", name, lumaDiff, rgbDiff)
		}
	}
}

// TestJPEGDCTScale checks the scale libjpeg-turbo decodes at: the largest
// of 1/8, 1/4 and 1/2 that keeps the image at least as large as the part
// of the input it fills, in both directions, for a progressive JPEG.
func TestJPEGDCTScale(t *testing.T) {
	if !cgoEnabled(t) {
		t.Skip("built without cgo: image/jpeg decodes at full size")
	}
	data := readFile(t, "testdata/astronaut-progressive.jpg") // 256×256
	for _, c := range []struct {
		cfg   Config
		scale int
	}{
		{Config{Width: 32, Height: 32}, 8},
		{Config{Width: 33, Height: 32}, 4},
		{Config{Width: 64, Height: 64}, 4},
		{Config{Width: 128, Height: 100}, 2},
		{Config{Width: 129, Height: 20}, 1},
		{Config{Width: 300, Height: 300}, 1},
		{Config{Width: 128, Height: 64, Resize: Letterbox}, 4}, // fills 64×64
	} {
		p := newPipeline(t, c.cfg)
		g, err := p.Run(data, media.JPEG)
		if err != nil {
			t.Fatal(err)
		}
		f := &p.frame
		want := (256 + c.scale - 1) / c.scale
		if f.scale != c.scale || f.w != want || f.h != want || g.Width != 256 || g.Height != 256 || !p.decodedByTurbo() {
			t.Errorf("%dx%d %s: decoded %dx%d at 1/%d (geometry %dx%d), want %dx%d at 1/%d",
				c.cfg.Width, c.cfg.Height, c.cfg.Resize, f.w, f.h, f.scale, g.Width, g.Height, want, want, c.scale)
		}
	}
}

// TestJPEGErrors: what libjpeg-turbo refuses or warns about goes to
// image/jpeg, whose error the sample gets; a header larger than
// max_pixels is refused before decoding, by either decoder.
func TestJPEGErrors(t *testing.T) {
	base := readFile(t, "testdata/jpeg/base420.jpg")
	astronaut := readFile(t, "testdata/astronaut.jpg")
	p := newPipeline(t, Config{Width: 8, Height: 8, MaxPixels: 100 * 100})
	for i, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"too big", astronaut, "vision: jpeg image of 256x256 exceeds max_pixels 10000"},
		{"bomb", jpegBomb(), "vision: jpeg image of 60000x60000 exceeds max_pixels 10000"},
		{"truncated", base[:len(base)/2], "vision: decode jpeg: unexpected EOF"},
		{"truncated header", base[:30], "vision: decode jpeg: unexpected EOF"},
		{"corrupt scan", corruptScan(base), "vision: decode jpeg: invalid JPEG format"},
		{"empty", nil, "vision: decode jpeg: unexpected EOF"},
	} {
		for _, enc := range []string{media.JPEG, rosCompressedEnc} {
			data := c.data
			if enc == rosCompressedEnc {
				if len(data) < 2 {
					continue
				}
				data = cdr.Marshal(&cdr.CompressedImage{Format: "jpeg", Data: data})
			}
			_, err := p.Run(data, enc)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (%s): %v, want %q", c.name, enc, err, c.want)
			}
		}
		if i == 1 && p.tj != nil && cap(p.tj.buf) > 0 {
			t.Errorf("the pipeline allocated a %d-byte decode buffer for samples larger than max_pixels", cap(p.tj.buf))
		}
	}
	// libjpeg-turbo still decodes after all that.
	if _, err := p.Run(base, media.JPEG); err != nil || p.decodedByTurbo() != cgoEnabled(t) {
		t.Errorf("after the errors: %v, libjpeg-turbo %v", err, p.decodedByTurbo())
	}
}

// corruptScan returns a copy of a JPEG with its entropy-coded data
// replaced by bytes no Huffman table decodes.
func corruptScan(b []byte) []byte {
	out := append([]byte(nil), b...)
	sos := bytes.Index(out, []byte{0xff, 0xda})
	for i := sos + 14; i < len(out)-2; i++ {
		out[i] = 0xfe
	}
	return out
}

// FuzzDecodeJPEG feeds arbitrary bytes as a JPEG sample to pipelines with
// a max_pixels bound: they must never panic, never hold a decode buffer
// larger than the bound allows, refuse every JPEG whose header claims more
// pixels, decode whatever image/jpeg decodes (libjpeg-turbo's fallback),
// and report the header's size as the geometry.
func FuzzDecodeJPEG(f *testing.F) {
	const maxPixels = 64 * 64
	files, _ := filepath.Glob("testdata/jpeg/*.jpg")
	for _, file := range append(files, "testdata/astronaut.jpg") {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(jpegBomb())
	var pipes []*Pipeline
	for _, cfg := range []Config{
		{Width: 8, Height: 8, Layout: NHWC, MaxPixels: maxPixels},
		{Width: 5, Height: 3, Color: Gray, Resize: Letterbox, MaxPixels: maxPixels},
		{Width: 40, Height: 40, Color: BGR, Interpolation: CatmullRom, MaxPixels: maxPixels},
	} {
		p, err := NewPipeline(cfg)
		if err != nil {
			f.Fatal(err)
		}
		pipes = append(pipes, p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hdr, hdrErr := jpeg.DecodeConfig(bytes.NewReader(data))
		tooBig := hdrErr == nil && hdr.Width*hdr.Height > maxPixels
		var stdErr error
		if hdrErr == nil && !tooBig {
			_, stdErr = jpeg.Decode(bytes.NewReader(data))
		}
		for _, p := range pipes {
			g, err := p.Run(data, media.JPEG)
			if p.tj != nil && cap(p.tj.buf) > maxPixels*3 {
				t.Fatalf("decode buffer of %d bytes for max_pixels %d", cap(p.tj.buf), maxPixels)
			}
			switch {
			case tooBig && err == nil:
				t.Fatalf("decoded a %dx%d JPEG with max_pixels %d", hdr.Width, hdr.Height, maxPixels)
			case tooBig && !strings.Contains(err.Error(), "exceeds max_pixels"):
				t.Logf("%dx%d JPEG refused by: %v", hdr.Width, hdr.Height, err)
			case hdrErr == nil && !tooBig && stdErr == nil && err != nil:
				t.Fatalf("image/jpeg decodes this %dx%d JPEG, the pipeline does not: %v", hdr.Width, hdr.Height, err)
			}
			if err != nil {
				continue
			}
			if g.Width <= 0 || g.Height <= 0 || g.Width*g.Height > maxPixels {
				t.Fatalf("decoded %dx%d with max_pixels %d", g.Width, g.Height, maxPixels)
			}
			if hdrErr == nil && (g.Width != hdr.Width || g.Height != hdr.Height) {
				t.Fatalf("geometry %dx%d, header %dx%d", g.Width, g.Height, hdr.Width, hdr.Height)
			}
		}
	})
}
