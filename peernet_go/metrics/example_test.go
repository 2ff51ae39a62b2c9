package metrics_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// A timing tree: one container per iteration holding a timer, a value and a
// rate, written as PEERNet's two-level CSV.
func ExampleNode() {
	root := metrics.NewNode("run", metrics.KindContainer)
	for i := range 2 {
		it, err := root.Section(fmt.Sprintf("iteration-%d", i), metrics.KindContainer)
		if err != nil {
			panic(err)
		}
		func() {
			defer it.Time("inference")() // ends the timer when the function returns
			time.Sleep(time.Millisecond)
		}()
		frames, _ := it.Section("frames", metrics.KindValue)
		frames.EndWith(float64(30 + i))
		tps, _ := it.Section("tokens", metrics.KindRate)
		tps.EndWith(100)
	}
	secs, _ := root.Child("iteration-1").Metric("inference")
	fmt.Println("inference took at least 1 ms:", secs >= 0.001)

	// The value column is exact; the timer and rate vary from run to run.
	var b strings.Builder
	if err := root.WriteCSV(&b, 1); err != nil {
		panic(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		cells := strings.Split(line, ",")
		fmt.Println(cells[0], cells[2])
	}
	// Output:
	// inference took at least 1 ms: true
	// iteration frames
	// 0 30
	// 1 31
}

// A Summary fed with records; warmup iterations count but stay out of the
// statistics.
func ExampleSummary() {
	sum := metrics.NewSummary(metrics.SummaryOptions{Period: 10 * time.Millisecond})
	for i := range 100 {
		r := metrics.Record{
			Iteration: i, Status: metrics.OK, Warmup: i < 5,
			RTT: time.Duration(1000+i) * time.Microsecond, T3: 1,
			Lag: time.Duration(i%10) * 300 * time.Microsecond, // late beyond 2 ms: 3 in 10
		}
		if i == 50 {
			r = metrics.Record{Iteration: i, Status: metrics.Lost}
		}
		sum.Add(&r)
	}
	res := sum.Result()
	c := res.Iterations
	fmt.Printf("total %d ok %d lost %d warmup %d late %d too-late %d\n", c.Total, c.OK, c.Lost, c.Warmup, c.Late, c.TooLate)
	rtt, _ := res.Stage(metrics.StageRTT)
	fmt.Printf("rtt: n=%d min %.4f s p50 %.4f s max %.4f s\n", rtt.Count, rtt.Min, rtt.P50, rtt.Max)
	// Output:
	// total 100 ok 94 lost 1 warmup 5 late 30 too-late 0
	// rtt: n=94 min 0.0010 s p50 0.0011 s max 0.0011 s
}

// Streaming records to data.csv.
func ExampleCSVWriter() {
	w := metrics.NewCSVWriter(os.Stdout)
	defer w.Close()
	r := metrics.Record{Iteration: 0, Status: metrics.OK, Sensing: 5 * time.Microsecond,
		Upload: time.Millisecond, Download: time.Millisecond / 2, RTT: 2 * time.Millisecond, Server: time.Millisecond / 2,
		UploadBytes: 1000, DownloadBytes: 100, UploadPackets: 1, DownloadPackets: 1}
	if err := w.Write(&r); err != nil {
		panic(err)
	}
	lost := metrics.Record{Iteration: 1, Status: metrics.Lost, Sensing: 4 * time.Microsecond, UploadBytes: 1000, UploadPackets: 1}
	if err := w.Write(&lost); err != nil {
		panic(err)
	}
	// Output:
	// iteration,sensing,upload,inference,download,upload-bytes,download-bytes,upload-throughput,download-throughput,preprocessing,postprocessing,queue,server,rtt,clock-offset,clock-error,lag,header-age,topic,status,warmup,upload-packets,download-packets,latency-from-schedule
	// 0,0.000005000,0.001000000,0.000000000,0.000500000,1000,100,8000000,1600000,0.000000000,0.000000000,0.000000000,0.000500000,0.002000000,0.000000000,0.000000000,0.000000000,,,ok,false,1,1,
	// 1,0.000004000,,,,1000,,,,,,,,,0.000000000,0.000000000,0.000000000,,,lost,false,1,,
}
