package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// WriteText writes summary.txt, the table the CLI prints at the end of a run:
//
//	iterations  2000: ok 1998, lost 2, error 0, late 0, too-late 0
//	clock       handshake: offset +100.012 ms ± 45.0 µs, drift +1.20 ppm, 16 probes, min RTT 90.0 µs
//
//	stage                count     mean      p50      p90      p99      max
//	sensing               2000  12.3 µs  11.9 µs  13.0 µs  20.1 µs   101 µs
//	upload                1998   101 µs  98.0 µs   120 µs   180 µs   300 µs  ± 45.0 µs
//
// Values are in adaptive units (ns, µs, ms, s; B, KiB, MiB, GiB; bit/s,
// kbit/s, Mbit/s, Gbit/s) to three significant digits, packet counts in pkt. One-way stages carry
// the clock bound ("± bound") when it is known, and an "unsync" line says
// when they cannot be trusted (see Clock.Unsync).
func WriteText(w io.Writer, res metrics.Result, c Clock) error {
	bw := bufio.NewWriter(w)
	n := res.Iterations
	fmt.Fprintf(bw, "%-12s%d: ok %d, lost %d, error %d", "iterations", n.Total-n.Warmup, n.OK, n.Lost, n.Error)
	if res.Period > 0 || n.Missed > 0 {
		fmt.Fprintf(bw, ", missed %d", n.Missed)
	}
	if res.Period > 0 {
		fmt.Fprintf(bw, ", late %d, too-late %d (period %s, late beyond %s)",
			n.Late, n.TooLate, fmtOffset(res.Period), fmtOffset(res.LateThreshold))
	}
	if n.Warmup > 0 {
		fmt.Fprintf(bw, "; warmup %d not in the statistics", n.Warmup)
	}
	bw.WriteByte('\n')

	unsync, why := c.Unsync()
	if c.Mode != "" {
		fmt.Fprintf(bw, "%-12s%s: offset %s", "clock", c.Mode, fmtSigned(c.Offset))
		if c.Bound > 0 {
			fmt.Fprintf(bw, " ± %s", fmtOffset(c.Bound))
		}
		fmt.Fprintf(bw, ", drift %+.2f ppm", c.DriftPPM)
		if c.Probes > 0 {
			fmt.Fprintf(bw, ", %d probes, min RTT %s", c.Probes, fmtOffset(c.MinRTT))
		}
		bw.WriteByte('\n')
	}
	if unsync {
		fmt.Fprintf(bw, "%-12s%s: upload and download are not trustworthy\n", "unsync", why)
	}

	if len(res.Stages) > 0 {
		bw.WriteByte('\n')
		rows := [][]string{{"stage", "count", "mean", "p50", "p90", "p99", "max", ""}}
		for _, st := range res.Stages {
			row := []string{st.Name, strconv.FormatInt(st.Count, 10)}
			for _, v := range []float64{st.Mean, st.P50, st.P90, st.P99, st.Max} {
				row = append(row, FormatValue(v, st.Unit))
			}
			bound := ""
			if oneWay[st.Name] && c.Bound > 0 {
				bound = "± " + fmtOffset(c.Bound)
			}
			rows = append(rows, append(row, bound))
		}
		writeTable(bw, rows)
		for _, st := range res.Stages {
			if oneWay[st.Name] && !unsync && c.Bound > 0 && math.Abs(st.P50) <= float64(c.Bound)/1e9 {
				fmt.Fprintf(bw, "%-12s%s p50 %s is within the clock bound (± %s): not told apart from 0\n",
					"note", st.Name, FormatValue(st.P50, st.Unit), fmtOffset(c.Bound))
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: writing summary text: %w", err)
	}
	return nil
}

// writeTable writes rows with the first column left-aligned and the others
// right-aligned, two spaces apart; empty trailing cells are dropped.
func writeTable(w *bufio.Writer, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, cell := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0:
				line.WriteString(cell + pad)
			case i == len(r)-1 && cell != "":
				line.WriteString("  " + cell) // the bound column
			case i < len(r)-1:
				line.WriteString("  " + pad + cell)
			}
		}
		w.WriteString(strings.TrimRight(line.String(), " "))
		w.WriteByte('\n')
	}
}

// FormatValue formats v, in unit u, with an adaptive unit to three
// significant digits: "12.3 µs", "1.05 s", "1.00 KiB", "81.2 Mbit/s";
// packet counts show whole ("45 pkt"), or to three digits when a mean
// ("44.6 pkt").
func FormatValue(v float64, u metrics.Unit) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	switch u {
	case metrics.Seconds:
		return scaled(v, []unitStep{{1, "s"}, {1e-3, "ms"}, {1e-6, "µs"}, {1e-9, "ns"}})
	case metrics.Bytes:
		if math.Abs(v) < 1024 && v == math.Trunc(v) {
			return strconv.FormatFloat(v, 'f', 0, 64) + " B"
		}
		return scaled(v, []unitStep{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}, {1, "B"}})
	case metrics.BitsPerSecond:
		return scaled(v, []unitStep{{1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}, {1, "bit/s"}})
	case metrics.Packets:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatFloat(v, 'f', 0, 64) + " pkt"
		}
		return sig3(v) + " pkt"
	}
	return sig3(v) + " " + string(u)
}

type unitStep struct {
	size float64
	name string
}

// scaled picks the largest unit in which |v| shows as at least 1 (the
// smallest for tiny values) and formats v in it.
func scaled(v float64, steps []unitStep) string {
	s := steps[len(steps)-1]
	for _, st := range steps {
		if math.Abs(v)/st.size >= 0.9995 {
			s = st
			break
		}
	}
	return sig3(v/s.size) + " " + s.name
}

// sig3 formats x to three significant digits without an exponent (more
// digits for values of 1000 and above).
func sig3(x float64) string {
	a := math.Abs(x)
	switch {
	case a == 0:
		return "0"
	case a >= 99.95:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 9.995:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

// fmtOffset formats a clock quantity with microsecond resolution.
func fmtOffset(d time.Duration) string {
	a := d.Abs()
	switch {
	case a >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) + " s"
	case a >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) + " ms"
	default:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + " µs"
	}
}

func fmtSigned(d time.Duration) string {
	if d >= 0 {
		return "+" + fmtOffset(d)
	}
	return fmtOffset(d)
}
