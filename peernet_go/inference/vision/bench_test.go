package vision

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/image/draw"

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

// blazeFaceInput is BlazeFace's input: 128×128 NHWC RGB in [-1, 1].
func blazeFaceInput(interp Interpolation) Config {
	return Config{Width: 128, Height: 128, Layout: NHWC, Scale: 1 / 127.5, Mean: []float32{1}, Interpolation: interp}
}

// TestPreprocessAllocs checks that preprocessing allocates the same small
// number of times however many samples it processes (the standard JPEG
// decoder allocates its output image; nothing else does), and not at all
// for raw frames.
func TestPreprocessAllocs(t *testing.T) {
	jpg, rgb := camera640x480(t)
	p := newPipeline(t, blazeFaceInput(ApproxBiLinear))
	run := func(data []byte, enc string) func() {
		return func() {
			if _, err := p.Run(data, enc); err != nil {
				t.Fatal(err)
			}
		}
	}
	few := testing.AllocsPerRun(2, run(jpg, media.JPEG))
	many := testing.AllocsPerRun(8, run(jpg, media.JPEG))
	t.Logf("jpeg: %v allocations per sample over 2 runs, %v over 8", few, many)
	if few != many || many > 20 {
		t.Errorf("jpeg: %v allocations per sample over 2 runs, %v over 8", few, many)
	}
	if n := testing.AllocsPerRun(3, run(rgb, "rgb8:640x480")); n != 0 {
		t.Errorf("rgb8: %v allocations per sample", n)
	}
	// The kernel filters keep their scratch buffers in a sync.Pool.
	if !raceEnabled {
		p = newPipeline(t, blazeFaceInput(BiLinear))
		if n := testing.AllocsPerRun(3, run(rgb, "rgb8:640x480")); n != 0 {
			t.Errorf("rgb8, bilinear: %v allocations per sample", n)
		}
	}
}

// benchMedian runs f b.N times and reports the median time per call too.
func benchMedian(b *testing.B, f func()) {
	b.Helper()
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		f()
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "median-ns")
}

// BenchmarkPreprocess640x480 measures a 640×480 camera frame to BlazeFace's
// 128×128 NHWC tensor. "decode-only" is the baseline: the standard JPEG
// decoder alone, which every JPEG sample pays.
func BenchmarkPreprocess640x480(b *testing.B) {
	jpg, rgb := camera640x480(b)
	b.Run("jpeg/decode-only", func(b *testing.B) {
		b.SetBytes(int64(len(jpg)))
		benchMedian(b, func() {
			if _, err := jpeg.Decode(bytes.NewReader(jpg)); err != nil {
				b.Fatal(err)
			}
		})
	})
	for _, interp := range []Interpolation{BiLinear, ApproxBiLinear, Nearest} {
		p := newPipeline(b, blazeFaceInput(interp))
		b.Run("jpeg/"+string(interp), func(b *testing.B) {
			b.SetBytes(int64(len(jpg)))
			benchMedian(b, func() {
				if _, err := p.Run(jpg, media.JPEG); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("rgb8/"+string(interp), func(b *testing.B) {
			b.SetBytes(int64(len(rgb)))
			benchMedian(b, func() {
				if _, err := p.Run(rgb, "rgb8:640x480"); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
