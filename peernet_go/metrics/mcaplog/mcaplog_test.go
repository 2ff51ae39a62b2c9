package mcaplog_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/foxglove/mcap/go/mcap"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/mcaplog"
)

// testRecords returns n records of every kind: replied, lost, missed, from
// a replayed topic, with a reply recorded.
func testRecords(n int) []metrics.Record {
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC).UnixNano()
	out := make([]metrics.Record, n)
	for i := range out {
		t0 := base + int64(i)*int64(10*time.Millisecond)
		r := metrics.Record{Iteration: i, Status: metrics.OK, Sensing: 40 * time.Microsecond,
			Upload: time.Duration(50+i%7) * time.Microsecond, Inference: 2 * time.Millisecond, Server: 2100 * time.Microsecond,
			Download: 45 * time.Microsecond, UploadBytes: 1100, DownloadBytes: 90, ClockError: 12 * time.Microsecond,
			T0: t0, T1: t0 + 50_000, T2: t0 + 2_150_000, T3: t0 + 2_200_000}
		r.RTT = r.Upload + r.Server + r.Download
		switch i % 10 {
		case 3:
			r = metrics.Record{Iteration: i, Status: metrics.Lost, Err: "no reply within 1s", T0: t0, UploadBytes: 1100}
		case 7:
			r = metrics.Record{Iteration: i, Status: metrics.Missed, LatencyFromSchedule: 30 * time.Millisecond}
		case 5:
			r.Topic, r.LogTime, r.HeaderAge, r.HasHeaderAge = "/camera/image_raw", base-int64(time.Hour)+int64(i), 3*time.Millisecond, true
			r.Output, r.OutputEncoding = []byte(`{"faces":1}`), "json"
		}
		out[i] = r
	}
	return out
}

func writeFile(t *testing.T, path string, recs []metrics.Record, flushEvery int) *mcaplog.Writer {
	t.Helper()
	w, err := mcaplog.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
		if flushEvery > 0 && (i+1)%flushEvery == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// TestWriteAndRead writes a file with metadata and reads it back with this
// package and with the mcap library's indexed reader: every message is
// there, in order, validates against the channel's JSON Schema and decodes
// to the record written; the metadata and the chunks are as written.
func TestWriteAndRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, mcaplog.File)
	recs := testRecords(2500)
	w := writeFile(t, path, recs, 500)
	meta := []mcaplog.Metadata{{Name: mcaplog.MetadataSummary, Values: map[string]string{"iterations.ok": "2000"}}}
	if err := w.Finish(meta...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("a second close: %v", err)
	}

	schema := compileSchema(t, metrics.JSONSchema())
	i := 0
	info, err := mcaplog.ReadFile(context.Background(), path, func(r *metrics.Record, logTime int64) error {
		want := recs[r.Iteration]
		if got, exp := metrics.AppendJSON(nil, r), metrics.AppendJSON(nil, &want); !bytes.Equal(got, exp) {
			t.Fatalf("message %d reads back as\n%s\nwant\n%s", i, got, exp)
		}
		if want.T3 > 0 && logTime != want.T3 || want.T3 == 0 && want.T0 > 0 && logTime != want.T0 {
			t.Fatalf("message %d: log time %d, want the receive (or send) time of %+v", i, logTime, want)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Complete || info.Messages != len(recs) || i != len(recs) {
		t.Fatalf("read %d messages (info %+v), want %d and a complete file", i, info, len(recs))
	}
	if info.Metadata[mcaplog.MetadataSummary]["iterations.ok"] != "2000" {
		t.Fatalf("schema or metadata lost: %v", info.Metadata)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := mcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := rd.Info()
	if err != nil {
		t.Fatal(err)
	}
	if mi.Statistics.MessageCount != uint64(len(recs)) || mi.Header.Profile != mcaplog.Profile {
		t.Fatalf("statistics %+v, header %+v", mi.Statistics, mi.Header)
	}
	if n := len(mi.ChunkIndexes); n < 5 {
		t.Errorf("%d chunks for five flushes", n)
	}
	for _, ci := range mi.ChunkIndexes {
		if ci.Compression != mcap.CompressionZSTD {
			t.Errorf("chunk compression %q", ci.Compression)
		}
	}
	if len(mi.MetadataIndexes) != 1 || mi.MetadataIndexes[0].Name != mcaplog.MetadataSummary {
		t.Fatalf("metadata indexes %+v", mi.MetadataIndexes)
	}
	it, err := rd.Messages(mcap.UsingIndex(true), mcap.InOrder(mcap.FileOrder))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		sch, ch, m, err := it.NextInto(nil)
		if err != nil {
			break
		}
		if ch.Topic != mcaplog.Topic || ch.MessageEncoding != "json" || sch.Encoding != "jsonschema" || !bytes.Equal(sch.Data, metrics.JSONSchema()) {
			t.Fatalf("channel %+v, schema %s", ch, sch.Encoding)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Fatalf("message %d does not validate: %v\n%s", n, err, m.Data)
		}
		if want := recs[m.Sequence]; want.LogTime != 0 && m.PublishTime != uint64(want.LogTime) {
			t.Fatalf("message %d: publish time %d, want the recording's %d", n, m.PublishTime, want.LogTime)
		}
		n++
	}
	if n != len(recs) {
		t.Fatalf("indexed reader: %d messages, want %d", n, len(recs))
	}
}

func compileSchema(t *testing.T, b []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("record.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("record.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchemaRejects makes sure validation can fail: a message with a field
// the schema does not know, or a status it does not list, is refused.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t, metrics.JSONSchema())
	r := testRecords(1)[0]
	good := string(metrics.AppendJSON(nil, &r))
	for _, bad := range []string{
		good[:len(good)-1] + `,"extra":1}`,
		string(bytes.Replace([]byte(good), []byte(`"status":"ok"`), []byte(`"status":"fine"`), 1)),
		string(bytes.Replace([]byte(good), []byte(`"iteration":0`), []byte(`"iteration":-1`), 1)),
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(bad)))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(doc) == nil {
			t.Errorf("validates: %s", bad)
		}
	}
}

// TestKilledWriter reads a file whose writer never closed, as kill -9
// leaves it: every message up to the last flush is there.
func TestKilledWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), mcaplog.File)
	recs := testRecords(1000)
	w := writeFile(t, path, recs[:700], 350) // flushed at 350 and 700
	for i := 700; i < 1000; i++ {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path) // the file as the killed process left it
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	killed := filepath.Join(t.TempDir(), "killed.mcap")
	count := func(b []byte) (int, mcaplog.Info, error) {
		if err := os.WriteFile(killed, b, 0o644); err != nil {
			t.Fatal(err)
		}
		n := 0
		info, err := mcaplog.ReadFile(context.Background(), killed, func(*metrics.Record, int64) error { n++; return nil })
		return n, info, err
	}
	n, info, err := count(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.Complete || n != 700 {
		t.Fatalf("read %d messages, complete %v; want the 700 flushed, incomplete", n, info.Complete)
	}
	// Cut after the first flush, the file still reads without an error.
	for cut := len(b) - 1; cut > len(b)/2; cut -= len(b) / 37 {
		if n, _, err := count(b[:cut]); err != nil || n < 350 {
			t.Fatalf("cut at %d of %d: %d messages, %v", cut, len(b), n, err)
		}
	}
}
