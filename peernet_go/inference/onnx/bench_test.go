//go:build cgo

package onnx

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"path/filepath"
	"slices"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
	xdraw "golang.org/x/image/draw"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/media"
)

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkEngineOverhead compares the Engine's inference stage for
// BlazeFace with calling onnxruntime_go's AdvancedSession.Run directly on
// the same input tensor, in the same process, interleaved so that both see
// the same machine, and each right after the same preprocessing. It reports both medians and their ratio (engine/direct).
func BenchmarkEngineOverhead(b *testing.B) {
	path := cachedModel(b, BlazeFaceModel)
	for _, c := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"background", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }},
		{"cancelable", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Hour)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			// One intra-op thread on both sides: on a shared 2-core machine
			// ONNX Runtime's spinning worker threads add more noise than
			// the overhead being measured.
			spec := builtinSpecs[filepath.Base(path)]()
			spec.Threads = 1
			m, err := Open(path, Options{Spec: &spec})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			jpg, _ := astronaut(b)
			in := inference.Input{Data: jpg, Encoding: media.JPEG}
			e := inference.NewEngine(m)
			ctx, cancel := c.ctx()
			defer cancel()
			if _, _, err := e.Run(ctx, in); err != nil {
				b.Fatal(err)
			}

			// The direct baseline: its own session on the same model, fed
			// a copy of the tensor the pipeline produced.
			input, err := ort.NewTensor(ort.NewShape(m.pipe.Shape()...), slices.Clone(m.pipe.Tensor()))
			if err != nil {
				b.Fatal(err)
			}
			defer input.Destroy()
			var outputs []ort.Value
			for _, o := range m.res.Outputs {
				t, err := ort.NewEmptyTensor[float32](ort.NewShape(o.Shape...))
				if err != nil {
					b.Fatal(err)
				}
				defer t.Destroy()
				outputs = append(outputs, t)
			}
			opts, err := ort.NewSessionOptions()
			if err != nil {
				b.Fatal(err)
			}
			defer opts.Destroy()
			if err := opts.SetIntraOpNumThreads(1); err != nil {
				b.Fatal(err)
			}
			sess, err := ort.NewAdvancedSession(path, m.inNames, m.outNames, []ort.Value{input}, outputs, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer sess.Destroy()
			if err := sess.Run(); err != nil {
				b.Fatal(err)
			}

			engine := make([]time.Duration, 0, b.N)
			direct := make([]time.Duration, 0, b.N)
			runEngine := func() {
				_, t, err := e.Run(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				engine = append(engine, t.Inference)
			}
			runDirect := func() {
				// The same preprocessing as the Engine's run precedes the
				// direct run, so both start with the caches and the garbage
				// collector in the same state.
				if _, err := m.Preprocess(ctx, in); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := sess.Run(); err != nil {
					b.Fatal(err)
				}
				direct = append(direct, time.Since(start))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					runEngine()
					runDirect()
				} else {
					runDirect()
					runEngine()
				}
			}
			b.StopTimer()
			me, md := median(engine), median(direct)
			b.ReportMetric(float64(me.Nanoseconds()), "engine-inference-ns")
			b.ReportMetric(float64(md.Nanoseconds()), "direct-run-ns")
			b.ReportMetric(float64(me)/float64(md), "ratio")
		})
	}
}

// BenchmarkBlazeFace640x480 runs the whole Engine on a 640×480 camera
// frame, as a JPEG and as a bgr8 sensor_msgs/msg/Image with padded rows, and
// reports the median of each stage.
func BenchmarkBlazeFace640x480(b *testing.B) {
	m, err := Open(cachedModel(b, BlazeFaceModel), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	_, portrait := astronaut(b)
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	xdraw.CatmullRom.Scale(frame, frame.Rect, portrait, portrait.Rect, xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, frame, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	e := inference.NewEngine(m)
	for _, in := range []inference.Input{
		{Data: buf.Bytes(), Encoding: media.JPEG},
		{Data: rosImage(frame, 640*3+64), Encoding: media.ROS(cdr.TypeImage)},
	} {
		name := in.Encoding
		if name != media.JPEG {
			name = "ros-image"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var pre, inf, post []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, t, err := e.Run(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.Contains(out.Data, []byte(`"score"`)) {
					b.Fatalf("no face: %s", out.Data)
				}
				pre, inf, post = append(pre, t.Preprocess), append(inf, t.Inference), append(post, t.Postprocess)
			}
			b.StopTimer()
			b.ReportMetric(float64(median(pre).Nanoseconds()), "pre-ns")
			b.ReportMetric(float64(median(inf).Nanoseconds()), "infer-ns")
			b.ReportMetric(float64(median(post).Nanoseconds()), "post-ns")
		})
	}
}
