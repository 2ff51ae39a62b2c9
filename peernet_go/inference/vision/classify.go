package vision

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/internal/jsontext"
)

// Class is one entry of a classifier's top-k.
type Class struct {
	Index int
	// Label is the class name, or "" when no labels are configured.
	Label string
	Score float32
}

// ClassifyConfig configures a [Classifier].
type ClassifyConfig struct {
	// TopK is how many classes to return. It defaults to 5.
	TopK int `yaml:"top_k,omitempty"`
	// Softmax turns the scores (logits) into probabilities first. It
	// defaults to false: scores are reported as the model outputs them.
	Softmax bool `yaml:"softmax,omitempty"`
	// Labels name the classes by index (optional).
	Labels []string `yaml:"-"`
}

// Initialize fills in defaults and validates c.
func (c *ClassifyConfig) Initialize() error {
	if c.TopK == 0 {
		c.TopK = 5
	}
	if c.TopK < 0 || c.TopK > 1000 {
		return fmt.Errorf("top_k: must be in 1..1000, got %d", c.TopK)
	}
	return nil
}

// Classifier picks the top-k classes of a score vector. It reuses its
// result buffer: what Decode returns is valid until the next Decode. A
// Classifier is used by one goroutine at a time.
type Classifier struct {
	cfg ClassifyConfig
	top []Class
}

// NewClassifier returns a Classifier for cfg, after cfg.Initialize.
func NewClassifier(cfg ClassifyConfig) (*Classifier, error) {
	if err := cfg.Initialize(); err != nil {
		return nil, err
	}
	return &Classifier{cfg: cfg, top: make([]Class, 0, cfg.TopK)}, nil
}

// Decode returns the TopK highest scores, highest first; NaN scores are
// never picked. With Softmax the scores are probabilities over all classes.
func (c *Classifier) Decode(scores []float32) []Class {
	top := c.top[:0]
	for i, s := range scores {
		if s != s { // NaN
			continue
		}
		if len(top) == c.cfg.TopK && s <= top[len(top)-1].Score {
			continue
		}
		if len(top) < c.cfg.TopK {
			top = append(top, Class{})
		}
		j := len(top) - 1
		for j > 0 && top[j-1].Score < s {
			top[j] = top[j-1]
			j--
		}
		top[j] = Class{Index: i, Score: s}
	}
	if c.cfg.Softmax && len(top) > 0 {
		m := float64(top[0].Score)
		var sum float64
		for _, s := range scores {
			if s == s {
				sum += math.Exp(float64(s) - m)
			}
		}
		for i := range top {
			top[i].Score = float32(math.Exp(float64(top[i].Score)-m) / sum)
		}
	}
	for i := range top {
		if idx := top[i].Index; idx < len(c.cfg.Labels) {
			top[i].Label = c.cfg.Labels[idx]
		}
	}
	c.top = top
	return top
}

// AppendClassesJSON appends {"top":[{"index":..,"label":..,"score":..},..]}
// to b; a class without a label has no "label" key.
func AppendClassesJSON(b []byte, top []Class) []byte {
	b = append(b, `{"top":[`...)
	for i, c := range top {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(appendKey(append(b, '{'), "index"), int64(c.Index), 10)
		if c.Label != "" {
			b = jsontext.AppendString(appendKey(append(b, ','), "label"), c.Label)
		}
		b = append(appendFixed(appendKey(append(b, ','), "score"), c.Score), '}')
	}
	return append(b, "]}"...)
}

// MaxLabels bounds the number of lines ReadLabels accepts.
const MaxLabels = 1 << 20

// ReadLabels reads class names, one per line (surrounding spaces trimmed;
// a trailing empty line is ignored).
func ReadLabels(r io.Reader) ([]string, error) {
	var labels []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	for sc.Scan() {
		if len(labels) == MaxLabels {
			return nil, fmt.Errorf("vision: labels: more than %d lines", MaxLabels)
		}
		labels = append(labels, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vision: labels: %w", err)
	}
	return labels, nil
}
