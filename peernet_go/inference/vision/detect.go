package vision

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Point is a keypoint, normalised like the box it belongs to.
type Point struct{ X, Y float32 }

// Box is one detection with corners (X0, Y0) top-left and (X1, Y1)
// bottom-right, normalised to the image: 0 is the left or top edge, 1 the
// right or bottom edge.
type Box struct {
	Score          float32
	X0, Y0, X1, Y1 float32
	// Keypoints are the detector's landmarks (for BlazeFace: right eye, left
	// eye, nose tip, mouth, right ear tragion, left ear tragion, from the
	// subject's point of view). The slice is owned by the decoder.
	Keypoints []Point
}

func (b *Box) area() float32 {
	return max(0, b.X1-b.X0) * max(0, b.Y1-b.Y0)
}

// IoU returns the intersection over union of two boxes, 0 when either is
// empty.
func IoU(a, b *Box) float32 {
	iw := min(a.X1, b.X1) - max(a.X0, b.X0)
	ih := min(a.Y1, b.Y1) - max(a.Y0, b.Y0)
	if !(iw > 0 && ih > 0) {
		return 0
	}
	inter := iw * ih
	union := a.area() + b.area() - inter
	if !(union > 0) {
		return 0
	}
	return inter / union
}

// byScore sorts boxes by decreasing score, NaN last, keeping the input
// order among equal scores.
func byScore(a, b Box) int {
	switch {
	case a.Score > b.Score:
		return -1
	case a.Score < b.Score:
		return 1
	}
	return cmp.Compare(b.Score, a.Score) // orders NaN
}

// NMS performs greedy (hard) non-maximum suppression in place: boxes are
// sorted by decreasing score, and a box is dropped when its IoU with a kept,
// higher-scoring box exceeds iouThreshold. It returns the kept boxes, a prefix
// of boxes, at most maxOut of them (no limit when maxOut <= 0).
func NMS(boxes []Box, iouThreshold float32, maxOut int) []Box {
	slices.SortStableFunc(boxes, byScore)
	kept := 0
	for i := range boxes {
		if maxOut > 0 && kept == maxOut {
			break
		}
		keep := true
		for j := 0; j < kept; j++ {
			if IoU(&boxes[i], &boxes[j]) > iouThreshold {
				keep = false
				break
			}
		}
		if keep {
			boxes[kept] = boxes[i]
			kept++
		}
	}
	return boxes[:kept]
}

// weightedNMS is MediaPipe's blending suppression: each kept box is the
// score-weighted mean of the boxes (and keypoints) that overlap the
// highest-scoring remaining box by more than iouThreshold, with that box's
// score. Blended keypoints are written to kp, whose capacity must cover
// maxOut × keypoints. dst receives the result.
func weightedNMS(dst, boxes []Box, used []bool, kp []Point, iouThreshold float32, maxOut, keypoints int) ([]Box, []Point) {
	slices.SortStableFunc(boxes, byScore)
	clear(used)
	for i := range boxes {
		if maxOut > 0 && len(dst) == maxOut {
			break
		}
		if used[i] {
			continue
		}
		top := &boxes[i]
		var sw, x0, y0, x1, y1 float32
		start := len(kp)
		kp = kp[:start+keypoints]
		clear(kp[start:])
		for j := i; j < len(boxes); j++ {
			if used[j] {
				continue
			}
			c := &boxes[j]
			if j != i && !(IoU(top, c) > iouThreshold) {
				continue
			}
			used[j] = true
			w := c.Score
			if !(w > 0) { // NaN or non-positive scores cannot weigh
				w = 0
				if j == i {
					w = 1
				}
			}
			sw += w
			x0 += w * c.X0
			y0 += w * c.Y0
			x1 += w * c.X1
			y1 += w * c.Y1
			for k := 0; k < keypoints && k < len(c.Keypoints); k++ {
				kp[start+k].X += w * c.Keypoints[k].X
				kp[start+k].Y += w * c.Keypoints[k].Y
			}
		}
		out := Box{Score: top.Score, X0: x0 / sw, Y0: y0 / sw, X1: x1 / sw, Y1: y1 / sw}
		for k := start; k < len(kp); k++ {
			kp[k].X /= sw
			kp[k].Y /= sw
		}
		out.Keypoints = kp[start:len(kp):len(kp)]
		dst = append(dst, out)
	}
	return dst, kp
}

// SSDHead describes one group of anchors that share a scores tensor and a
// boxes tensor. Each layer of the group (one entry of Strides and Anchors)
// lays a grid of ceil(H/stride) × ceil(W/stride) cells over the input, with
// Anchors[i] anchors per cell, in row-major cell order, anchors innermost.
type SSDHead struct {
	// Strides are the layers' cell sizes in input pixels.
	Strides []int `yaml:"strides,flow"`
	// Anchors are the anchors per cell, one entry per stride.
	Anchors []int `yaml:"anchors,flow"`
}

// NMS modes of SSDConfig.
const (
	// NMSHard drops every box overlapping a higher-scoring one.
	NMSHard = "hard"
	// NMSWeighted blends overlapping boxes, weighted by score (MediaPipe).
	NMSWeighted = "weighted"
)

// Score activations of SSDConfig.
const (
	// ActivationSigmoid treats raw scores as logits.
	ActivationSigmoid = "sigmoid"
	// ActivationNone uses raw scores as they are.
	ActivationNone = "none"
)

// SSDConfig configures an [SSDDecoder] for MediaPipe-style single-shot
// detectors with fixed-size anchors: per anchor, the boxes tensor holds
// (dx, dy, w, h) in input pixels relative to the anchor centre, then
// (x, y) offsets of each keypoint, and the scores tensor one score.
type SSDConfig struct {
	// InputWidth and InputHeight are the model input's size in pixels.
	// Required; a backend sets them from the model.
	InputWidth  int `yaml:"-"`
	InputHeight int `yaml:"-"`
	// Heads lists the anchor groups, one per (scores, boxes) tensor pair.
	// Required.
	Heads []SSDHead `yaml:"-"`
	// ScoreThreshold drops detections scoring below it (after the
	// activation). It defaults to 0.5.
	ScoreThreshold float32 `yaml:"score_threshold,omitempty"`
	// IOUThreshold is the overlap above which non-maximum suppression merges
	// or drops a box. It defaults to 0.3.
	IOUThreshold float32 `yaml:"iou_threshold,omitempty"`
	// MaxDetections caps the boxes returned. It defaults to 100.
	MaxDetections int `yaml:"max_detections,omitempty"`
	// NMS is hard or weighted (MediaPipe's blending). It defaults to
	// weighted.
	NMS string `yaml:"nms,omitempty"`
	// Activation maps raw scores to [0,1]: sigmoid (logits, as MediaPipe
	// models output) or none. It defaults to sigmoid.
	Activation string `yaml:"activation,omitempty"`
	// Keypoints is how many (x, y) keypoints follow each box. It defaults
	// to 0.
	Keypoints int `yaml:"keypoints,omitempty"`
}

// Initialize fills in defaults and validates c. Errors start with the YAML
// key of the offending field.
func (c *SSDConfig) Initialize() error {
	if c.InputWidth <= 0 || c.InputHeight <= 0 {
		return fmt.Errorf("input size: must be positive, got %dx%d", c.InputWidth, c.InputHeight)
	}
	if len(c.Heads) == 0 {
		return fmt.Errorf("heads: at least one head is required")
	}
	total := 0
	for i, h := range c.Heads {
		if len(h.Strides) == 0 || len(h.Strides) != len(h.Anchors) {
			return fmt.Errorf("heads[%d]: want as many anchors as strides (at least one), got %d strides and %d anchors",
				i, len(h.Strides), len(h.Anchors))
		}
		for j, s := range h.Strides {
			if s <= 0 || s > 1<<14 {
				return fmt.Errorf("heads[%d].strides[%d]: must be in 1..16384, got %d", i, j, s)
			}
			a := h.Anchors[j]
			if a <= 0 || a > 64 {
				return fmt.Errorf("heads[%d].anchors[%d]: must be in 1..64, got %d", i, j, a)
			}
			cells := ((c.InputWidth + s - 1) / s) * ((c.InputHeight + s - 1) / s)
			total += cells * a
			if total > 1<<22 {
				return fmt.Errorf("heads[%d]: more than %d anchors", i, 1<<22)
			}
		}
	}
	if c.ScoreThreshold == 0 {
		c.ScoreThreshold = 0.5
	}
	if !(c.ScoreThreshold > 0 && c.ScoreThreshold <= 1) {
		return fmt.Errorf("score_threshold: must be in (0,1], got %v", c.ScoreThreshold)
	}
	if c.IOUThreshold == 0 {
		c.IOUThreshold = 0.3
	}
	if !(c.IOUThreshold > 0 && c.IOUThreshold <= 1) {
		return fmt.Errorf("iou_threshold: must be in (0,1], got %v", c.IOUThreshold)
	}
	if c.MaxDetections == 0 {
		c.MaxDetections = 100
	}
	if c.MaxDetections < 0 || c.MaxDetections > 10000 {
		return fmt.Errorf("max_detections: must be in 1..10000, got %d", c.MaxDetections)
	}
	switch c.NMS {
	case "":
		c.NMS = NMSWeighted
	case NMSHard, NMSWeighted:
	default:
		return fmt.Errorf("nms: must be %s or %s, got %q", NMSHard, NMSWeighted, c.NMS)
	}
	switch c.Activation {
	case "":
		c.Activation = ActivationSigmoid
	case ActivationSigmoid, ActivationNone:
	default:
		return fmt.Errorf("activation: must be %s or %s, got %q", ActivationSigmoid, ActivationNone, c.Activation)
	}
	if c.Keypoints < 0 || c.Keypoints > 64 {
		return fmt.Errorf("keypoints: must be in 0..64, got %d", c.Keypoints)
	}
	return nil
}

// SSDDecoder turns the scores and boxes tensors of an anchor-based detector
// into boxes. It reuses its buffers: the boxes a Decode returns are valid
// until the next Decode. An SSDDecoder is used by one goroutine at a time.
type SSDDecoder struct {
	cfg     SSDConfig
	anchors [][]Point // per head, anchor centres normalised to the input
	cand    []Box
	candKP  []Point
	used    []bool
	out     []Box
	outKP   []Point
}

// NewSSDDecoder returns a decoder for cfg, after cfg.Initialize. It lays out
// the anchors once.
func NewSSDDecoder(cfg SSDConfig) (*SSDDecoder, error) {
	if err := cfg.Initialize(); err != nil {
		return nil, err
	}
	d := &SSDDecoder{cfg: cfg}
	total := 0
	for _, h := range cfg.Heads {
		var a []Point
		for j, s := range h.Strides {
			cols := (cfg.InputWidth + s - 1) / s
			rows := (cfg.InputHeight + s - 1) / s
			for y := 0; y < rows; y++ {
				for x := 0; x < cols; x++ {
					p := Point{X: (float32(x) + 0.5) / float32(cols), Y: (float32(y) + 0.5) / float32(rows)}
					for k := 0; k < h.Anchors[j]; k++ {
						a = append(a, p)
					}
				}
			}
		}
		d.anchors = append(d.anchors, a)
		total += len(a)
	}
	d.cand = make([]Box, 0, total)
	d.candKP = make([]Point, 0, total*cfg.Keypoints)
	d.used = make([]bool, total)
	d.out = make([]Box, 0, min(total, cfg.MaxDetections))
	d.outKP = make([]Point, 0, min(total, cfg.MaxDetections)*cfg.Keypoints)
	return d, nil
}

// Config returns the decoder's configuration with defaults filled in.
func (d *SSDDecoder) Config() SSDConfig { return d.cfg }

// Anchors returns the anchor centres of head h, normalised to the input.
func (d *SSDDecoder) Anchors(h int) []Point { return d.anchors[h] }

// Decode decodes one scores and one boxes tensor per head (in the order of
// cfg.Heads), applies the threshold and non-maximum suppression, and maps
// the boxes to the source image with g (nil for none), clamped to [0,1].
func (d *SSDDecoder) Decode(scores, boxes [][]float32, g *Geometry) ([]Box, error) {
	if len(scores) != len(d.anchors) || len(boxes) != len(d.anchors) {
		return nil, fmt.Errorf("vision: ssd: want %d scores and boxes tensors, got %d and %d",
			len(d.anchors), len(scores), len(boxes))
	}
	c := &d.cfg
	K := c.Keypoints
	W, H := float32(c.InputWidth), float32(c.InputHeight)
	d.cand, d.candKP = d.cand[:0], d.candKP[:0]
	for h, anchors := range d.anchors {
		s, bx := scores[h], boxes[h]
		n := len(anchors)
		if len(s) != n {
			return nil, fmt.Errorf("vision: ssd: head %d: scores tensor has %d values, want one per anchor (%d)", h, len(s), n)
		}
		coords := len(bx) / n
		if len(bx)%n != 0 || coords < 4+2*K {
			return nil, fmt.Errorf("vision: ssd: head %d: boxes tensor has %d values, want %d anchors × at least %d", h, len(bx), n, 4+2*K)
		}
		for i, a := range anchors {
			score := s[i]
			if c.Activation == ActivationSigmoid {
				score = sigmoid(score)
			}
			if !(score >= c.ScoreThreshold) {
				continue
			}
			r := bx[i*coords : i*coords+4+2*K]
			cx, cy := a.X+r[0]/W, a.Y+r[1]/H
			w, hh := r[2]/W, r[3]/H
			b := Box{Score: score, X0: cx - w/2, Y0: cy - hh/2, X1: cx + w/2, Y1: cy + hh/2}
			if K > 0 {
				start := len(d.candKP)
				for k := 0; k < K; k++ {
					d.candKP = append(d.candKP, Point{X: a.X + r[4+2*k]/W, Y: a.Y + r[5+2*k]/H})
				}
				b.Keypoints = d.candKP[start:len(d.candKP):len(d.candKP)]
			}
			d.cand = append(d.cand, b)
		}
	}
	var out []Box
	if c.NMS == NMSHard {
		out = NMS(d.cand, c.IOUThreshold, c.MaxDetections)
	} else {
		out, d.outKP = weightedNMS(d.out[:0], d.cand, d.used[:len(d.cand)], d.outKP[:0], c.IOUThreshold, c.MaxDetections, K)
		d.out = out
	}
	for i := range out {
		toSource(&out[i], g)
	}
	return out, nil
}

func toSource(b *Box, g *Geometry) {
	if g != nil {
		b.X0, b.Y0 = g.ToSource(b.X0, b.Y0)
		b.X1, b.Y1 = g.ToSource(b.X1, b.Y1)
		for k := range b.Keypoints {
			p := &b.Keypoints[k]
			p.X, p.Y = g.ToSource(p.X, p.Y)
		}
	}
	b.X0, b.Y0, b.X1, b.Y1 = clamp01(b.X0), clamp01(b.Y0), clamp01(b.X1), clamp01(b.Y1)
}

func clamp01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

func sigmoid(x float32) float32 {
	// MediaPipe clips logits to ±100 before the sigmoid.
	x = max(-100, min(100, x))
	return float32(1 / (1 + math.Exp(-float64(x))))
}

// AppendBoxesJSON appends {"boxes":[{"score":..,"x0":..,"y0":..,"x1":..,
// "y1":..,"keypoints":[[x,y],..]},..]} to b, with 4 decimals.
func AppendBoxesJSON(b []byte, boxes []Box) []byte {
	b = append(b, `{"boxes":[`...)
	for i := range boxes {
		x := &boxes[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendKey(append(b, '{'), "score")
		b = appendFixed(b, x.Score)
		b = appendFixed(appendKey(append(b, ','), "x0"), x.X0)
		b = appendFixed(appendKey(append(b, ','), "y0"), x.Y0)
		b = appendFixed(appendKey(append(b, ','), "x1"), x.X1)
		b = appendFixed(appendKey(append(b, ','), "y1"), x.Y1)
		if len(x.Keypoints) > 0 {
			b = append(appendKey(append(b, ','), "keypoints"), '[')
			for k, p := range x.Keypoints {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendFixed(append(b, '['), p.X)
				b = append(appendFixed(append(b, ','), p.Y), ']')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
