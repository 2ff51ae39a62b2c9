package sensor

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes a size may carry.
var sizeUnits = []struct {
	suffix string
	factor int
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}}

// ParseSize parses a sample size: "N" bytes, or "MIN:MAX" for sizes drawn
// uniformly from MIN to MAX inclusive. Numbers may end in KiB, MiB or GiB.
// "" means DefaultSize. Sizes are at most MaxSampleSize.
func ParseSize(s string) (lo, hi int, err error) {
	if strings.TrimSpace(s) == "" {
		s = DefaultSize
	}
	a, b, isRange := strings.Cut(s, ":")
	if lo, err = parseBytes(a); err != nil {
		return 0, 0, fmt.Errorf("sensor size %q: %w", s, err)
	}
	hi = lo
	if isRange {
		if hi, err = parseBytes(b); err != nil {
			return 0, 0, fmt.Errorf("sensor size %q: %w", s, err)
		}
		if lo > hi {
			return 0, 0, fmt.Errorf("sensor size %q: minimum %d is above maximum %d", s, lo, hi)
		}
	}
	return lo, hi, nil
}

func parseBytes(s string) (int, error) {
	s = strings.TrimSpace(s)
	factor := 1
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, factor = strings.TrimSpace(num), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case s == "":
		return 0, fmt.Errorf("missing number (want N or MIN:MAX bytes)")
	case err != nil:
		return 0, fmt.Errorf("%q is not a whole number of bytes (want N or MIN:MAX, e.g. 1024 or 64:4KiB)", s)
	case n < 0:
		return 0, fmt.Errorf("%d is negative", n)
	case n > MaxSampleSize/int64(factor):
		return 0, fmt.Errorf("%s is more than the %d-byte limit", s+unitName(factor), MaxSampleSize)
	}
	return int(n) * factor, nil
}

func unitName(factor int) string {
	for _, u := range sizeUnits {
		if u.factor == factor {
			return u.suffix
		}
	}
	return ""
}
