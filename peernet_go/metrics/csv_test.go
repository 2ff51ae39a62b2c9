package metrics_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

const csvHeader = "iteration,sensing,upload,inference,download,upload-bytes,download-bytes," +
	"upload-throughput,download-throughput,preprocessing,postprocessing,queue,server,rtt," +
	"clock-offset,clock-error,lag,header-age,topic,status,warmup,upload-packets,download-packets," +
	"latency-from-schedule\n"

// okRecord is a complete iteration: 1 KiB up in 1 ms, 100 B down in 0.5 ms.
func okRecord(i int) metrics.Record {
	return metrics.Record{
		Iteration: i, Status: metrics.OK,
		Sensing: 12345 * time.Nanosecond, Upload: time.Millisecond, Queue: 3 * time.Microsecond,
		Preprocess: 10 * time.Microsecond, Inference: 2 * time.Millisecond, Postprocess: 7 * time.Microsecond,
		Server: 2100 * time.Microsecond, Download: 500 * time.Microsecond, RTT: 3600 * time.Microsecond,
		UploadBytes: 1024, DownloadBytes: 100,
		ClockOffset: -250 * time.Millisecond, ClockError: 40 * time.Microsecond,
		T0: 1_700_000_000_000_000_000, T1: 1_700_000_000_001_000_000, T2: 1_700_000_000_003_100_000, T3: 1_700_000_000_003_600_000,
	}
}

func TestCSVWriterRows(t *testing.T) {
	var buf bytes.Buffer
	w := metrics.NewCSVWriter(&buf)
	ok := okRecord(0)
	lost := metrics.Record{
		Iteration: 1, Status: metrics.Lost, Err: "no reply within 5s", Sensing: time.Microsecond,
		UploadBytes: 1024, ClockOffset: time.Millisecond, ClockError: 2 * time.Microsecond,
		Lag: 3 * time.Millisecond, T0: 5, UploadPackets: 1, DownloadPackets: 2, // partial reply: not written
	}
	ros := okRecord(2)
	ros.Topic, ros.HeaderAge, ros.HasHeaderAge, ros.Warmup = "/cam,front", -2*time.Millisecond, true, true
	ros.Upload = -time.Millisecond // skewed clocks: no upload throughput
	ros.UploadPackets, ros.DownloadPackets = 1, 1
	for _, r := range []*metrics.Record{&ok, &lost, &ros} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := csvHeader +
		"0,0.000012345,0.001000000,0.002000000,0.000500000,1024,100,8192000,1600000," +
		"0.000010000,0.000007000,0.000003000,0.002100000,0.003600000,-0.250000000,0.000040000,0.000000000,,,ok,false,0,0,\n" +
		"1,0.000001000,,,,1024,,,,,,,,,0.001000000,0.000002000,0.003000000,,,lost,false,1,,\n" +
		"2,0.000012345,-0.001000000,0.002000000,0.000500000,1024,100,,1600000," +
		"0.000010000,0.000007000,0.000003000,0.002100000,0.003600000,-0.250000000,0.000040000,0.000000000,-0.002000000,\"/cam,front\",ok,true,1,1,\n"
	if got := buf.String(); got != want {
		t.Fatalf("data.csv:\n%s\nwant:\n%s", got, want)
	}
	if got := strings.Join(metrics.CSVColumns(), ",") + "\n"; got != csvHeader {
		t.Fatalf("CSVColumns = %q", got)
	}
}

func TestCSVWriterBuffersUntilFlush(t *testing.T) {
	var buf bytes.Buffer
	w := metrics.NewCSVWriter(&buf)
	r := okRecord(0)
	if err := w.Write(&r); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %d bytes before a flush was due", buf.Len())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), csvHeader+"0,") {
		t.Fatalf("after Flush: %q", buf.String())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&r); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestCSVWriterReportsWriteErrors(t *testing.T) {
	w := metrics.NewCSVWriter(&failWriter{})
	r := okRecord(0)
	_ = w.Write(&r)
	err := w.Flush()
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush on a failing writer: %v", err)
	}
	if err := w.Write(&r); err == nil {
		t.Fatal("error is not sticky")
	}
}

func TestCreateCSVAndReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.csv")
	w, err := metrics.CreateCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Record{okRecord(0), okRecord(1)}
	for i := range want {
		if err := w.Write(&want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []metrics.Record
	for rec, err := range metrics.ReadCSV(f) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *rec)
	}
	if len(got) != 2 {
		t.Fatalf("read %d records, want 2", len(got))
	}
	for i := range want {
		if csvView(want[i]) != csvView(got[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if _, err := metrics.CreateCSV(filepath.Join(t.TempDir(), "missing", "data.csv")); err == nil {
		t.Fatal("CreateCSV in a missing directory succeeded")
	}
}

// view is a comparable copy of a Record without its output.
type view struct {
	Iteration                                                      int
	Warmup                                                         bool
	Status                                                         metrics.Status
	Err                                                            string
	Sensing, Upload, Queue, Preprocess, Inference, Postprocess     time.Duration
	Server, Download, RTT, ClockOffset, ClockError, Lag, HeaderAge time.Duration
	UploadBytes, DownloadBytes, UploadPackets, DownloadPackets     int64
	LatencyFromSchedule                                            time.Duration
	T0, T1, T2, T3, LogTime                                        int64
	Topic                                                          string
	HasHeaderAge                                                   bool
}

func toView(r metrics.Record) view {
	return view{
		r.Iteration, r.Warmup, r.Status, r.Err,
		r.Sensing, r.Upload, r.Queue, r.Preprocess, r.Inference, r.Postprocess,
		r.Server, r.Download, r.RTT, r.ClockOffset, r.ClockError, r.Lag, r.HeaderAge,
		r.UploadBytes, r.DownloadBytes, r.UploadPackets, r.DownloadPackets,
		r.LatencyFromSchedule,
		r.T0, r.T1, r.T2, r.T3, r.LogTime,
		r.Topic, r.HasHeaderAge,
	}
}

// csvView returns what of r survives data.csv: not the outputs, raw
// timestamps or error text, nor the reply fields of an iteration without a
// reply; line breaks in the topic become spaces.
func csvView(r metrics.Record) view {
	replied := r.Replied()
	r.T0, r.T1, r.T2, r.T3, r.LogTime, r.Err = 0, 0, 0, 0, 0, ""
	if !r.HasHeaderAge {
		r.HeaderAge = 0
	}
	if r.Status == metrics.Missed {
		r.Sensing, r.UploadBytes, r.ClockOffset, r.ClockError, r.Lag, r.UploadPackets = 0, 0, 0, 0, 0, 0
	}
	if !replied {
		r.Upload, r.Inference, r.Download, r.DownloadBytes, r.DownloadPackets = 0, 0, 0, 0, 0
		r.Preprocess, r.Postprocess, r.Queue, r.Server, r.RTT = 0, 0, 0, 0, 0
	}
	r.Topic = strings.NewReplacer("\r", " ", "\n", " ").Replace(r.Topic)
	return toView(r)
}

func genDuration(t *rapid.T, label string) time.Duration {
	return time.Duration(rapid.OneOf(
		rapid.Int64Range(-2e9, 2e9),
		rapid.Int64(),
		rapid.SampledFrom([]int64{0, 1, -1, math.MaxInt64, math.MinInt64}),
	).Draw(t, label))
}

// genPackets draws packet counts: 0 (not counted), a few, or any.
var genPackets = rapid.OneOf(rapid.Just(int64(0)), rapid.Int64Range(1, 100), rapid.Int64Min(0))

func genRecord(t *rapid.T) metrics.Record {
	r := metrics.Record{
		Iteration:       rapid.IntRange(0, math.MaxInt32).Draw(t, "iteration"),
		Status:          metrics.Status(rapid.IntRange(0, 3).Draw(t, "status")),
		Warmup:          rapid.Bool().Draw(t, "warmup"),
		Err:             rapid.String().Draw(t, "err"),
		Sensing:         genDuration(t, "sensing"),
		Upload:          genDuration(t, "upload"),
		Queue:           genDuration(t, "queue"),
		Preprocess:      genDuration(t, "pre"),
		Inference:       genDuration(t, "inference"),
		Postprocess:     genDuration(t, "post"),
		Server:          genDuration(t, "server"),
		Download:        genDuration(t, "download"),
		RTT:             genDuration(t, "rtt"),
		UploadBytes:     rapid.Int64Min(0).Draw(t, "ub"),
		DownloadBytes:   rapid.Int64Min(0).Draw(t, "db"),
		UploadPackets:   genPackets.Draw(t, "up"),
		DownloadPackets: genPackets.Draw(t, "dp"),
		ClockOffset:     genDuration(t, "offset"),
		ClockError:      genDuration(t, "clockerr"),
		Lag:             genDuration(t, "lag"),
		T0:              rapid.Int64().Draw(t, "t0"),
		T1:              rapid.Int64().Draw(t, "t1"),
		T2:              rapid.Int64().Draw(t, "t2"),
		T3:              rapid.Int64().Draw(t, "t3"),
		Topic:           rapid.String().Draw(t, "topic"),
		LogTime:         rapid.Int64().Draw(t, "logtime"),
		HasHeaderAge:    rapid.Bool().Draw(t, "hasage"),
	}
	if r.HasHeaderAge {
		r.HeaderAge = genDuration(t, "age")
	}
	if rapid.Bool().Draw(t, "scheduled") {
		r.LatencyFromSchedule = genDuration(t, "fromschedule")
	}
	if rapid.Bool().Draw(t, "hasoutput") {
		r.OutputEncoding = rapid.SampledFrom([]string{"json", "text", "bytes", ""}).Draw(t, "enc")
		r.Output = rapid.SliceOf(rapid.Byte()).Draw(t, "output")
		if r.OutputEncoding == "json" && rapid.Bool().Draw(t, "validjson") {
			r.Output = []byte(`{"label": "cat", "p": [0.9, 1e-3]}`)
		}
	}
	return r
}

func TestCSVRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		recs := rapid.SliceOfN(rapid.Custom(genRecord), 1, 5).Draw(t, "records")
		var buf bytes.Buffer
		w := metrics.NewCSVWriter(&buf)
		for i := range recs {
			if err := w.Write(&recs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		i := 0
		for got, err := range metrics.ReadCSV(&buf) {
			if err != nil {
				t.Fatalf("reading back: %v\n%s", err, buf.String())
			}
			if want := csvView(recs[i]); toView(*got) != want {
				t.Fatalf("record %d:\n got %+v\nwant %+v", i, toView(*got), want)
			}
			i++
		}
		if i != len(recs) {
			t.Fatalf("read %d records, wrote %d", i, len(recs))
		}
	})
}

func TestReadCSVColumnOrderAndPEERNet(t *testing.T) {
	// PEERNet's own data.csv: its column order, Python floats, its logger
	// sizes and no status column.
	in := "iteration,sensing,upload,preprocessing,inference,postprocessing,download,download-bytes," +
		"download-logger-bytes,upload-bytes,upload-logger-bytes,upload-throughput,download-throughput\n" +
		"0,0.0038826465606689453,0.08897137641906738,0.016343116760253906,0.369077205657959," +
		"0.03786873817443848,9.393692016601562e-05,767,650,503234,324,45249069.55510715,1309999.4575995114\n"
	var got []metrics.Record
	for rec, err := range metrics.ReadCSV(strings.NewReader(in)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *rec)
	}
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	r := got[0]
	if r.Status != metrics.OK || r.Sensing != 3882647*time.Nanosecond || r.Download != 93937*time.Nanosecond ||
		r.UploadBytes != 503234 || r.DownloadBytes != 767 || r.Inference != 369077206*time.Nanosecond ||
		r.UploadPackets != 0 || r.DownloadPackets != 0 {
		t.Fatalf("PEERNet row read as %+v", r)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "metrics: data.csv is empty (no header line)"},
		{"no iteration", "sensing,upload\n1,2\n", `metrics: data.csv header has no "iteration" column: "sensing,upload"`},
		{"duplicate", "iteration,upload,upload\n", `metrics: data.csv header names column "upload" twice`},
		{"bad seconds", "iteration,upload\n0,0.1\n1,abc\n", `metrics: data.csv line 3, column upload: invalid seconds "abc"`},
		{"bad status", "iteration,status\n0,fine\n", `metrics: data.csv line 2, column status: metrics: unknown status "fine"`},
		{"bad bytes", "iteration,upload-bytes\n0,-5\n", `metrics: data.csv line 2, column upload-bytes: negative byte count -5`},
		{"bad packets", "iteration,download-packets\n0,-1\n", `metrics: data.csv line 2, column download-packets: negative packet count -1`},
		{"fractional packets", "iteration,upload-packets\n0,1.5\n", `metrics: data.csv line 2, column upload-packets: invalid packet count "1.5"`},
		{"bad iteration", "iteration,upload\nx,1\n", `metrics: data.csv line 2, column iteration: invalid number "x": invalid syntax`},
		{"empty iteration", "iteration,upload\n,1\n", `metrics: data.csv line 2, column iteration: empty`},
		{"short row", "iteration,upload\n0\n", `metrics: data.csv line 2: wrong number of fields`},
		{"huge", "iteration,upload\n0,1e300\n", `metrics: data.csv line 2, column upload: seconds "1e300" out of range`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first error
			for _, err := range metrics.ReadCSV(strings.NewReader(tc.in)) {
				if err != nil {
					first = err
					break
				}
			}
			if first == nil || first.Error() != tc.want {
				t.Fatalf("got error %v\nwant %s", first, tc.want)
			}
		})
	}
}

func TestReadCSVContinuesPastBadRow(t *testing.T) {
	in := "iteration,upload\n0,0.1\n1,abc\n2,0.3\n3,0.4,extra\n4,0.5"
	var iters []int
	var bad []int
	for rec, err := range metrics.ReadCSV(strings.NewReader(in)) {
		var ce *metrics.CSVError
		switch {
		case errors.As(err, &ce):
			bad = append(bad, ce.Line)
		case err != nil:
			t.Fatal(err)
		default:
			iters = append(iters, rec.Iteration)
		}
	}
	if len(iters) != 3 || iters[2] != 4 || len(bad) != 2 || bad[0] != 3 || bad[1] != 5 {
		t.Fatalf("good %v, bad lines %v", iters, bad)
	}
}

// oldCSVHeader is data.csv's header before the packet columns.
const oldCSVHeader = "iteration,sensing,upload,inference,download,upload-bytes,download-bytes," +
	"upload-throughput,download-throughput,preprocessing,postprocessing,queue,server,rtt," +
	"clock-offset,clock-error,lag,header-age,topic,status,warmup\n"

func TestReadCSVWithoutPacketColumns(t *testing.T) {
	ok := okRecord(0)
	ok.UploadPackets, ok.DownloadPackets = 45, 1
	row := metrics.AppendCSV(nil, &ok)
	// The same row in a file written before the packet columns existed.
	old := oldCSVHeader + strings.TrimSuffix(string(row), ",45,1,\n") + "\n"
	if old == oldCSVHeader+string(row) {
		t.Fatalf("row %q does not end with its packet counts", row)
	}
	n := 0
	for rec, err := range metrics.ReadCSV(strings.NewReader(old)) {
		if err != nil {
			t.Fatal(err)
		}
		want := ok
		want.UploadPackets, want.DownloadPackets = 0, 0
		if csvView(*rec) != csvView(want) {
			t.Fatalf("old row:\n got %+v\nwant %+v", toView(*rec), csvView(want))
		}
		n++
	}
	if n != 1 {
		t.Fatalf("read %d records, want 1", n)
	}
}

func TestAppendAllocs(t *testing.T) {
	r := okRecord(0)
	r.Topic, r.HasHeaderAge, r.HeaderAge = "/cam,front", true, time.Millisecond
	r.UploadPackets, r.DownloadPackets = 45, 1
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = metrics.AppendCSV(buf[:0], &r) }); n != 0 {
		t.Errorf("AppendCSV: %v allocs per row, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = metrics.AppendJSON(buf[:0], &r) }); n != 0 {
		t.Errorf("AppendJSON: %v allocs per record, want 0", n)
	}
}

func TestCSVReaderEOF(t *testing.T) {
	cr, err := metrics.NewCSVReader(strings.NewReader(csvHeader))
	if err != nil {
		t.Fatal(err)
	}
	var r metrics.Record
	if err := cr.Read(&r); !errors.Is(err, io.EOF) {
		t.Fatalf("Read on a header-only file: %v", err)
	}
}

// FuzzReadCSV checks that any input reads without panicking and that every
// record read re-encodes to a row that reads back the same.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(csvHeader + "0,0.000012345,0.001000000,0.002000000,0.000500000,1024,100,8192000,1600000," +
		"0.000010000,0.000007000,0.000003000,0.002100000,0.003600000,-0.250000000,0.000040000,0.000000000,,,ok,false,0,0\n"))
	f.Add([]byte(csvHeader + "1,0.000001000,,,,1024,,,,,,,,,0.001000000,0.000002000,0.003000000,,,lost,false,1,\n"))
	f.Add([]byte(csvHeader + "2,0.000001000,0.001,0,0,65000,40,,,,,,,,0,0,0,,,ok,false,45,1\n"))
	f.Add([]byte(oldCSVHeader + "1,0.000001000,,,,1024,,,,,,,,,0.001000000,0.000002000,0.003000000,,,lost,false\n"))
	f.Add([]byte("iteration,upload,status\n0,1e-3,error\n1,\"2\",ok\n"))
	f.Add([]byte("iteration,topic\n0,\"a,\"\"b\"\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for rec, err := range metrics.ReadCSV(bytes.NewReader(in)) {
			if err != nil {
				continue
			}
			row := metrics.AppendCSV([]byte(csvHeader), rec)
			n := 0
			for back, err := range metrics.ReadCSV(bytes.NewReader(row)) {
				if err != nil {
					t.Fatalf("re-encoded row does not read: %v\n%s", err, row)
				}
				if csvView(*back) != csvView(*rec) {
					t.Fatalf("re-encoded row reads differently:\n got %+v\nwant %+v", *back, *rec)
				}
				n++
			}
			if n != 1 {
				t.Fatalf("re-encoded row read as %d records", n)
			}
		}
	})
}
