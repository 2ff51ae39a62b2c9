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

// TestPreprocessAllocs checks that preprocessing allocates the same small
// number of times however many samples it processes (the standard JPEG
// decoder allocates its output image; nothing else does), not at all for
// raw frames, and for a ROS image only the message's frame_id and encoding
// strings: its pixels are read where they lie in the sample.
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
	rosImg, rosJPEG := rosCamera640x480(rgb, jpg)
	n := testing.AllocsPerRun(3, run(rosImg, rosImageEnc))
	t.Logf("ros image: %v allocations per sample", n)
	if n > 2 {
		t.Errorf("ros image: %v allocations per sample, want at most 2 (frame_id, encoding)", n)
	}
	if n := testing.AllocsPerRun(3, run(rosJPEG, rosCompressedEnc)); n > many+2 {
		t.Errorf("ros compressed: %v allocations per sample, want at most %v (jpeg + frame_id, format)", n, many+2)
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
	rosImg, rosJPEG := rosCamera640x480(rgb, jpg)
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
		b.Run("ros-image/"+string(interp), func(b *testing.B) {
			b.SetBytes(int64(len(rosImg)))
			benchMedian(b, func() {
				if _, err := p.Run(rosImg, rosImageEnc); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("ros-compressed/"+string(interp), func(b *testing.B) {
			b.SetBytes(int64(len(rosJPEG)))
			benchMedian(b, func() {
				if _, err := p.Run(rosJPEG, rosCompressedEnc); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
