package vision

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestIoU(t *testing.T) {
	a := Box{X0: 0, Y0: 0, X1: 2, Y1: 2}
	for _, c := range []struct {
		b    Box
		want float32
	}{
		{Box{X0: 0, Y0: 0, X1: 2, Y1: 2}, 1},
		{Box{X0: 1, Y0: 0, X1: 3, Y1: 2}, 2.0 / 6},
		{Box{X0: 1, Y0: 1, X1: 3, Y1: 3}, 1.0 / 7},
		{Box{X0: 2, Y0: 0, X1: 4, Y1: 2}, 0}, // touching
		{Box{X0: 5, Y0: 5, X1: 6, Y1: 6}, 0},
		{Box{X0: 1, Y0: 1, X1: 1, Y1: 1}, 0}, // empty
		{Box{X0: 0.5, Y0: 0.5, X1: 1.5, Y1: 1.5}, 0.25},
		{Box{X0: float32(math.NaN()), X1: 1, Y1: 1}, 0},
	} {
		if got := IoU(&a, &c.b); math.Abs(float64(got-c.want)) > 1e-6 {
			t.Errorf("IoU(%v, %v) = %v, want %v", a, c.b, got, c.want)
		}
		if got, back := IoU(&a, &c.b), IoU(&c.b, &a); got != back {
			t.Errorf("IoU not symmetric for %v: %v != %v", c.b, got, back)
		}
	}
}

func TestNMS(t *testing.T) {
	boxes := []Box{
		{Score: 0.6, X0: 0.1, Y0: 0.1, X1: 0.5, Y1: 0.5},   // overlaps the 0.9 box: dropped
		{Score: 0.9, X0: 0.12, Y0: 0.1, X1: 0.52, Y1: 0.5}, // kept
		{Score: 0.8, X0: 0.6, Y0: 0.6, X1: 0.9, Y1: 0.9},   // elsewhere: kept
		{Score: 0.7, X0: 0.3, Y0: 0.3, X1: 0.7, Y1: 0.7},   // overlaps both a little: kept at 0.3
	}
	got := NMS(slices.Clone(boxes), 0.3, 0)
	want := []float32{0.9, 0.8, 0.7}
	if len(got) != len(want) {
		t.Fatalf("kept %v", got)
	}
	for i := range got {
		if got[i].Score != want[i] {
			t.Fatalf("kept %v, want scores %v", got, want)
		}
	}
	if got := NMS(slices.Clone(boxes), 0.3, 2); len(got) != 2 || got[1].Score != 0.8 {
		t.Fatalf("maxOut 2: %v", got)
	}
	if got := NMS(slices.Clone(boxes), 0.1, 0); len(got) != 2 {
		t.Fatalf("iou 0.1: %v", got)
	}
	if got := NMS(nil, 0.5, 0); len(got) != 0 {
		t.Fatalf("empty: %v", got)
	}
}

// referenceNMS is the textbook formulation: repeatedly take the
// highest-scoring remaining box (earliest on ties) and discard every
// remaining box overlapping it by more than the threshold.
func referenceNMS(boxes []Box, thr float32) []Box {
	remaining := slices.Clone(boxes)
	var kept []Box
	for len(remaining) > 0 {
		best := 0
		for i, b := range remaining {
			if b.Score > remaining[best].Score {
				best = i
			}
		}
		top := remaining[best]
		kept = append(kept, top)
		var rest []Box
		for i, b := range remaining {
			if i != best && !(IoU(&top, &b) > thr) {
				rest = append(rest, b)
			}
		}
		remaining = rest
	}
	return kept
}

func genBoxes(t *rapid.T) []Box {
	n := rapid.IntRange(0, 30).Draw(t, "n")
	boxes := make([]Box, n)
	for i := range boxes {
		x := float32(rapid.IntRange(0, 20).Draw(t, "x")) / 20
		y := float32(rapid.IntRange(0, 20).Draw(t, "y")) / 20
		w := float32(rapid.IntRange(1, 10).Draw(t, "w")) / 20
		h := float32(rapid.IntRange(1, 10).Draw(t, "h")) / 20
		boxes[i] = Box{Score: float32(rapid.IntRange(0, 1000).Draw(t, "score")) / 1000, X0: x, Y0: y, X1: x + w, Y1: y + h}
	}
	return boxes
}

func TestNMSMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		boxes := genBoxes(t)
		thr := float32(rapid.IntRange(1, 10).Draw(t, "thr")) / 10
		want := referenceNMS(boxes, thr)
		got := NMS(slices.Clone(boxes), thr, 0)
		if !slices.EqualFunc(got, want, func(a, b Box) bool {
			return a.Score == b.Score && a.X0 == b.X0 && a.Y0 == b.Y0 && a.X1 == b.X1 && a.Y1 == b.Y1
		}) {
			t.Fatalf("NMS\n got %v\nwant %v", got, want)
		}
	})
}

func TestWeightedNMS(t *testing.T) {
	kp := []Point{{1, 1}, {3, 3}}
	boxes := []Box{
		{Score: 0.25, X0: 0.2, Y0: 0.2, X1: 0.6, Y1: 0.6, Keypoints: kp[1:2]},
		{Score: 0.75, X0: 0.1, Y0: 0.1, X1: 0.5, Y1: 0.5, Keypoints: kp[0:1]},
		{Score: 0.5, X0: 0.8, Y0: 0.8, X1: 0.9, Y1: 0.9, Keypoints: kp[0:1]},
	}
	out, outKP := weightedNMS(nil, boxes, make([]bool, 3), make([]Point, 0, 3), 0.3, 10, 1)
	if len(out) != 2 || len(outKP) != 2 {
		t.Fatalf("got %v", out)
	}
	// (0.75×0.1 + 0.25×0.2) / 1 = 0.125 ...
	b := out[0]
	near := func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-6 }
	if b.Score != 0.75 || !near(b.X0, 0.125) || !near(b.Y0, 0.125) || !near(b.X1, 0.525) || !near(b.Y1, 0.525) ||
		!near(b.Keypoints[0].X, 1.5) || !near(b.Keypoints[0].Y, 1.5) {
		t.Fatalf("blended %+v", b)
	}
	if out[1].Score != 0.5 || out[1].X0 != 0.8 || out[1].Keypoints[0] != (Point{1, 1}) {
		t.Fatalf("second %+v", out[1])
	}
	if out, _ := weightedNMS(nil, boxes, make([]bool, 3), make([]Point, 0, 3), 0.3, 1, 1); len(out) != 1 {
		t.Fatalf("maxOut 1: %v", out)
	}
}

// logit is the inverse of the sigmoid.
func logit(p float32) float32 { return float32(math.Log(float64(p) / (1 - float64(p)))) }

// testSSD is a 32×32 detector with two heads: stride 16 (2×2 cells, one
// anchor each) and stride 32 (one cell, two anchors), 6 values per anchor
// (box and one keypoint).
func testSSD(t *testing.T, nms string) (*SSDDecoder, [][]float32, [][]float32) {
	t.Helper()
	d, err := NewSSDDecoder(SSDConfig{
		InputWidth: 32, InputHeight: 32, Keypoints: 1, NMS: nms, ScoreThreshold: 0.5, IOUThreshold: 0.3,
		Heads: []SSDHead{{Strides: []int{16}, Anchors: []int{1}}, {Strides: []int{32}, Anchors: []int{2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	scores := [][]float32{make([]float32, 4), make([]float32, 2)}
	boxes := [][]float32{make([]float32, 4*6), make([]float32, 2*6)}
	for _, s := range scores {
		for i := range s {
			s[i] = logit(0.1)
		}
	}
	return d, scores, boxes
}

func TestSSDAnchors(t *testing.T) {
	d, _, _ := testSSD(t, NMSHard)
	want0 := []Point{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}
	want1 := []Point{{0.5, 0.5}, {0.5, 0.5}}
	if !slices.Equal(d.Anchors(0), want0) || !slices.Equal(d.Anchors(1), want1) {
		t.Fatalf("anchors %v %v", d.Anchors(0), d.Anchors(1))
	}
	// BlazeFace front: 16×16×2 + 8×8×6 = 512 + 384 anchors.
	bf, err := NewSSDDecoder(SSDConfig{InputWidth: 128, InputHeight: 128,
		Heads: []SSDHead{{Strides: []int{8}, Anchors: []int{2}}, {Strides: []int{16}, Anchors: []int{6}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bf.Anchors(0)) != 512 || len(bf.Anchors(1)) != 384 || bf.Anchors(0)[2] != (Point{1.5 / 16, 0.5 / 16}) {
		t.Fatalf("BlazeFace anchors: %d, %d, %v", len(bf.Anchors(0)), len(bf.Anchors(1)), bf.Anchors(0)[:3])
	}
	// One head of four layers, MediaPipe's back-camera layout.
	back, err := NewSSDDecoder(SSDConfig{InputWidth: 256, InputHeight: 256,
		Heads: []SSDHead{{Strides: []int{16, 32, 32, 32}, Anchors: []int{2, 2, 2, 2}}}})
	if err != nil || len(back.Anchors(0)) != 16*16*2+3*8*8*2 {
		t.Fatalf("back anchors: %v", err)
	}
}

func TestSSDDecode(t *testing.T) {
	d, scores, boxes := testSSD(t, NMSHard)
	// Anchor 1 of head 0 (centre (0.75, 0.25)): a 8×16-pixel box shifted by
	// (+4, -2) pixels, keypoint at (-8, +8) pixels, score 0.9.
	scores[0][1] = logit(0.9)
	copy(boxes[0][1*6:], []float32{4, -2, 8, 16, -8, 8})
	// Anchor 0 of head 1 (centre (0.5, 0.5)): a 16×16 box, score 0.8.
	scores[1][0] = logit(0.8)
	copy(boxes[1][0:], []float32{0, 0, 16, 16, 0, 0})
	// Anchor 1 of head 1: almost the same box at 0.7, suppressed.
	scores[1][1] = logit(0.7)
	copy(boxes[1][6:], []float32{1, 0, 16, 16, 0, 0})
	got, err := d.Decode(scores, boxes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d boxes: %+v", len(got), got)
	}
	near := func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-5 }
	b := got[0] // centre (0.75 + 4/32, 0.25 - 2/32) = (0.875, 0.1875), size (0.25, 0.5)
	if !near(b.Score, 0.9) || !near(b.X0, 0.75) || !near(b.X1, 1) || !near(b.Y0, 0) || !near(b.Y1, 0.4375) {
		t.Errorf("box 0 %+v", b)
	}
	if len(b.Keypoints) != 1 || !near(b.Keypoints[0].X, 0.5) || !near(b.Keypoints[0].Y, 0.5) {
		t.Errorf("keypoint %+v", b.Keypoints)
	}
	if b := got[1]; !near(b.Score, 0.8) || !near(b.X0, 0.25) || !near(b.Y0, 0.25) || !near(b.X1, 0.75) || !near(b.Y1, 0.75) {
		t.Errorf("box 1 %+v", b)
	}
	// X1 was 1.0 before clamping: the box ran off the right edge by 0.
	// Mapping through a letterbox geometry (image in the middle half
	// vertically) stretches y and clamps.
	g := Geometry{OffsetX: 0, OffsetY: 0.25, ScaleX: 1, ScaleY: 0.5}
	got, err = d.Decode(scores, boxes, &g)
	if err != nil {
		t.Fatal(err)
	}
	if b := got[1]; !near(b.Y0, 0) || !near(b.Y1, 1) || !near(b.X0, 0.25) {
		t.Errorf("letterboxed box %+v", b)
	}
	if b := got[0]; !near(b.Y0, 0) || !near(b.Y1, 0.375) {
		t.Errorf("letterboxed box %+v", b)
	}

	// Weighted: the two overlapping boxes blend.
	dw, _, _ := testSSD(t, NMSWeighted)
	got, err = dw.Decode(scores, boxes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !near(got[1].Score, 0.8) || !(got[1].X0 > 0.25 && got[1].X0 < 0.25+1.0/32) {
		t.Fatalf("weighted %+v", got)
	}

	// Nothing above the threshold.
	for _, s := range scores {
		for i := range s {
			s[i] = logit(0.2)
		}
	}
	if got, err := d.Decode(scores, boxes, nil); err != nil || len(got) != 0 {
		t.Fatalf("below threshold: %v, %v", got, err)
	}
	scores[0][0] = float32(math.NaN())
	if got, err := d.Decode(scores, boxes, nil); err != nil || len(got) != 0 {
		t.Fatalf("NaN score: %v, %v", got, err)
	}
}

func TestSSDDecodeErrors(t *testing.T) {
	d, scores, boxes := testSSD(t, NMSHard)
	for _, c := range []struct {
		name          string
		scores, boxes [][]float32
		want          string
	}{
		{"heads", scores[:1], boxes[:1], "want 2 scores and boxes tensors, got 1 and 1"},
		{"scores", [][]float32{scores[0][:3], scores[1]}, boxes, "head 0: scores tensor has 3 values, want one per anchor (4)"},
		{"boxes", scores, [][]float32{boxes[0][:20], boxes[1]}, "head 0: boxes tensor has 20 values, want 4 anchors × at least 6"},
		{"coords", scores, [][]float32{boxes[0][:16], boxes[1]}, "head 0: boxes tensor has 16 values"},
	} {
		if _, err := d.Decode(c.scores, c.boxes, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		cfg  SSDConfig
		want string
	}{
		{SSDConfig{Heads: []SSDHead{{Strides: []int{8}, Anchors: []int{1}}}}, "input size"},
		{SSDConfig{InputWidth: 8, InputHeight: 8}, "heads: at least one head"},
		{SSDConfig{InputWidth: 8, InputHeight: 8, Heads: []SSDHead{{Strides: []int{0}, Anchors: []int{1}}}}, "heads[0].strides[0]"},
		{SSDConfig{InputWidth: 8, InputHeight: 8, Heads: []SSDHead{{Strides: []int{8}, Anchors: []int{0}}}}, "heads[0].anchors[0]"},
		{SSDConfig{InputWidth: 8, InputHeight: 8, Heads: []SSDHead{{Strides: []int{8}, Anchors: []int{1}}}, Activation: "relu"}, "activation"},
		{SSDConfig{InputWidth: 8, InputHeight: 8, Heads: []SSDHead{{Strides: []int{8}, Anchors: []int{1}}}, Keypoints: -1}, "keypoints"},
		{SSDConfig{InputWidth: 8, InputHeight: 8, Heads: []SSDHead{{Strides: []int{8}, Anchors: []int{1}}}, MaxDetections: -1}, "max_detections"},
		{SSDConfig{InputWidth: 8, InputHeight: 8, Heads: []SSDHead{{Strides: []int{8}, Anchors: []int{1}}}, IOUThreshold: 1.5}, "iou_threshold"},
		{SSDConfig{InputWidth: 16384, InputHeight: 16384, Heads: []SSDHead{{Strides: []int{1}, Anchors: []int{64}}}}, "more than"},
	} {
		if _, err := NewSSDDecoder(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

// TestSSDDecodeAllocs checks that decoding reuses its buffers.
func TestSSDDecodeAllocs(t *testing.T) {
	d, scores, boxes := testSSD(t, NMSWeighted)
	scores[0][1], scores[1][0], scores[1][1] = logit(0.9), logit(0.8), logit(0.7)
	copy(boxes[1], []float32{0, 0, 16, 16, 0, 0, 1, 0, 16, 16, 0, 0})
	var b []byte
	allocs := testing.AllocsPerRun(100, func() {
		got, err := d.Decode(scores, boxes, nil)
		if err != nil || len(got) != 2 {
			t.Fatal(got, err)
		}
		b = AppendBoxesJSON(b[:0], got)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per decode", allocs)
	}
}

func TestAppendBoxesJSON(t *testing.T) {
	boxes := []Box{
		{Score: 0.98766, X0: 0.1, Y0: 0.2, X1: 0.30004, Y1: 0.4, Keypoints: []Point{{0.15, 0.25}}},
		{Score: 0.5, X0: -0.00001, Y0: 0, X1: 1, Y1: float32(math.NaN())},
	}
	got := string(AppendBoxesJSON(nil, boxes))
	want := `{"boxes":[{"score":0.9877,"x0":0.1,"y0":0.2,"x1":0.3,"y1":0.4,"keypoints":[[0.15,0.25]]},` +
		`{"score":0.5,"x0":0,"y0":0,"x1":1,"y1":null}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := string(AppendBoxesJSON(nil, nil)); got != `{"boxes":[]}` || !json.Valid([]byte(got)) {
		t.Fatalf("empty: %s", got)
	}
}
