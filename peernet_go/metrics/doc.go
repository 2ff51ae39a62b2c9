// Package metrics records what a profiling run measures.
//
// It has three parts:
//
//   - A timing tree ([Node]): named sections that are containers, timers,
//     stored values or rates, the Go form of PEERNet's MetricLogger. It suits
//     timing nested code from a library user's program.
//   - A flat per-iteration [Record] streamed to [Sink]s as the run goes:
//     [CSVWriter] writes data.csv with PEERNet's column names, [JSONLWriter]
//     writes records.jsonl, [Multi] fans out, and [ReadCSV] reads data.csv
//     back.
//   - A [Summary], itself a Sink, that keeps per-stage statistics (count,
//     mean, standard deviation, min, p50, p90, p99, max) in HDR histograms:
//     its memory does not grow with the number of iterations.
//
// A run loop typically writes every record to all three:
//
//	csv, err := metrics.CreateCSV(filepath.Join(dir, "data.csv"))
//	if err != nil { return err }
//	jl, err := metrics.CreateJSONL(filepath.Join(dir, "records.jsonl"))
//	if err != nil { return err }
//	sum := metrics.NewSummary(metrics.SummaryOptions{Period: time.Second / 30})
//	sink := metrics.Multi(csv, jl, sum)
//	defer sink.Close()
//	for i := range n {
//		rec := measure(i)
//		if err := sink.Write(&rec); err != nil { return err }
//	}
//	res := sum.Result() // per-stage statistics and iteration counts
//
// The writers are buffered and flush when a Write finds more than a second
// has passed since the last flush; the owner should also call Flush from a
// one-second ticker so that an idle or crashed run loses at most the last
// second. Close flushes and syncs the file.
//
// A timing tree measures with closures instead of context managers:
//
//	root := metrics.NewNode("root", metrics.KindContainer)
//	it, _ := root.Section("iteration-0", metrics.KindContainer)
//	func() {
//		defer it.Time("inference")()
//		model.Infer(x)
//	}()
//	secs, _ := it.Metric("inference")
package metrics
