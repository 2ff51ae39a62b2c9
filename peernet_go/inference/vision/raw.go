package vision

import (
	"fmt"
	"strconv"

	"github.com/peernet/peernet_go/peernet_go/internal/jsontext"
)

// RawConfig configures the raw decoder, which reports output tensors as
// they are: name, shape, statistics and leading values.
type RawConfig struct {
	// MaxValues is how many leading values of each tensor to include; -1
	// includes them all. It defaults to 16.
	MaxValues int `yaml:"max_values,omitempty"`
}

// Initialize fills in defaults and validates c.
func (c *RawConfig) Initialize() error {
	if c.MaxValues == 0 {
		c.MaxValues = 16
	}
	if c.MaxValues < -1 {
		return fmt.Errorf("max_values: must be -1 (all) or positive, got %d", c.MaxValues)
	}
	return nil
}

// RawTensor is an output tensor for [AppendRawJSON].
type RawTensor struct {
	Name  string
	Shape []int64
	Data  []float32
}

// AppendRawJSON appends {"outputs":[{"name":..,"shape":[..],"min":..,
// "max":..,"mean":..,"values":[..]},..]} to b. Statistics skip NaN values;
// non-finite values are written as null.
func AppendRawJSON(b []byte, tensors []RawTensor, cfg RawConfig) []byte {
	b = append(b, `{"outputs":[`...)
	for i, t := range tensors {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(appendKey(append(b, '{'), "name"), t.Name)
		b = append(appendKey(append(b, ','), "shape"), '[')
		for j, d := range t.Shape {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, ']')
		var lo, hi float32
		var sum float64
		n := 0
		for _, v := range t.Data {
			if v != v {
				continue
			}
			if n == 0 || v < lo {
				lo = v
			}
			if n == 0 || v > hi {
				hi = v
			}
			sum += float64(v)
			n++
		}
		if n > 0 {
			b = appendFloat(appendKey(append(b, ','), "min"), lo)
			b = appendFloat(appendKey(append(b, ','), "max"), hi)
			b = appendFloat(appendKey(append(b, ','), "mean"), float32(sum/float64(n)))
		}
		k := len(t.Data)
		if cfg.MaxValues >= 0 {
			k = min(k, cfg.MaxValues)
		}
		b = append(appendKey(append(b, ','), "values"), '[')
		for j, v := range t.Data[:k] {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, v)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}
