package vision

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"testing/iotest"
)

func TestClassifier(t *testing.T) {
	c, err := NewClassifier(ClassifyConfig{TopK: 3, Labels: []string{"cat", "dog", "bird", "fish"}})
	if err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	top := c.Decode([]float32{0.1, nan, 0.7, 0.2, 0.9, 0.7})
	want := []Class{{4, "", 0.9}, {2, "bird", 0.7}, {5, "", 0.7}}
	if len(top) != 3 {
		t.Fatalf("top %v", top)
	}
	for i := range want {
		if top[i] != want[i] {
			t.Fatalf("top %v, want %v", top, want)
		}
	}
	if got := string(AppendClassesJSON(nil, top)); got != `{"top":[{"index":4,"score":0.9},{"index":2,"label":"bird","score":0.7},{"index":5,"score":0.7}]}` {
		t.Fatalf("JSON %s", got)
	}
	if top := c.Decode([]float32{1}); len(top) != 1 || top[0] != (Class{0, "cat", 1}) {
		t.Fatalf("one class: %v", top)
	}
	if top := c.Decode(nil); len(top) != 0 {
		t.Fatalf("no classes: %v", top)
	}

	sm, err := NewClassifier(ClassifyConfig{TopK: 2, Softmax: true})
	if err != nil {
		t.Fatal(err)
	}
	top = sm.Decode([]float32{1, 2, 3})
	e := math.Exp
	sum := e(1) + e(2) + e(3)
	if math.Abs(float64(top[0].Score)-e(3)/sum) > 1e-6 || math.Abs(float64(top[1].Score)-e(2)/sum) > 1e-6 || top[0].Index != 2 {
		t.Fatalf("softmax top %v", top)
	}
	if allocs := testing.AllocsPerRun(100, func() { sm.Decode([]float32{1, 2, 3}) }); allocs != 0 {
		t.Errorf("%v allocations per decode", allocs)
	}
	if _, err := NewClassifier(ClassifyConfig{TopK: -1}); err == nil || !strings.Contains(err.Error(), "top_k") {
		t.Errorf("top_k -1: %v", err)
	}
}

func TestReadLabels(t *testing.T) {
	labels, err := ReadLabels(strings.NewReader("tench\n goldfish \r\ngreat white shark\n"))
	if err != nil || len(labels) != 3 || labels[1] != "goldfish" || labels[2] != "great white shark" {
		t.Fatalf("%q, %v", labels, err)
	}
	if _, err := ReadLabels(iotest.ErrReader(iotest.ErrTimeout)); err == nil {
		t.Error("read error ignored")
	}
	if _, err := ReadLabels(strings.NewReader(strings.Repeat("x", 1<<17))); err == nil {
		t.Error("overlong line accepted")
	}
}

func TestAppendRawJSON(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	ts := []RawTensor{
		{Name: "y", Shape: []int64{1, 4}, Data: []float32{1, nan, -2.5, 0.1}},
		{Name: "z\"", Shape: []int64{2}, Data: []float32{inf, 3}},
		{Name: "empty", Shape: []int64{0}},
	}
	got := string(AppendRawJSON(nil, ts, RawConfig{MaxValues: 3}))
	want := `{"outputs":[{"name":"y","shape":[1,4],"min":-2.5,"max":1,"mean":-0.46666667,"values":[1,null,-2.5]},` +
		`{"name":"z\"","shape":[2],"min":3,"max":null,"mean":null,"values":[null,3]},` +
		`{"name":"empty","shape":[0],"values":[]}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Fatal("invalid JSON")
	}
	if got := string(AppendRawJSON(nil, ts[:1], RawConfig{MaxValues: -1})); !strings.Contains(got, `"values":[1,null,-2.5,0.1]`) {
		t.Fatalf("all values: %s", got)
	}
	c := RawConfig{}
	if err := c.Initialize(); err != nil || c.MaxValues != 16 {
		t.Fatalf("default: %+v %v", c, err)
	}
	if c := (RawConfig{MaxValues: -5}); c.Initialize() == nil {
		t.Error("max_values -5 accepted")
	}
}
