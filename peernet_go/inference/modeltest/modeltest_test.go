package modeltest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/modeltest"
	"github.com/peernet/peernet_go/peernet_go/media"
)

func TestRunPasses(t *testing.T) {
	modeltest.Run(t, inference.Echo{})
	modeltest.Run(t, inference.Echo{}, inference.Input{Data: make([]byte, 6), Encoding: "mono8:3x2"})
}

// faultyModel breaks one rule.
type faultyModel struct {
	kind   string
	runs   int
	closed bool
}

func (m *faultyModel) Infer(ctx context.Context, in any) (any, error) {
	m.runs++
	if m.kind != "ignores-cancel" {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	switch m.kind {
	case "no-encoding":
		return inference.Output{Data: []byte("x")}, nil
	case "bad-json":
		return inference.Output{Data: []byte("{"), Encoding: media.JSON}, nil
	case "bad-raw":
		return inference.Output{Data: []byte("xyz"), Encoding: "rgb8:2x2"}, nil
	case "fails-later":
		if m.runs > 1 {
			return nil, errors.New("worn out")
		}
	case "unmarshalable":
		return make(chan int), nil
	}
	return in, nil
}

func (m *faultyModel) Close() error {
	if m.kind == "close-twice" && m.closed {
		panic("closed twice")
	}
	m.closed = true
	return nil
}

// TestFault runs the kit on one faulty model when asked to by
// TestRunCatchesFaults, which expects it to fail.
func TestFault(t *testing.T) {
	kind := os.Getenv("MODELTEST_FAULT")
	if kind == "" {
		t.Skip("run by TestRunCatchesFaults")
	}
	modeltest.Run(t, &faultyModel{kind: kind})
}

func TestRunCatchesFaults(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	faults := map[string]string{
		"no-encoding":    "output has no encoding",
		"bad-json":       "output of encoding json is not valid JSON",
		"bad-raw":        "output of encoding rgb8:2x2 has 3 bytes, want 12",
		"fails-later":    "input 0, run 1: inference: worn out",
		"unmarshalable":  "model output chan int is not bytes, text or JSON",
		"ignores-cancel": "Run with a cancelled context = <nil>, want an error wrapping context.Canceled",
		"close-twice":    "second Close panicked: closed twice",
	}
	for kind, want := range faults {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(exe, "-test.run=^TestFault$", "-test.count=1")
			cmd.Env = append(os.Environ(), "MODELTEST_FAULT="+kind, "GORACE=atexit_sleep_ms=0")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the kit passed a model with fault %s:\n%s", kind, out)
			}
			if !strings.Contains(string(out), want) {
				t.Fatalf("the kit's report does not say %q:\n%s", want, out)
			}
		})
	}
}
