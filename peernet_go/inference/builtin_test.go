package inference_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/modeltest"
	"github.com/peernet/peernet_go/peernet_go/media"
)

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func openBuiltin(t *testing.T, spec string) inference.Model {
	t.Helper()
	m, ok, err := inference.OpenBuiltin(spec)
	if !ok || err != nil {
		t.Fatalf("OpenBuiltin(%q) = %v, %v", spec, ok, err)
	}
	return m
}

func TestParseDummy(t *testing.T) {
	good := map[string]inference.DummyOptions{
		"dummy":                             {},
		"dummy:":                            {},
		"dummy:pre=1ms,infer=10ms,post=1ms": {Preprocess: time.Millisecond, Inference: 10 * time.Millisecond, Postprocess: time.Millisecond},
		"dummy:infer=2.5ms":                 {Inference: 2500 * time.Microsecond},
		"dummy: preprocess = 1s , inference=0, postprocess=3us": {Preprocess: time.Second, Postprocess: 3 * time.Microsecond},
	}
	for spec, want := range good {
		got, err := inference.ParseDummy(spec)
		if err != nil || got != want {
			t.Errorf("ParseDummy(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	bad := map[string]string{
		"dumb":                         `inference: "dumb" is not a dummy model spec (want dummy or dummy:pre=1ms,infer=10ms,post=1ms)`,
		"dummyx":                       `inference: "dummyx" is not a dummy model spec (want dummy or dummy:pre=1ms,infer=10ms,post=1ms)`,
		"dummy:pre=-1ms":               `inference: "dummy:pre=-1ms": stage pre: -1ms is negative`,
		"dummy:sleep=1ms":              `inference: "dummy:sleep=1ms": unknown stage "sleep" (want pre, infer or post)`,
		"dummy:pre":                    `inference: "dummy:pre": "pre" is not stage=duration`,
		"dummy:infer=10":               `inference: "dummy:infer=10": stage infer: time: missing unit in duration "10"`,
		"dummy:pre=1ms,pre=2ms":        `inference: "dummy:pre=1ms,pre=2ms": stage pre given twice`,
		"dummy:pre=1ms,preprocess=1ms": `inference: "dummy:pre=1ms,preprocess=1ms": stage preprocess given twice`,
	}
	for spec, want := range bad {
		if _, err := inference.ParseDummy(spec); err == nil || err.Error() != want {
			t.Errorf("ParseDummy(%q) error:\n got %v\nwant %s", spec, err, want)
		}
	}
	if _, err := inference.NewDummy(inference.DummyOptions{Inference: -time.Nanosecond}); err == nil || err.Error() != "inference: dummy: Inference -1ns is negative" {
		t.Errorf("NewDummy(negative) = %v", err)
	}
}

func FuzzParseDummy(f *testing.F) {
	for _, s := range []string{"dummy", "dummy:pre=1ms,infer=10ms,post=1ms", "dummy:infer=-1s", "dummy:x=1", "dummy:,", "dummy:pre=1h1m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		o, err := inference.ParseDummy(spec)
		if err != nil {
			return
		}
		if o.Preprocess < 0 || o.Inference < 0 || o.Postprocess < 0 {
			t.Fatalf("ParseDummy(%q) = %+v: negative stage", spec, o)
		}
		if _, err := inference.NewDummy(o); err != nil {
			t.Fatalf("NewDummy(ParseDummy(%q)): %v", spec, err)
		}
	})
}

func TestDummy(t *testing.T) {
	m := openBuiltin(t, "dummy:pre=2ms,infer=20ms,post=3ms")
	e := inference.NewEngine(m)
	out, tm, err := e.Run(ctx(t), inference.Input{Data: []byte("x"), Encoding: media.Bytes})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Data) != inference.DummyReply || out.Encoding != media.JSON {
		t.Errorf("reply %q (%s)", out.Data, out.Encoding)
	}
	if tm.Preprocess < 2*time.Millisecond || tm.Inference < 20*time.Millisecond || tm.Postprocess < 3*time.Millisecond {
		t.Errorf("stage times %+v shorter than configured", tm)
	}
	// The sleep gives way to the context: PEERNet's dummy slept its 100 ms
	// whatever happened.
	slow := inference.NewEngine(openBuiltin(t, "dummy:infer=1h"))
	c, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = slow.Run(c, inference.Input{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run past deadline = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled sleep took %v", d)
	}
	// No sleep at all by default.
	fast := inference.NewEngine(openBuiltin(t, "dummy"))
	_, tm, err = fast.Run(ctx(t), inference.Input{})
	if err != nil || tm.Inference > 50*time.Millisecond {
		t.Errorf("default dummy: %+v, %v", tm, err)
	}
}

func TestEcho(t *testing.T) {
	e := inference.NewEngine(openBuiltin(t, "echo"))
	in := inference.Input{Data: []byte{1, 2, 3}, Encoding: "rgb8:1x1"}
	out, _, err := e.Run(ctx(t), in)
	if err != nil || !bytes.Equal(out.Data, in.Data) || out.Encoding != in.Encoding {
		t.Errorf("echo: %+v, %v", out, err)
	}
}

func TestOpenBuiltin(t *testing.T) {
	for _, spec := range []string{"onnx:model.onnx", "onnx:odd::name.onnx", "efficientnet_v2_s", "", "dummyx"} {
		m, ok, err := inference.OpenBuiltin(spec)
		if ok || err != nil || m != nil {
			t.Errorf("OpenBuiltin(%q) = %v, %v, %v; want not mine", spec, m, ok, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "custom_model.py"), []byte("custom_object = None"), 0o644)
	bad := map[string]string{
		"dummy:infer=x":     `inference: "dummy:infer=x": stage infer: time: invalid duration "x"`,
		"exec:  ":           "inference: exec model: empty command",
		"nothing.so::Model": `inference: goplugin: nothing.so::Model: stat nothing.so: no such file or directory`,
		filepath.Join(dir, "custom_model") + "::Custom_object": "--model-name 'exec:python3 peernet_object.py model custom_model::Custom_object'",
	}
	for spec, want := range bad {
		_, ok, err := inference.OpenBuiltin(spec)
		if !ok || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenBuiltin(%q) = %v, %v; want an error containing %s", spec, ok, err, want)
		}
	}
}

func TestExecModel(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not in PATH")
	}
	m := openBuiltin(t, "exec:python3 ../examples/exec/model.py")
	defer m.(*inference.Exec).Close()
	e := inference.NewEngine(m)
	out, _, err := e.Run(ctx(t), inference.Input{Data: make([]byte, 5000), Encoding: media.Bytes})
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Label string
		Bytes int
	}
	if err := json.Unmarshal(out.Data, &reply); err != nil || reply.Bytes != 5000 || out.Encoding != media.Bytes {
		t.Errorf("reply %q (%s): %v", out.Data, out.Encoding, err)
	}

	js, err := inference.NewExec("python3 ../examples/exec/model.py", inference.ExecOptions{Encoding: media.JSON, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Run(t, js, inference.Input{Data: []byte("a"), Encoding: media.Text}, inference.Input{Data: make([]byte, 1<<20), Encoding: media.Bytes})

	slow, err := inference.NewExec("sleep 5", inference.ExecOptions{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Infer(ctx(t), inference.Input{Data: []byte("x")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow exec model = %v", err)
	}
	if _, err := slow.Infer(ctx(t), 42); err == nil || !strings.Contains(err.Error(), "input of type int") {
		t.Errorf("wrong input type = %v", err)
	}
	if _, err := inference.NewExec("cat", inference.ExecOptions{Timeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
}

func TestConformance(t *testing.T) {
	raw := inference.Input{Data: make([]byte, 4*3*3), Encoding: "rgb8:4x3"}
	cases := map[string]struct {
		spec   string
		inputs []inference.Input
	}{
		"dummy":        {"dummy", nil},
		"dummy-sleep":  {"dummy:pre=1ms,infer=2ms,post=1ms", nil},
		"echo":         {"echo", []inference.Input{raw, modeltest.DefaultInput}},
		"exec-cat":     {"exec:cat", nil},
		"exec-sh-echo": {`exec:while n=$(dd bs=4 count=1 status=none | od -An -tu1); [ -n "$n" ]; do set -- $n; len=$(( ($1<<24)|($2<<16)|($3<<8)|$4 )); dd bs=1 count=$len status=none of=/dev/null; printf "\000\000\000\002ok"; done`, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			modeltest.Run(t, openBuiltin(t, c.spec), c.inputs...)
		})
	}
	t.Run("func", func(t *testing.T) {
		modeltest.Run(t, inference.Func(func(ctx context.Context, in any) (any, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return map[string]int{"n": len(in.(inference.Input).Data)}, nil
		}))
	})
}
