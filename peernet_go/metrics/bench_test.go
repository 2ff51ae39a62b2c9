package metrics_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

func BenchmarkSummaryAdd(b *testing.B) {
	s := metrics.NewSummary(metrics.SummaryOptions{Period: time.Millisecond})
	r := okRecord(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Iteration = i
		r.Upload = time.Duration(i%5000) * time.Microsecond
		s.Add(&r)
	}
}

// BenchmarkCSVWriterWrite is the data.csv hot path: one row per record into
// a buffer, flushed to a writer.
func BenchmarkCSVWriterWrite(b *testing.B) {
	w := metrics.NewCSVWriter(io.Discard)
	r := okRecord(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Iteration = i
		if err := w.Write(&r); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Close()
}

// BenchmarkCSVBaselineEncodingCSV writes the same 23 fields with
// encoding/csv and strconv, the straightforward way.
func BenchmarkCSVBaselineEncodingCSV(b *testing.B) {
	w := csv.NewWriter(io.Discard)
	r := okRecord(0)
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 9, 64) }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Iteration = i
		err := w.Write([]string{
			strconv.Itoa(r.Iteration), secs(r.Sensing), secs(r.Upload), secs(r.Inference), secs(r.Download),
			strconv.FormatInt(r.UploadBytes, 10), strconv.FormatInt(r.DownloadBytes, 10),
			strconv.FormatFloat(metrics.Throughput(r.UploadBytes, r.Upload), 'f', -1, 64),
			strconv.FormatFloat(metrics.Throughput(r.DownloadBytes, r.Download), 'f', -1, 64),
			secs(r.Preprocess), secs(r.Postprocess), secs(r.Queue), secs(r.Server), secs(r.RTT),
			secs(r.ClockOffset), secs(r.ClockError), secs(r.Lag), "", r.Topic, r.Status.String(),
			strconv.FormatBool(r.Warmup), strconv.FormatInt(r.UploadPackets, 10), strconv.FormatInt(r.DownloadPackets, 10),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	w.Flush()
}

func BenchmarkJSONLWriterWrite(b *testing.B) {
	w := metrics.NewJSONLWriter(io.Discard)
	r := okRecord(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Iteration = i
		if err := w.Write(&r); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Close()
}

// BenchmarkJSONBaselineEncodingJSON encodes a struct of the same fields
// with encoding/json.
func BenchmarkJSONBaselineEncodingJSON(b *testing.B) {
	type row struct {
		Iteration                                         int
		Sensing, Upload, Inference, Download              float64
		UploadBytes, DownloadBytes                        int64
		UploadThroughput, DownloadThroughput              float64
		Preprocessing, Postprocessing, Queue, Server, RTT float64
		ClockOffset, ClockError, Lag                      float64
		Status                                            string
		Warmup                                            bool
		UploadPackets, DownloadPackets                    int64
		T0, T1, T2, T3                                    int64
	}
	enc := json.NewEncoder(io.Discard)
	r := okRecord(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Iteration = i
		err := enc.Encode(row{
			r.Iteration, r.Sensing.Seconds(), r.Upload.Seconds(), r.Inference.Seconds(), r.Download.Seconds(),
			r.UploadBytes, r.DownloadBytes,
			metrics.Throughput(r.UploadBytes, r.Upload), metrics.Throughput(r.DownloadBytes, r.Download),
			r.Preprocess.Seconds(), r.Postprocess.Seconds(), r.Queue.Seconds(), r.Server.Seconds(), r.RTT.Seconds(),
			r.ClockOffset.Seconds(), r.ClockError.Seconds(), r.Lag.Seconds(), r.Status.String(), r.Warmup,
			r.UploadPackets, r.DownloadPackets, r.T0, r.T1, r.T2, r.T3,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadCSV(b *testing.B) {
	var rows []byte
	rows = append(rows, csvHeader...)
	r := okRecord(0)
	for i := range 1000 {
		r.Iteration = i
		rows = metrics.AppendCSV(rows, &r)
	}
	b.SetBytes(int64(len(rows)))
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range metrics.ReadCSV(bytesReader(rows)) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/row")
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}
