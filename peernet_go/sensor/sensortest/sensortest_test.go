package sensortest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/sensor/sensortest"
)

// good is a correct sensor.
type good struct {
	buf    []byte
	n      byte
	closed bool
}

func (g *good) Sample(ctx context.Context) (sensor.Sample, error) {
	if g.closed {
		return sensor.Sample{}, sensor.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return sensor.Sample{}, err
	}
	g.n++
	for i := range g.buf {
		g.buf[i] = g.n
	}
	return sensor.Sample{Data: g.buf, Encoding: "rgb8:2x2", Time: time.Now()}, nil
}

func (g *good) Close() error {
	if g.closed {
		panic("closed twice") // only the "close-twice" fault reaches this
	}
	g.closed = true
	return nil
}

func TestRunPasses(t *testing.T) {
	sensortest.Run(t, func(t *testing.T) sensor.Sensor { return &goodTwice{good{buf: make([]byte, 12)}} })
	sensortest.Run(t, func(t *testing.T) sensor.Sensor {
		return sensor.Func(func(ctx context.Context) (sensor.Sample, error) {
			if err := ctx.Err(); err != nil {
				return sensor.Sample{}, err
			}
			return sensor.Sample{Data: []byte(`{"a":1}`), Encoding: media.JSON, Time: time.Now()}, nil
		})
	})
}

// goodTwice tolerates a second Close.
type goodTwice struct{ good }

func (g *goodTwice) Close() error { g.closed = true; return nil }

// faulty sensors, each breaking one rule.
func faulty(kind string) sensor.Sensor {
	g := &goodTwice{good{buf: make([]byte, 12)}}
	switch kind {
	case "no-encoding", "bad-raw-size", "no-time", "ignores-cancel", "bad-jpeg", "future-time":
		return sensor.Func(func(ctx context.Context) (sensor.Sample, error) {
			smp, _ := g.Sample(context.Background())
			switch kind {
			case "no-encoding":
				smp.Encoding = ""
			case "bad-raw-size":
				smp.Data = smp.Data[:5]
			case "no-time":
				smp.Time = time.Time{}
			case "future-time":
				smp.Time = time.Now().Add(time.Hour)
			case "bad-jpeg":
				smp.Encoding = media.JPEG
			case "ignores-cancel":
			}
			return smp, nil
		})
	case "mutates":
		return sensor.Func(func(ctx context.Context) (sensor.Sample, error) {
			smp, err := g.Sample(ctx)
			if err != nil {
				return smp, err
			}
			// A writer still busy after Sample returned, as in a sensor
			// that fills its next frame in the background.
			go func(b []byte) {
				time.Sleep(100 * time.Microsecond)
				b[0] ^= 0xff
			}(smp.Data)
			return smp, nil
		})
	case "close-twice":
		return &good{buf: make([]byte, 12)}
	}
	panic("unknown fault " + kind)
}

// TestFault runs the kit on one faulty sensor when asked to by
// TestRunCatchesFaults, which expects it to fail.
func TestFault(t *testing.T) {
	kind := os.Getenv("SENSORTEST_FAULT")
	if kind == "" {
		t.Skip("run by TestRunCatchesFaults")
	}
	sensortest.Run(t, func(t *testing.T) sensor.Sensor { return faulty(kind) })
}

func TestRunCatchesFaults(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	faults := map[string]string{
		"no-encoding":    "sample 0 has no encoding",
		"bad-raw-size":   "data of encoding rgb8:2x2 has 5 bytes, want 12",
		"no-time":        "sample 0 has no Time",
		"future-time":    "is after Sample returned",
		"bad-jpeg":       "data of encoding jpeg does not decode",
		"ignores-cancel": "Sample with a cancelled context = <nil>, want an error wrapping context.Canceled",
		"mutates":        "changed before the next call to Sample",
		"close-twice":    "second Close panicked: closed twice",
	}
	for kind, want := range faults {
		t.Run(kind, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^TestFault$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SENSORTEST_FAULT="+kind, "GORACE=atexit_sleep_ms=0 halt_on_error=0")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the kit passed a sensor with fault %s:\n%s", kind, out)
			}
			// Under -race the detector may see the mutating sensor first.
			if !strings.Contains(string(out), want) && !(kind == "mutates" && strings.Contains(string(out), "WARNING: DATA RACE")) {
				t.Fatalf("the kit's report does not say %q:\n%s", want, out)
			}
		})
	}
}
