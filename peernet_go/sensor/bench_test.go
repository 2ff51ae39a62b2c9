package sensor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/sensor"
)

var sizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}}

func benchSensor(b *testing.B, o sensor.Options, bytesPerOp int) {
	s, err := sensor.Open(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if bytesPerOp > 0 {
		b.SetBytes(int64(bytesPerOp))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sample(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRandomBytes measures the random-bytes sensor; compare it with
// BenchmarkRawFill, the bare PCG fill it is built on.
func BenchmarkRandomBytes(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			benchSensor(b, sensor.Options{Type: "random-bytes", Size: sz.name}, sz.n)
		})
	}
}

func BenchmarkRandomString(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			benchSensor(b, sensor.Options{Type: "random-string", Size: sz.name}, sz.n)
		})
	}
}

// BenchmarkRawFill is the baseline: a buffer filled straight from PCG, 8
// bytes per draw, and from ChaCha8's Read.
func BenchmarkRawFill(b *testing.B) {
	for _, sz := range sizes {
		b.Run("pcg-"+sz.name, func(b *testing.B) {
			pcg := rand.NewPCG(1, 2)
			buf := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				for i := 0; i+8 <= len(buf); i += 8 {
					binary.LittleEndian.PutUint64(buf[i:], pcg.Uint64())
				}
			}
		})
		b.Run("chacha8-"+sz.name, func(b *testing.B) {
			c := rand.NewChaCha8([32]byte{})
			buf := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				c.Read(buf)
			}
		})
	}
}

// BenchmarkSyntheticCamera measures 640x480 frames; compare the jpeg case
// with BenchmarkJPEGEncode (encoding a still frame) and the rgb8 case with
// BenchmarkFrameCopy (copying a frame).
func BenchmarkSyntheticCamera(b *testing.B) {
	for _, f := range []string{"jpeg", "rgb8", "png"} {
		b.Run(f, func(b *testing.B) {
			benchSensor(b, sensor.Options{Type: "synthetic-camera", Format: f}, 0)
		})
	}
}

func BenchmarkJPEGEncode(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = byte(i / 7)
	}
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: sensor.DefaultQuality}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFrameCopy(b *testing.B) {
	src := make([]byte, 640*480*3)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		copy(dst, src)
	}
}
