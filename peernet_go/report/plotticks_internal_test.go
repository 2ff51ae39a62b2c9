package report

import (
	"math"
	"testing"
)

func TestCountTicks(t *testing.T) {
	for _, tc := range []struct{ lo, hi float64 }{{0, 3}, {0, 1}, {0, 7}, {0, 1234}} {
		ticks := countTicks{}.Ticks(tc.lo, tc.hi)
		if len(ticks) < 2 {
			t.Fatalf("%v–%v: %d ticks", tc.lo, tc.hi, len(ticks))
		}
		for _, tk := range ticks {
			if tk.Value != math.Trunc(tk.Value) {
				t.Errorf("%v–%v: tick at %v", tc.lo, tc.hi, tk.Value)
			}
		}
	}
}
