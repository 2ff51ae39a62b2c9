package vision

import (
	"math"
	"strconv"
)

// The decoders write their JSON by hand into reused buffers: the results are
// small, flat and produced on every iteration.

func finite(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}

// appendFloat appends v in its shortest float32 form, or null when v is not
// finite (JSON has no NaN or Inf).
func appendFloat(b []byte, v float32) []byte {
	if !finite(v) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}

// appendFixed appends v rounded to 4 decimals, the precision of scores and
// normalised coordinates (a tenth of a pixel at 1000 pixels).
func appendFixed(b []byte, v float32) []byte {
	if !finite(v) {
		return append(b, "null"...)
	}
	r := math.Round(float64(v)*1e4) / 1e4
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.AppendFloat(b, r, 'f', -1, 64)
}

func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}
