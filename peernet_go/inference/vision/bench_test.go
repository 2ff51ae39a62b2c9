package vision

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// camera640x480 returns the astronaut portrait stretched to a 640×480 JPEG
// (quality 85, as a webcam would send) and as rgb8.
func camera640x480(tb testing.TB) (jpg, rgb []byte) {
	tb.Helper()
	b, err := os.ReadFile("testdata/astronaut.jpg")
	if err != nil {
		tb.Fatal(err)
	}
	src, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.CatmullRom.Scale(img, img.Rect, src, src.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		tb.Fatal(err)
	}
	rgb = make([]byte, 0, 640*480*3)
	for i := 0; i < len(img.Pix); i += 4 {
		rgb = append(rgb, img.Pix[i], img.Pix[i+1], img.Pix[i+2])
	}
	return buf.Bytes(), rgb
}

// rosCamera640x480 wraps a 640×480 rgb8 frame as a bgr8
// sensor_msgs/msg/Image with rows padded to 2048 bytes, and the JPEG as a
// sensor_msgs/msg/CompressedImage, as a ROS 2 camera driver would publish
// them.
func rosCamera640x480(rgb, jpg []byte) (img, compressed []byte) {
	const w, h, step = 640, 480, 2048
	pix := make([]byte, step*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s, d := rgb[(y*w+x)*3:], pix[y*step+x*3:]
			d[0], d[1], d[2] = s[2], s[1], s[0]
		}
	}
	hdr := cdr.Header{Stamp: cdr.Time{Sec: 1700000000}, FrameID: "camera_optical_frame"}
	img = cdr.Marshal(&cdr.Image{Header: hdr, Height: h, Width: w, Encoding: media.BGR8, Step: step, Data: pix})
	compressed = cdr.Marshal(&cdr.CompressedImage{Header: hdr, Format: "jpeg", Data: jpg})
	return img, compressed
}

// blazeFaceInput is BlazeFace's input: 128×128 NHWC RGB in [-1, 1].
func blazeFaceInput(interp Interpolation) Config {
	return Config{Width: 128, Height: 128, Layout: NHWC, Scale: 1 / 127.5, Mean: []float32{1}, Interpolation: interp}
}

// TestPreprocessAllocs checks that preprocessing allocates nothing per
// sample once the pipeline has seen a sample of the same size: not for a
// JPEG decoded by libjpeg-turbo (the standard library, in builds without
// cgo, allocates the same few buffers on every sample), not for raw
// frames, and for ROS images only the message's two short strings
// (frame_id and encoding, or format): the pixels are read where they lie
// in the sample. Each interpolation and layout is checked.
func TestPreprocessAllocs(t *testing.T) {
	jpg, rgb := camera640x480(t)
	rosImg, rosJPEG := rosCamera640x480(rgb, jpg)
	for _, cfg := range []Config{
		blazeFaceInput(BiLinear),
		blazeFaceInput(ApproxBiLinear),
		blazeFaceInput(Nearest),
		blazeFaceInput(CatmullRom),
		{Width: 224, Height: 224, Color: BGR, Resize: Letterbox},
		{Width: 96, Height: 96, Color: Gray},
	} {
		p := newPipeline(t, cfg)
		cfg = p.Config()
		name := fmt.Sprintf("%dx%d %s %s %s %s", cfg.Width, cfg.Height, cfg.Layout, cfg.Color, cfg.Interpolation, cfg.Resize)
		run := func(data []byte, enc string) func() {
			return func() {
				if _, err := p.Run(data, enc); err != nil {
					t.Fatal(err)
				}
			}
		}
		few := testing.AllocsPerRun(2, run(jpg, media.JPEG))
		many := testing.AllocsPerRun(8, run(jpg, media.JPEG))
		switch {
		case p.decodedByTurbo() && many != 0:
			t.Errorf("%s: jpeg (libjpeg-turbo): %v allocations per sample", name, many)
		case few != many || many > 20:
			t.Errorf("%s: jpeg (image/jpeg): %v allocations per sample over 2 runs, %v over 8", name, few, many)
		}
		if n := testing.AllocsPerRun(3, run(rgb, "rgb8:640x480")); n != 0 {
			t.Errorf("%s: rgb8: %v allocations per sample", name, n)
		}
		if n := testing.AllocsPerRun(3, run(rosImg, rosImageEnc)); n > 2 {
			t.Errorf("%s: ros image: %v allocations per sample, want at most 2 (frame_id, encoding)", name, n)
		}
		n := testing.AllocsPerRun(3, run(rosJPEG, rosCompressedEnc))
		if want := many + 2; n > want {
			t.Errorf("%s: ros compressed: %v allocations per sample, want at most %v (frame_id, format)", name, n, want)
		}
		t.Logf("%s: jpeg %v, ros compressed %v allocations per sample (libjpeg-turbo %v)", name, many, n, p.decodedByTurbo())
	}
}

// medianOf runs f n times and returns the median time per call.
func medianOf(n int, f func()) time.Duration {
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		f()
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[n/2]
}

// benchFrame returns a w×h JPEG (quality 90, 4:2:0, as image/jpeg writes
// it) of a real photograph: the ladybird of mate-backgrounds when it is
// installed, else the astronaut portrait, stretched to w×h.
func benchFrame(tb testing.TB, w, h int) []byte {
	tb.Helper()
	b, err := os.ReadFile(photoLadyBird)
	if err != nil {
		tb.Logf("%s not installed (scripts/install-deps --test): using the astronaut portrait, which decodes faster", photoLadyBird)
		if b, err = os.ReadFile("testdata/astronaut.jpg"); err != nil {
			tb.Fatal(err)
		}
	}
	src, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(img, img.Rect, src, src.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// cReference builds testdata/jpegref.c, the same preprocessing in C on
// libjpeg-turbo with DCT scaling and bilinear interpolation, with the
// system's cc into dir, or skips when cc or libturbojpeg is missing.
func cReference(b *testing.B, dir string) string {
	b.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		b.Skipf("no C compiler (cc) for the C reference: %v", err)
	}
	bin := filepath.Join(dir, "jpegref")
	out, err := exec.Command(cc, "-O2", "-o", bin, "testdata/jpegref.c", "-lturbojpeg", "-lm").CombinedOutput()
	if err != nil {
		b.Skipf("cannot build the C reference (is libturbojpeg0-dev installed?): %v\n%s", err, out)
	}
	return bin
}

// runCReference runs the C reference n times on jpg for a w×h input and
// appends the time of each run to times.
func runCReference(b *testing.B, times []time.Duration, bin, jpg string, w, h, n int) []time.Duration {
	b.Helper()
	out, err := exec.Command(bin, jpg, strconv.Itoa(w), strconv.Itoa(h), strconv.Itoa(n)).Output()
	if err != nil {
		b.Fatalf("%s: %v", bin, err)
	}
	lines := strings.Fields(strings.TrimPrefix(string(out), "checksum "))
	if len(lines) != n+1 {
		b.Fatalf("%s printed %d values, want a checksum and %d times", bin, len(lines), n)
	}
	for _, l := range lines[1:] {
		ns, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			b.Fatalf("%s printed %q: %v", bin, l, err)
		}
		times = append(times, time.Duration(ns))
	}
	return times
}

func median(times []time.Duration) time.Duration {
	s := slices.Clone(times)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkJPEGPreprocess measures camera JPEGs (quality 90, 4:2:0) into a
// float NHWC tensor normalised to [-1, 1] (BlazeFace's input), and in the
// same run, on the same file, the C reference (testdata/jpegref.c:
// libjpeg-turbo with DCT scaling, then 2×2 bilinear, compiled with cc)
// and the preprocessing before libjpeg-turbo and the fixed-point resize
// (image/jpeg and x/image/draw, see legacyPipeline). The pipeline and the
// C reference take turns, 20 runs at a time, so that both see the same
// machine. It reports medians and two ratios: x-c-ref, the pipeline's
// median over the C reference's (lower is better), and x-faster, the old
// path's median over the pipeline's. approx-bilinear is the C
// reference's filter; bilinear, the default, also averages the source
// area beyond a 2× shrink.
func BenchmarkJPEGPreprocess(b *testing.B) {
	dir := b.TempDir()
	bin := cReference(b, dir)
	for _, c := range []struct{ sw, sh, w, h int }{{640, 480, 128, 128}, {1920, 1080, 224, 224}} {
		jpg := benchFrame(b, c.sw, c.sh)
		file := filepath.Join(dir, fmt.Sprintf("%dx%d.jpg", c.sw, c.sh))
		if err := os.WriteFile(file, jpg, 0o644); err != nil {
			b.Fatal(err)
		}
		cfg := Config{Width: c.w, Height: c.h, Layout: NHWC, Scale: 1 / 127.5, Mean: []float32{1}}
		legacy, err := newLegacyPipeline(cfg)
		if err != nil {
			b.Fatal(err)
		}
		for _, interp := range []Interpolation{BiLinear, ApproxBiLinear} {
			cfg.Interpolation = interp
			p := newPipeline(b, cfg)
			b.Run(fmt.Sprintf("%dx%d-to-%dx%d/%s", c.sw, c.sh, c.w, c.h, interp), func(b *testing.B) {
				const turn = 20
				b.SetBytes(int64(len(jpg)))
				b.ReportAllocs()
				ours := make([]time.Duration, 0, b.N)
				ref := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for len(ours) < b.N {
					for range min(turn, b.N-len(ours)) {
						start := time.Now()
						if _, err := p.Run(jpg, media.JPEG); err != nil {
							b.Fatal(err)
						}
						ours = append(ours, time.Since(start))
					}
					b.StopTimer()
					ref = runCReference(b, ref, bin, file, c.w, c.h, turn)
					b.StartTimer()
				}
				b.StopTimer()
				old := medianOf(max(min(b.N, 20), 5), func() {
					if err := legacy.run(jpg); err != nil {
						b.Fatal(err)
					}
				})
				m, r := median(ours), median(ref)
				b.ReportMetric(float64(m.Nanoseconds()), "median-ns")
				b.ReportMetric(float64(r.Nanoseconds()), "c-ref-ns")
				b.ReportMetric(float64(old.Nanoseconds()), "old-ns")
				b.ReportMetric(float64(m)/float64(r), "x-c-ref")
				b.ReportMetric(float64(old)/float64(m), "x-faster")
			})
		}
	}
}
