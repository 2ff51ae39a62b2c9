package window

import (
	"fmt"
	"math"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// Line describes w in one line, as the CLI shows it live and the ROS edge
// node logs it: its length, the iterations and their outcomes, rtt p50 and
// p99, and the one-way delays' p50 with the clock bound, e.g.
//
//	window 1.0 s: 200 iterations, 198 ok, 1 lost, 1 missed; rtt p50 2.35 ms p99 14.7 ms; upload p50 59.6 µs ± 12.0 µs, download p50 56.0 µs ± 12.0 µs
func Line(w Window) string {
	var b strings.Builder
	c := w.Result.Iterations
	fmt.Fprintf(&b, "window %.1f s: %d iterations, %d ok", w.Stop.Sub(w.Start).Seconds(), c.Total, c.OK)
	for _, n := range []struct {
		what string
		n    int64
	}{{"lost", c.Lost}, {"errors", c.Error}, {"missed", c.Missed}} {
		if n.n > 0 {
			fmt.Fprintf(&b, ", %d %s", n.n, n.what)
		}
	}
	if rtt, ok := w.Result.Stage(metrics.StageRTT); ok {
		fmt.Fprintf(&b, "; rtt p50 %s p99 %s", Seconds(rtt.P50), Seconds(rtt.P99))
	}
	sep := "; "
	for _, name := range []string{metrics.StageUpload, metrics.StageDownload} {
		if st, ok := w.Result.Stage(name); ok {
			fmt.Fprintf(&b, "%s%s p50 %s ± %s", sep, name, Seconds(st.P50), Seconds(w.ClockError.Seconds()))
			sep = ", "
		}
	}
	if age, ok := w.Result.Stage(metrics.StageHeaderAge); ok {
		fmt.Fprintf(&b, "; header age p50 %s", Seconds(age.P50))
	}
	return b.String()
}

// Seconds formats a duration given in seconds for a log line: in ns, µs
// or ms with three significant digits below a second (12.3 ms, 500 µs),
// in s with three decimals above.
func Seconds(v float64) string {
	a := math.Abs(v)
	unit, x := "s", v
	switch {
	case a == 0:
		return "0 s"
	case a >= 1:
		return fmt.Sprintf("%.3f s", v)
	case a < 1e-6:
		unit, x = "ns", v*1e9
	case a < 1e-3:
		unit, x = "µs", v*1e6
	default:
		unit, x = "ms", v*1e3
	}
	switch ax := math.Abs(x); {
	case ax >= 99.95:
		return fmt.Sprintf("%.0f %s", x, unit)
	case ax >= 9.995:
		return fmt.Sprintf("%.1f %s", x, unit)
	}
	return fmt.Sprintf("%.2f %s", x, unit)
}
