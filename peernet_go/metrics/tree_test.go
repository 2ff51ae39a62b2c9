package metrics_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

func mustSection(t *testing.T, n *metrics.Node, name string, k metrics.Kind) *metrics.Node {
	t.Helper()
	c, err := n.Section(name, k)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNodeTimerValueRate(t *testing.T) {
	root := metrics.NewNode("root", metrics.KindContainer)
	tm := mustSection(t, root, "sleep", metrics.KindTimer)
	v := mustSection(t, root, "frames", metrics.KindValue)
	r := mustSection(t, root, "tps", metrics.KindRate)

	if _, ok := root.Metric("sleep"); ok {
		t.Fatal("timer has a metric before End")
	}
	time.Sleep(20 * time.Millisecond)
	tm.End()
	v.EndWith(3)
	r.EndWith(100)

	secs, ok := root.Metric("sleep")
	if !ok || secs < 0.020 || secs > 2 {
		t.Fatalf("timer = %v, %v; want ≥ 0.020 s", secs, ok)
	}
	if got, ok := root.Metric("frames"); !ok || got != 3 {
		t.Fatalf("value = %v, %v; want 3", got, ok)
	}
	// 100 tokens over ≥ 20 ms: at most 5000 per second.
	if got, ok := root.Metric("tps"); !ok || got <= 0 || got > 5000 {
		t.Fatalf("rate = %v, %v; want in (0, 5000]", got, ok)
	}
	if _, ok := root.Result(); ok {
		t.Fatal("a container has a metric")
	}
	if _, ok := root.Metric("missing"); ok {
		t.Fatal("metric of a missing child")
	}
	tm.Start()
	if _, ok := tm.Result(); ok {
		t.Fatal("Start did not clear the metric")
	}
}

func TestNodeSectionErrors(t *testing.T) {
	root := metrics.NewNode("root", metrics.KindContainer)
	first := mustSection(t, root, "upload", metrics.KindTimer)
	_, err := root.Section("upload", metrics.KindValue)
	var dup *metrics.AlreadyRegisteredError
	if !errors.As(err, &dup) || dup.Existing != first || dup.Parent != "root" {
		t.Fatalf("duplicate section: got %v", err)
	}
	if want := `metrics: section "upload" already exists in "root"`; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	for _, bad := range []string{"", "a_b", "a\nb"} {
		if _, err := root.Section(bad, metrics.KindTimer); err == nil {
			t.Errorf("Section(%q) accepted", bad)
		}
	}
}

func TestNodeEndSub(t *testing.T) {
	root := metrics.NewNode("root", metrics.KindTimer)
	it := mustSection(t, root, "it", metrics.KindContainer)
	a := mustSection(t, it, "x", metrics.KindValue)
	b := mustSection(t, root, "x", metrics.KindValue)
	if err := root.EndSubWith("x", 7); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*metrics.Node{a, b} {
		if v, ok := n.Result(); !ok || v != 7 {
			t.Fatalf("EndSubWith missed a node: %v %v", v, ok)
		}
	}
	if err := root.EndSub("root"); err != nil {
		t.Fatal(err)
	}
	if _, ok := root.Result(); !ok {
		t.Fatal("EndSub did not end the node itself")
	}
	if err := root.EndSub("nope"); !errors.Is(err, metrics.ErrNoSection) {
		t.Fatalf("EndSub of a missing name: %v", err)
	}
}

func TestNodeTime(t *testing.T) {
	root := metrics.NewNode("root", metrics.KindContainer)
	func() {
		defer root.Time("work")()
		time.Sleep(5 * time.Millisecond)
	}()
	first, ok := root.Metric("work")
	if !ok || first < 0.005 {
		t.Fatalf("timed %v %v", first, ok)
	}
	// Timing the same name again restarts the same timer.
	end := root.Time("work")
	if err := end(); err != nil {
		t.Fatal(err)
	}
	if second, _ := root.Metric("work"); second >= first {
		t.Fatalf("restarted timer %v not below first %v", second, first)
	}
	if len(root.Children()) != 1 {
		t.Fatalf("Time added a second child")
	}
	mustSection(t, root, "count", metrics.KindValue)
	var dup *metrics.AlreadyRegisteredError
	if err := root.Time("count")(); !errors.As(err, &dup) {
		t.Fatalf("timing a value node: %v", err)
	}
	if err := root.Time("bad_name")(); err == nil {
		t.Fatal("timing an invalid name succeeded")
	}
}

func TestNodeCopyFromIsDeep(t *testing.T) {
	src := metrics.NewNode("src", metrics.KindContainer)
	v := mustSection(t, src, "v", metrics.KindValue)
	v.EndWith(1)
	var dst metrics.Node
	dst.CopyFrom(src)
	v.EndWith(2)
	mustSection(t, src, "later", metrics.KindTimer)
	if got, _ := dst.Metric("v"); got != 1 {
		t.Fatalf("copy changed with the source: %v", got)
	}
	if dst.Name() != "src" || len(dst.Children()) != 1 {
		t.Fatalf("copy: %q with %d children", dst.Name(), len(dst.Children()))
	}
}

func TestNodeInsert(t *testing.T) {
	root := metrics.NewNode("root", metrics.KindContainer)
	sub := metrics.NewNode("sub", metrics.KindContainer)
	leaf := mustSection(t, sub, "leaf", metrics.KindValue)
	leaf.EndWith(5)
	if err := root.Insert(sub); err != nil {
		t.Fatal(err)
	}
	if got, _ := root.Child("sub").Metric("leaf"); got != 5 {
		t.Fatalf("inserted subtree lost its metric: %v", got)
	}
	var dup *metrics.AlreadyRegisteredError
	if err := root.Insert(metrics.NewNode("sub", metrics.KindTimer)); !errors.As(err, &dup) {
		t.Fatalf("duplicate insert: %v", err)
	}
	if err := sub.Insert(root); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Fatalf("inserting an ancestor: %v", err)
	}
	if err := root.Insert(nil); err == nil {
		t.Fatal("nil insert accepted")
	}
}

// buildIR builds the tree of PEERNet's tests/metrics/test_ir.py with values
// instead of timers, so that the output is exact.
func buildIR(t *testing.T) *metrics.Node {
	root := metrics.NewNode("root", metrics.KindValue)
	for i := range 2 {
		it := mustSection(t, root, "iteration-"+string(rune('0'+i)), metrics.KindValue)
		base := float64(10 * i)
		mustSection(t, it, "down", metrics.KindValue).EndWith(base + 1)
		inf := mustSection(t, it, "inference", metrics.KindValue)
		mustSection(t, inf, "pre", metrics.KindValue).EndWith(base + 2)
		post := mustSection(t, inf, "post", metrics.KindValue)
		if i == 0 {
			post.EndWith(base + 3) // iteration 1 leaves post not ended
		}
		inf.EndWith(base + 4)
		it.EndWith(base + 5)
	}
	root.EndWith(99)
	return root
}

func TestNodeWriteCSV(t *testing.T) {
	root := buildIR(t)
	var b strings.Builder
	if err := root.WriteCSV(&b, 1); err != nil {
		t.Fatal(err)
	}
	want := `,val,down,inference,inference,inference
,,,val,pre,post
iteration,,,,,
0,5,1,4,2,3
1,15,11,14,12,
`
	if b.String() != want {
		t.Fatalf("WriteCSV depth 1:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	if err := root.WriteCSV(&b, 2); err != nil {
		t.Fatal(err)
	}
	want = `iteration,val,pre,post
0,1,,
1,4,2,3
2,11,,
3,14,12,
`
	if b.String() != want {
		t.Fatalf("WriteCSV depth 2:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := root.WriteCSV(&b, -1); err == nil {
		t.Fatal("negative depth accepted")
	}
}

func TestNodeWriteTextAndMap(t *testing.T) {
	root := buildIR(t)
	want := `root --> value: 99.0000
    iteration-0 --> value: 5.0000
        down --> value: 1.0000
        inference --> value: 4.0000
            pre --> value: 2.0000
            post --> value: 3.0000
    iteration-1 --> value: 15.0000
        down --> value: 11.0000
        inference --> value: 14.0000
            pre --> value: 12.0000
            post --> Not Ended
`
	if got := root.String(); got != want {
		t.Fatalf("text:\n%s\nwant:\n%s", got, want)
	}
	m := root.Map()
	e := m["root"].Children["iteration-1"].Children["inference"]
	if e.Metric != 14 || !e.Ended || e.Kind != metrics.KindValue {
		t.Fatalf("map entry %+v", e)
	}
	if post := e.Children["post"]; post.Ended {
		t.Fatalf("post should not be ended: %+v", post)
	}
}
