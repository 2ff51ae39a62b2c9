package report_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/report"
)

// The table printed at the end of a run, from a Summary and the clock
// estimate.
func ExampleWriteText() {
	sum := metrics.NewSummary(metrics.SummaryOptions{})
	for i := range 1000 {
		r := metrics.Record{
			Iteration: i, Status: metrics.OK, T3: 1,
			Sensing: 20 * time.Microsecond, Upload: time.Duration(400+i%100) * time.Microsecond,
			Inference: 2 * time.Millisecond, Server: 2100 * time.Microsecond, Download: 150 * time.Microsecond,
			UploadBytes: 64 << 10, DownloadBytes: 100,
		}
		r.RTT = r.Upload + r.Server + r.Download
		sum.Add(&r)
	}
	clk := report.Clock{Mode: "handshake", Offset: 2 * time.Millisecond, Bound: 30 * time.Microsecond, Synced: true}
	if err := report.WriteText(os.Stdout, sum.Result(), clk); err != nil {
		fmt.Println(err)
	}
	// Output:
	// iterations  1000: ok 1000, lost 0, error 0
	// clock       handshake: offset +2.000 ms ± 30.0 µs, drift +0.00 ppm
	//
	// stage                count         mean          p50          p90          p99          max
	// sensing               1000      20.0 µs      20.0 µs      20.0 µs      20.0 µs      20.0 µs
	// upload                1000       450 µs       449 µs       489 µs       498 µs       499 µs  ± 30.0 µs
	// queue                 1000         0 ns         0 ns         0 ns         0 ns         0 ns
	// preprocessing         1000         0 ns         0 ns         0 ns         0 ns         0 ns
	// inference             1000      2.00 ms      2.00 ms      2.00 ms      2.00 ms      2.00 ms
	// postprocessing        1000         0 ns         0 ns         0 ns         0 ns         0 ns
	// server                1000      2.10 ms      2.10 ms      2.10 ms      2.10 ms      2.10 ms
	// download              1000       150 µs       150 µs       150 µs       150 µs       150 µs  ± 30.0 µs
	// rtt                   1000      2.70 ms      2.70 ms      2.74 ms      2.75 ms      2.75 ms
	// upload-throughput     1000  1.17 Gbit/s  1.17 Gbit/s  1.28 Gbit/s  1.31 Gbit/s  1.31 Gbit/s
	// download-throughput   1000  5.33 Mbit/s  5.33 Mbit/s  5.33 Mbit/s  5.33 Mbit/s  5.33 Mbit/s
	// upload-bytes          1000     64.0 KiB     64.0 KiB     64.0 KiB     64.0 KiB     64.0 KiB
	// download-bytes        1000        100 B        100 B        100 B        100 B        100 B
}

// Writing a results directory's summary files at the end of a run.
func ExampleWriteAll() {
	dir, err := os.MkdirTemp("", "peernet-results")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	sum := metrics.NewSummary(metrics.SummaryOptions{})
	r := metrics.Record{Iteration: 0, Status: metrics.OK, RTT: time.Millisecond, T3: 1}
	sum.Add(&r)
	info := report.NewRunInfo("v0.1.0", []string{"peernet", "bench"})
	info.Transport, info.Iterations, info.End = "zmq-tcp", 1, time.Now()
	if err := report.WriteAll(dir, sum.Result(), report.Clock{Mode: "assume-synced"}, &info); err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"summary.json", "summary.txt", "run.yaml"} {
		_, err := os.Stat(filepath.Join(dir, name))
		fmt.Println(name, err == nil)
	}
	// Output:
	// summary.json true
	// summary.txt true
	// run.yaml true
}
