package vision

import (
	"math"
	"strconv"
	"unicode/utf8"
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

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}
