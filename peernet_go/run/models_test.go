package run

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/inference"
)

func TestOpenEngines(t *testing.T) {
	engines, closeAll, err := OpenEngines(ModelOptions{Name: "echo", Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if len(engines) != 3 {
		t.Fatalf("%d engines, want 3", len(engines))
	}
	out, _, err := engines[2].Run(context.Background(), inference.Input{Data: []byte("hi"), Encoding: "text"})
	if err != nil || string(out.Data) != "hi" {
		t.Fatalf("echo engine: %q, %v", out.Data, err)
	}
}

func TestOpenModelDefault(t *testing.T) {
	m, err := OpenModel(ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := m.(interface{ Close() error }); ok {
		c.Close()
	}
}

func TestOpenModelErrors(t *testing.T) {
	for _, c := range []struct {
		o       ModelOptions
		want    string
		specErr bool
	}{
		{ModelOptions{Name: "resnet"}, `model "resnet": unknown model`, true},
		{ModelOptions{Name: "dummy:infer=fast"}, `model "dummy:infer=fast"`, true},
		{ModelOptions{Name: "echo", Workers: MaxWorkers + 1}, "257 workers, want 1–256", true},
		{ModelOptions{Name: "onnx:/nonexistent/model.onnx"}, "model onnx:/nonexistent/model.onnx", false},
	} {
		_, _, err := OpenEngines(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.o, err, c.want)
			continue
		}
		var se *SpecError
		if errors.As(err, &se) != c.specErr {
			t.Errorf("%+v: error %v: SpecError %v, want %v", c.o, err, !c.specErr, c.specErr)
		}
	}
}
