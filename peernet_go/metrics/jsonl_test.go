package metrics_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

func TestAppendJSON(t *testing.T) {
	ok := okRecord(0)
	ok.Output, ok.OutputEncoding = []byte("{\n  \"label\": \"cat\"\n}"), "json"
	got := string(metrics.AppendJSON(nil, &ok))
	want := `{"iteration":0,"sensing":0.000012345,"upload":0.001000000,"inference":0.002000000,` +
		`"download":0.000500000,"upload-bytes":1024,"download-bytes":100,"upload-throughput":8192000,` +
		`"download-throughput":1600000,"preprocessing":0.000010000,"postprocessing":0.000007000,` +
		`"queue":0.000003000,"server":0.002100000,"rtt":0.003600000,"clock-offset":-0.250000000,` +
		`"clock-error":0.000040000,"lag":0.000000000,"header-age":null,"status":"ok","warmup":false,` +
		`"upload-packets":0,"download-packets":0,` +
		`"t0":1700000000000000000,"t1":1700000000001000000,"t2":1700000000003100000,"t3":1700000000003600000,` +
		`"output-encoding":"json","output":{"label":"cat"}}`
	if got != want {
		t.Fatalf("AppendJSON:\n%s\nwant:\n%s", got, want)
	}

	lost := metrics.Record{Iteration: 3, Status: metrics.Lost, Err: "no reply\twithin \"5s\"", UploadBytes: 10,
		UploadPackets: 7, DownloadPackets: 1}
	got = string(metrics.AppendJSON(nil, &lost))
	for _, part := range []string{`"upload":null`, `"rtt":null`, `"download-bytes":null`, `"upload-throughput":null`,
		`"upload-packets":7`, `"download-packets":null`, `"status":"lost"`, `"error":"no reply\twithin \"5s\""`} {
		if !strings.Contains(got, part) {
			t.Errorf("lost record %s lacks %s", got, part)
		}
	}
	if strings.Contains(got, "output") {
		t.Errorf("record without output has one: %s", got)
	}

	for _, tc := range []struct {
		enc, out, want string
	}{
		{"text", "hello\n", `"output":"hello\n"}`},
		{"json", "{broken", `"output":"e2Jyb2tlbg==","output-base64":true}`},
		{"bytes", "\x00\xff", `"output":"AP8=","output-base64":true}`},
		{"text", "\xff", `"output":"/w==","output-base64":true}`},
	} {
		r := metrics.Record{Output: []byte(tc.out), OutputEncoding: tc.enc}
		if got := string(metrics.AppendJSON(nil, &r)); !strings.HasSuffix(got, tc.want) {
			t.Errorf("%s output %q: %s, want suffix %s", tc.enc, tc.out, got, tc.want)
		}
	}
}

func TestJSONRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRecord(t)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) || bytes.ContainsAny(b, "\n") {
			t.Fatalf("not one line of JSON: %s", b)
		}
		var back metrics.Record
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		want := jsonView(r)
		if toView(back) != want {
			t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", toView(back), want, b)
		}
		if r.Output != nil {
			wantOut := r.Output
			if r.OutputEncoding == "json" && json.Valid(r.Output) {
				var c bytes.Buffer
				_ = json.Compact(&c, r.Output)
				wantOut = c.Bytes()
			}
			if !bytes.Equal(back.Output, wantOut) || back.OutputEncoding != r.OutputEncoding {
				t.Fatalf("output %q (%s) came back as %q (%s)", r.Output, r.OutputEncoding, back.Output, back.OutputEncoding)
			}
		}
	})
}

// jsonView is what of r survives records.jsonl: everything but the reply
// fields of an iteration without a reply; invalid UTF-8 in text becomes
// U+FFFD.
func jsonView(r metrics.Record) view {
	v := csvView(r)
	v.T0, v.T1, v.T2, v.T3, v.LogTime = r.T0, r.T1, r.T2, r.T3, r.LogTime
	v.Err, v.Topic = strings.ToValidUTF8(r.Err, "\uFFFD"), strings.ToValidUTF8(r.Topic, "\uFFFD")
	return v
}

func TestJSONLWriterAndReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.jsonl")
	w, err := metrics.CreateJSONL(path)
	if err != nil {
		t.Fatal(err)
	}
	udp := okRecord(2)
	udp.UploadPackets, udp.DownloadPackets = 45, 1
	recs := []metrics.Record{okRecord(0), {Iteration: 1, Status: metrics.Lost, Sensing: time.Millisecond, UploadPackets: 3}, udp}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw, []byte("\n")); n != 3 {
		t.Fatalf("%d lines, want 3", n)
	}
	raw = append(raw, "\n{\"iteration\": -1}\n"...)
	var got []metrics.Record
	var errs []string
	for rec, err := range metrics.ReadJSONL(bytes.NewReader(raw)) {
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		got = append(got, *rec)
	}
	if len(got) != len(recs) {
		t.Fatalf("read back %d records, want %d", len(got), len(recs))
	}
	for i := range recs {
		if toView(got[i]) != toView(recs[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, toView(got[i]), toView(recs[i]))
		}
	}
	if len(errs) != 1 || errs[0] != `records.jsonl line 5: metrics: record: missing or negative "iteration"` {
		t.Fatalf("errors %q", errs)
	}
}

func TestRecordJSONPackets(t *testing.T) {
	var r metrics.Record
	// Lines written before the packet fields existed read as zero packets.
	if err := json.Unmarshal([]byte(`{"iteration":0,"status":"ok","upload-bytes":5}`), &r); err != nil ||
		r.UploadPackets != 0 || r.DownloadPackets != 0 || r.UploadBytes != 5 {
		t.Fatalf("line without packets: %+v, %v", r, err)
	}
	if err := json.Unmarshal([]byte(`{"iteration":0,"status":"ok","upload-packets":45,"download-packets":1}`), &r); err != nil ||
		r.UploadPackets != 45 || r.DownloadPackets != 1 {
		t.Fatalf("line with packets: %+v, %v", r, err)
	}
	err := json.Unmarshal([]byte(`{"iteration":0,"status":"ok","download-packets":-1}`), &r)
	if want := `metrics: record "download-packets": negative packet count -1`; err == nil || err.Error() != want {
		t.Fatalf("negative packets: %v, want %s", err, want)
	}
}

// FuzzRecordJSON checks that any line decodes without panicking and that a
// decoded record re-encodes to JSON that decodes the same.
func FuzzRecordJSON(f *testing.F) {
	ok := okRecord(0)
	ok.Output, ok.OutputEncoding = []byte(`{"a":1}`), "json"
	f.Add(metrics.AppendJSON(nil, &ok))
	lost := metrics.Record{Iteration: 1, Status: metrics.Lost, Err: "x", Output: []byte{0, 1}, OutputEncoding: "bytes"}
	f.Add(metrics.AppendJSON(nil, &lost))
	f.Add([]byte(`{"iteration":1,"status":"error","upload":"1e-3","output":"hi","output-encoding":"text"}`))
	f.Add([]byte(`{"iteration":2,"status":"ok","header-age":-0.5,"topic":"/a\u2028"}`))
	f.Add([]byte(`{"iteration":3,"status":"lost","upload-packets":45,"download-packets":null}`))
	f.Add([]byte(`{"iteration":4,"status":"ok","upload-packets":2,"download-packets":-1}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r metrics.Record
		if err := json.Unmarshal(in, &r); err != nil {
			return
		}
		b := metrics.AppendJSON(nil, &r)
		var back metrics.Record
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-encoded record does not decode: %v\n%s", err, b)
		}
		if jsonView(back) != jsonView(r) || !bytes.Equal(back.Output, r.Output) {
			t.Fatalf("re-encoded record decodes differently:\n got %+v\nwant %+v", back, r)
		}
	})
}
