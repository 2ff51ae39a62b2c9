package sensor_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/goplugin"
	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/sensor/sensortest"
)

// TestExternalPlugin builds ../examples/sensorplugin as a Go plugin and
// loads it through Open, as --sensor-type external does.
func TestExternalPlugin(t *testing.T) {
	if !goplugin.Supported {
		t.Skip("this build cannot load Go plugins (cgo is off)")
	}
	bctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	so, err := plugins.Build(bctx, "../examples/sensorplugin")
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			t.Skip("the go command is not in PATH: cannot build the plugin")
		}
		t.Fatal(err)
	}
	openNew := func(t *testing.T, size string) sensor.Sensor {
		s, err := sensor.Open(ctx(t), sensor.Options{Type: "external", Object: so + "::New", Size: size})
		if errors.Is(err, goplugin.ErrVersionMismatch) && testing.CoverMode() != "" {
			t.Skipf("coverage instrumentation changes package hashes, so the plugin cannot load: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("New", func(t *testing.T) {
		s := openNew(t, "256")
		defer s.Close()
		for i := uint64(1); i <= 3; i++ {
			smp := sample(t, s)
			if len(smp.Data) != 256 || smp.Encoding != media.Bytes {
				t.Fatalf("sample: %d bytes of %s", len(smp.Data), smp.Encoding)
			}
			if n := binary.BigEndian.Uint64(smp.Data); n != i {
				t.Fatalf("counter = %d, want %d", n, i)
			}
		}
	})
	t.Run("Conformance", func(t *testing.T) {
		sensortest.Run(t, func(t *testing.T) sensor.Sensor { return openNew(t, "") })
	})
	t.Run("ConstructorError", func(t *testing.T) {
		_, err := sensor.Open(ctx(t), sensor.Options{Type: "external", Object: so + "::New", Size: "4"})
		if err == nil || !strings.Contains(err.Error(), `counter: size "4": want one size of at least 8 bytes`) {
			t.Errorf("Open = %v", err)
		}
	})
	t.Run("Variable", func(t *testing.T) {
		// PEERNet's spelling: the module name without .so.
		s, err := sensor.Open(ctx(t), sensor.Options{Type: "external", Object: strings.TrimSuffix(so, ".so") + "::Clock"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		smp := sample(t, s)
		if _, err := time.Parse(time.RFC3339Nano, string(smp.Data)); err != nil || smp.Encoding != media.Text {
			t.Errorf("Clock sample %q (%s): %v", smp.Data, smp.Encoding, err)
		}
		sensortest.Run(t, func(t *testing.T) sensor.Sensor {
			s, err := sensor.Open(ctx(t), sensor.Options{Type: "external", Object: so + "::Clock"})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("MissingSymbol", func(t *testing.T) {
		_, err := sensor.Open(ctx(t), sensor.Options{Type: "external", Object: so + "::Nope"})
		if !errors.Is(err, goplugin.ErrSymbol) || !strings.Contains(err.Error(), "has no exported symbol Nope") {
			t.Errorf("Open = %v", err)
		}
	})
}

// plugins holds the plugins the tests build, once per process: a process
// loads a plugin package only once, also under go test -count=N.
var plugins goplugin.BuildCache

func TestMain(m *testing.M) {
	code := m.Run()
	plugins.Close()
	os.Exit(code)
}
