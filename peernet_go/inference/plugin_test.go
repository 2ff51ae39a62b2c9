package inference_test

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/goplugin"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/modeltest"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// TestPluginModel builds ../examples/modelplugin as a Go plugin and loads
// it through OpenBuiltin, as --model-name path::Symbol does.
func TestPluginModel(t *testing.T) {
	if !goplugin.Supported {
		t.Skip("this build cannot load Go plugins (cgo is off)")
	}
	bctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	so, err := plugins.Build(bctx, "../examples/modelplugin")
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			t.Skip("the go command is not in PATH: cannot build the plugin")
		}
		t.Fatal(err)
	}
	load := func(t *testing.T, spec string) inference.Model {
		m, ok, err := inference.OpenBuiltin(spec)
		if errors.Is(err, goplugin.ErrVersionMismatch) && testing.CoverMode() != "" {
			t.Skipf("coverage instrumentation changes package hashes, so the plugin cannot load: %v", err)
		}
		if !ok || err != nil {
			t.Fatalf("OpenBuiltin(%q) = %v, %v", spec, ok, err)
		}
		return m
	}
	// Model is a variable, New a constructor; the PEERNet spelling drops .so.
	for _, spec := range []string{so + "::Model", so + "::New", strings.TrimSuffix(so, ".so") + "::Model"} {
		t.Run(filepath.Base(spec), func(t *testing.T) {
			m := load(t, spec)
			e := inference.NewEngine(m)
			in := []byte("hello, plugin")
			out, tm, err := e.Run(ctx(t), inference.Input{Data: in, Encoding: media.Text})
			if err != nil {
				t.Fatal(err)
			}
			var reply struct {
				Bytes int    `json:"bytes"`
				CRC   uint32 `json:"crc32"`
				Label string `json:"label"`
			}
			if err := json.Unmarshal(out.Data, &reply); err != nil || out.Encoding != media.JSON {
				t.Fatalf("reply %q (%s): %v", out.Data, out.Encoding, err)
			}
			if reply.Bytes != len(in) || reply.CRC != crc32.ChecksumIEEE(in) || reply.Label == "" {
				t.Errorf("reply %+v", reply)
			}
			if tm.Preprocess <= 0 || tm.Postprocess <= 0 {
				t.Errorf("the plugin's stages were not timed: %+v", tm)
			}
			modeltest.Run(t, m)
		})
	}
	if _, _, err := inference.OpenBuiltin(so + "::Missing"); !errors.Is(err, goplugin.ErrSymbol) {
		t.Errorf("missing symbol: %v", err)
	}
}

// plugins holds the plugins the tests build, once per process: a process
// loads a plugin package only once, also under go test -count=N.
var plugins goplugin.BuildCache

func TestMain(m *testing.M) {
	code := m.Run()
	plugins.Close()
	os.Exit(code)
}
