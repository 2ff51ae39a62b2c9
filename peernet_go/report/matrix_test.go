package report_test

import (
	"testing"

	"github.com/peernet/peernet_go/peernet_go/report"
)

func TestSizeLabel(t *testing.T) {
	for n, want := range map[int]string{0: "0B", 64: "64B", 1000: "1000B", 1024: "1KiB", 1536: "1536B", 64 << 10: "64KiB", 1 << 20: "1MiB", 3 << 20: "3MiB"} {
		if got := report.SizeLabel(n); got != want {
			t.Errorf("SizeLabel(%d) = %q, want %q", n, got, want)
		}
	}
}
