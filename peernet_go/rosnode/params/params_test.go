package params

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type qos struct {
	Reliability string `param:"reliability"`
	Depth       int    `param:"depth"`
}

type Common struct {
	Name string `param:"name"`
}

type config struct {
	Common
	Topic      string        `param:"sensor_topic"`
	Iterations int           `param:"iterations"`
	Rate       float64       `param:"rate"`
	Loop       bool          `param:"loop"`
	Timeout    time.Duration `param:"timeout"`
	Topics     []string      `param:"topics"`
	Weights    []float64     `param:"weights"`
	QoS        qos           `param:"qos"`
	internal   int           //nolint:unused // an unexported field, which Decode must skip
}

const file = `
/**:
  ros__parameters:
    rate: 10
    qos: {reliability: reliable, depth: 10}
edge_node:
  ros__parameters:
    sensor_topic: /camera/image_raw
    qos:
      depth: 5
other_node:
  ros__parameters:
    sensor_topic: /not/mine
/robot1:
  edge_node:
    ros__parameters:
      sensor_topic: /robot1/camera
`

func TestParseFile(t *testing.T) {
	p, err := ParseFile([]byte(file), "/edge_node")
	if err != nil {
		t.Fatal(err)
	}
	want := Params{"rate": 10, "qos.reliability": "reliable", "qos.depth": 5, "sensor_topic": "/camera/image_raw"}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("%v\nwant %v", p, want)
	}
	p, _ = ParseFile([]byte(file), "/robot1/edge_node")
	if p["sensor_topic"] != "/robot1/camera" || p["rate"] != 10 {
		t.Fatalf("namespaced node: %v", p)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, fqn string
		want         bool
	}{
		{"/**", "/edge_node", true},
		{"/**", "/a/b/c", true},
		{"edge_node", "/edge_node", true},
		{"/edge_node", "/edge_node", true},
		{"/edge_node", "/ns/edge_node", false},
		{"/*", "/edge_node", true},
		{"/*", "/ns/edge_node", false},
		{"/ns/*", "/ns/edge_node", true},
		{"/**/edge_node", "/a/b/edge_node", true},
		{"/**/edge_node", "/edge_node", true},
		{"/**/edge_*", "/x/edge_1", true},
		{"/ns/**", "/other/edge_node", false},
		{"/edge_node", "/edge_node2", false},
	} {
		if got := Match(c.pattern, c.fqn); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.fqn, got, c.want)
		}
	}
}

func TestFromArgs(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "edge.yaml")
	os.WriteFile(f1, []byte(file), 0o644)
	f2 := filepath.Join(dir, "launch_params_x")
	os.WriteFile(f2, []byte("/**:\n  ros__parameters:\n    iterations: 100\n    rate: 30.0\n"), 0o644)
	args := []string{
		"--not-ros", "-p", "ignored:=1",
		"--ros-args", "-r", "__node:=edge_node", "--params-file", f1, "--params-file", f2,
		"-p", "sensor_topic:=/imu", "-p", "topics:=[/a, /b]", "--log-level", "debug", "-p", "name:=edge", "--",
		"-p", "outside:=1",
	}
	p, err := FromArgs(args, "/edge_node")
	if err != nil {
		t.Fatal(err)
	}
	var c config
	c.Timeout = 5 * time.Second // a default the parameters leave alone
	if err := p.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := config{
		Common: Common{Name: "edge"},
		Topic:  "/imu", Iterations: 100, Rate: 30, Timeout: 5 * time.Second,
		Topics: []string{"/a", "/b"}, QoS: qos{Reliability: "reliable", Depth: 5},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("%+v\nwant %+v", c, want)
	}
}

func TestDecodeConversions(t *testing.T) {
	p := Params{
		"sensor_topic": 42, "iterations": 3.0, "rate": 2, "loop": true,
		"timeout": "250ms", "topics": "/a, /b,,", "weights": []any{1, 2.5},
	}
	var c config
	if err := p.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Topic != "42" || c.Iterations != 3 || c.Rate != 2 || !c.Loop || c.Timeout != 250*time.Millisecond ||
		!reflect.DeepEqual(c.Topics, []string{"/a", "/b"}) || !reflect.DeepEqual(c.Weights, []float64{1, 2.5}) {
		t.Fatalf("%+v", c)
	}
	if err := (Params{"timeout": 1.5}).Decode(&c); err != nil || c.Timeout != 1500*time.Millisecond {
		t.Fatalf("timeout 1.5: %v %v", c.Timeout, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		p    Params
		want string
	}{
		{Params{"iterations": "many"}, `parameter iterations: want an integer, got "many"`},
		{Params{"iterations": 1.5}, "parameter iterations: want an integer, got 1.5"},
		{Params{"loop": "yes please"}, `parameter loop: want true or false, got "yes please"`},
		{Params{"rate": "fast"}, `parameter rate: want a number, got "fast"`},
		{Params{"timeout": "soon"}, `parameter timeout: want seconds or a duration such as "250ms", got "soon"`},
		{Params{"qos.depth": []any{1}}, "parameter qos.depth: want an integer, got an array"},
		{Params{"weights": []any{"x"}}, `parameter weights: element 0: want a number, got "x"`},
		{Params{"sensor_topik": "/x"}, "unknown parameter sensor_topik (known: name, sensor_topic, iterations, rate, loop, timeout, topics, weights, qos.reliability, qos.depth)"},
	} {
		var cfg config
		err := c.p.Decode(&cfg)
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one ending %q", c.p, err, c.want)
		}
	}
	if err := (Params{}).Decode(config{}); err == nil {
		t.Error("Decode into a non-pointer accepted")
	}
}

func TestFileErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"[1, 2]", "line 1: top level must map node names to their parameters"},
		{"edge_node: 5", `line 1: "edge_node" must hold ros__parameters or nested node names`},
		{"edge_node:\n  ros__parameters: [1]", "line 2: ros__parameters must be a mapping"},
		{"edge_node:\n  ros__parameters:\n    x: null", "parameter x: no value (null)"},
		{"edge_node:\n  ros__parameters:\n    x: [1, {a: 1}]", "parameter x: array element map[a:1] is not a bool, integer, double or string"},
		{"edge_node: {ros__parameters: {x: 1}", "invalid YAML"},
	} {
		_, err := ParseFile([]byte(c.doc), "/edge_node")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.doc, err, c.want)
		}
	}
	if p, err := ParseFile(nil, "/x"); err != nil || len(p) != 0 {
		t.Errorf("empty file: %v %v", p, err)
	}
	for _, args := range [][]string{
		{"--ros-args", "-p"},
		{"--ros-args", "-p", "novalue"},
		{"--ros-args", "-p", "x:=[1"},
		{"--ros-args", "--params-file", "/nonexistent/params.yaml"},
	} {
		if _, err := FromArgs(args, "/n"); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(file), "/edge_node")
	f.Add([]byte("/**:\n  ros__parameters:\n    a: [1, 2]\n    b: {c: x}\n"), "/ns/n")
	f.Fuzz(func(t *testing.T, doc []byte, fqn string) {
		p, err := ParseFile(doc, fqn)
		if err != nil {
			return
		}
		for name, v := range p {
			if err := (Params{}).set(name, v); err != nil {
				t.Fatalf("parameter %s = %#v was kept but is not a parameter value: %v", name, v, err)
			}
		}
		var c config
		_ = p.Decode(&c) // must not panic
	})
}
