// Package sensortest checks that a sensor.Sensor behaves as the profiler
// expects: a conformance kit for sensor authors, in the manner of
// testing/fstest.
//
// Call [Run] from a test with a function that opens a fresh sensor:
//
//	func TestMySensor(t *testing.T) {
//		sensortest.Run(t, func(t *testing.T) sensor.Sensor {
//			s, err := mysensor.New(...)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
package sensortest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode JPEG samples
	_ "image/png"  // decode PNG samples
	"io"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// Samples is how many samples Run takes in a row.
const Samples = 5

// sampleTimeout bounds each Sample call Run makes.
const sampleTimeout = 30 * time.Second

// Run checks the sensors open returns. Each subtest opens its own sensor
// and closes it. It checks that:
//
//   - Sample returns data with an encoding, and data that matches it:
//     raw images ("rgb8:WxH") have exactly their size in bytes, JPEG and
//     PNG decode, JSON is valid, text is UTF-8;
//   - Sample.Time is set, on the local clock, no later than Sample's return;
//   - the Data of one sample stays unchanged until the next call (sensors
//     may reuse buffers, but not behind the caller's back);
//   - Sample with a cancelled context fails with an error wrapping
//     context.Canceled, and the sensor works afterwards;
//   - Close returns nil, and neither a second Close nor a Sample after
//     Close panics.
//
// A finite sensor may return io.EOF once it has produced at least one
// sample.
func Run(t *testing.T, open func(t *testing.T) sensor.Sensor) {
	t.Helper()
	t.Run("Samples", func(t *testing.T) { testSamples(t, open(t)) })
	t.Run("CancelledContext", func(t *testing.T) { testCancel(t, open(t)) })
	t.Run("Close", func(t *testing.T) { testClose(t, open(t)) })
}

func sample(t *testing.T, s sensor.Sensor) (sensor.Sample, time.Time, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sampleTimeout)
	defer cancel()
	smp, err := s.Sample(ctx)
	return smp, time.Now(), err
}

func testSamples(t *testing.T, s sensor.Sensor) {
	defer s.Close()
	var prev sensor.Sample
	var prevCopy []byte
	for i := range Samples {
		before := time.Now()
		if i > 0 {
			// Whatever the sensor does between calls must leave the
			// last sample alone.
			time.Sleep(5 * time.Millisecond)
			if !bytes.Equal(prev.Data, prevCopy) {
				t.Fatalf("sample %d changed before the next call to Sample", i-1)
			}
		}
		smp, after, err := sample(t, s)
		if errors.Is(err, io.EOF) && i > 0 {
			return
		}
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		checkSample(t, i, smp, before, after)
		prev, prevCopy = smp, append(prevCopy[:0], smp.Data...)
	}
}

func checkSample(t *testing.T, i int, smp sensor.Sample, before, after time.Time) {
	t.Helper()
	if smp.Encoding == "" {
		t.Errorf("sample %d has no encoding", i)
	}
	if len(smp.Encoding) > media.MaxLen {
		t.Errorf("sample %d: encoding is %d bytes long, more than %d", i, len(smp.Encoding), media.MaxLen)
	}
	switch {
	case smp.Time.IsZero():
		t.Errorf("sample %d has no Time", i)
	case smp.Time.After(after):
		t.Errorf("sample %d: Time %v is after Sample returned (%v)", i, smp.Time, after)
	case smp.Time.Before(before.Add(-time.Minute)):
		t.Errorf("sample %d: Time %v is more than a minute before Sample was called (%v)", i, smp.Time, before)
	}
	if err := CheckData(smp.Data, smp.Encoding); err != nil {
		t.Errorf("sample %d: %v", i, err)
	}
}

// CheckData checks that data is what its encoding says, for the encodings
// it knows (raw images, JPEG, PNG, JSON, text); others pass.
func CheckData(data []byte, enc string) error {
	if raw, err := media.ParseRawImage(enc); err == nil {
		if len(data) != raw.Size() {
			return fmt.Errorf("data of encoding %s has %d bytes, want %d", enc, len(data), raw.Size())
		}
		return nil
	}
	switch enc {
	case media.JPEG, media.PNG:
		_, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("data of encoding %s does not decode: %w", enc, err)
		}
		if format != enc {
			return fmt.Errorf("data of encoding %s is a %s image", enc, format)
		}
	case media.JSON:
		if !json.Valid(data) {
			return fmt.Errorf("data of encoding %s is not valid JSON", enc)
		}
	case media.Text:
		if !utf8.Valid(data) {
			return fmt.Errorf("data of encoding %s is not UTF-8", enc)
		}
	}
	return nil
}

func testCancel(t *testing.T, s sensor.Sensor) {
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sample(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sample with a cancelled context = %v, want an error wrapping context.Canceled", err)
	}
	if _, _, err := sample(t, s); err != nil && !errors.Is(err, io.EOF) {
		t.Errorf("Sample after a cancelled call: %v", err)
	}
}

func testClose(t *testing.T, s sensor.Sensor) {
	if _, _, err := sample(t, s); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("Sample: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("second Close panicked: %v", r)
			}
		}()
		s.Close()
	}()
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Sample after Close panicked: %v", r)
			}
		}()
		_, _, _ = sample(t, s) // any answer but a panic will do
	}()
}
