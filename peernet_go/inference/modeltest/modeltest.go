// Package modeltest checks that an inference.Model behaves as the profiler
// expects: a conformance kit for model authors, in the manner of
// testing/fstest.
//
// Call [Run] from a test, with inputs the model accepts when the default
// (a few bytes) would not do:
//
//	func TestMyModel(t *testing.T) {
//		m, err := mymodel.New(...)
//		if err != nil {
//			t.Fatal(err)
//		}
//		modeltest.Run(t, m, inference.Input{Data: jpegBytes, Encoding: media.JPEG})
//	}
package modeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode JPEG outputs
	_ "image/png"  // decode PNG outputs
	"io"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// Runs is how many times Run runs each input.
const Runs = 3

// runTimeout bounds each inference Run makes.
const runTimeout = time.Minute

// DefaultInput is the input Run uses when given none.
var DefaultInput = inference.Input{Data: []byte("peernet modeltest"), Encoding: media.Bytes}

// Run checks m through an inference.Engine with each input (DefaultInput
// when none are given). It checks that:
//
//   - Engine.Run succeeds, again and again, with an output whose encoding
//     is set and whose data matches it (raw images have their size, JPEG
//     and PNG decode, JSON is valid, text is UTF-8);
//   - stage timings are not negative and add up to no more than the call;
//   - a cancelled context makes Run fail with an error wrapping
//     context.Canceled, an expired deadline with one wrapping
//     context.DeadlineExceeded, and the model works afterwards;
//   - if m implements io.Closer, Close returns nil and a second Close does
//     not panic. Run closes m at the end.
func Run(t *testing.T, m inference.Model, inputs ...inference.Input) {
	t.Helper()
	if len(inputs) == 0 {
		inputs = []inference.Input{DefaultInput}
	}
	e := inference.NewEngine(m)
	t.Run("Run", func(t *testing.T) {
		for i, in := range inputs {
			for r := range Runs {
				if err := run(e, in); err != nil {
					t.Fatalf("input %d, run %d: %v", i, r, err)
				}
			}
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := e.Run(ctx, inputs[0]); !errors.Is(err, context.Canceled) {
			t.Errorf("Run with a cancelled context = %v, want an error wrapping context.Canceled", err)
		}
		expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel2()
		if _, _, err := e.Run(expired, inputs[0]); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run past its deadline = %v, want an error wrapping context.DeadlineExceeded", err)
		}
		if err := run(e, inputs[0]); err != nil {
			t.Errorf("Run after cancelled runs: %v", err)
		}
	})
	t.Run("Close", func(t *testing.T) {
		c, ok := m.(io.Closer)
		if !ok {
			t.Skip("the model does not implement io.Closer")
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("second Close panicked: %v", r)
			}
		}()
		c.Close()
	})
}

func run(e *inference.Engine, in inference.Input) error {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	start := time.Now()
	out, tm, err := e.Run(ctx, in)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	if tm.Preprocess < 0 || tm.Inference < 0 || tm.Postprocess < 0 {
		return fmt.Errorf("negative stage time: %+v", tm)
	}
	if sum := tm.Preprocess + tm.Inference + tm.Postprocess; sum > elapsed {
		return fmt.Errorf("stage times add up to %v, more than the %v the call took", sum, elapsed)
	}
	return CheckOutput(out)
}

// CheckOutput checks that an output has an encoding and that its data is
// what the encoding says, for the encodings it knows (raw images, JPEG,
// PNG, JSON, text); others pass.
func CheckOutput(out inference.Output) error {
	enc := out.Encoding
	if enc == "" {
		return errors.New("output has no encoding")
	}
	if len(enc) > media.MaxLen {
		return fmt.Errorf("output encoding is %d bytes long, more than %d", len(enc), media.MaxLen)
	}
	if raw, err := media.ParseRawImage(enc); err == nil {
		if len(out.Data) != raw.Size() {
			return fmt.Errorf("output of encoding %s has %d bytes, want %d", enc, len(out.Data), raw.Size())
		}
		return nil
	}
	switch enc {
	case media.JPEG, media.PNG:
		if _, format, err := image.DecodeConfig(bytes.NewReader(out.Data)); err != nil || format != enc {
			return fmt.Errorf("output of encoding %s does not decode as one (%s, %w)", enc, format, err)
		}
	case media.JSON:
		if !json.Valid(out.Data) {
			return fmt.Errorf("output of encoding json is not valid JSON: %.80q", out.Data)
		}
	case media.Text:
		if !utf8.Valid(out.Data) {
			return errors.New("output of encoding text is not UTF-8")
		}
	}
	return nil
}
