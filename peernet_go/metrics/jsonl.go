package metrics

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as one JSON object, without a newline. It has the
// data.csv columns under the same names and in the same order (seconds,
// bytes, packets and bit/s as numbers; cells a lost or failed iteration
// cannot know, a throughput whose delay is not positive, and a header-age
// that is not known are null; an empty topic is left out), then "t0" to
// "t3" (Unix ns integers), "log-time" when set, "error" when set and, when
// r.Output is not nil, "output-encoding" and "output": the reply embedded as
// JSON when its encoding is "json", as a string when "text", and otherwise
// (or when it is not valid JSON or UTF-8) as a base64 string with
// "output-base64": true.
func AppendJSON(b []byte, r *Record) []byte {
	replied := r.Replied()
	b = append(b, `{"iteration":`...)
	b = strconv.AppendInt(b, int64(r.Iteration), 10)
	b = appendJSONSeconds(b, "sensing", r.Sensing, true)
	b = appendJSONSeconds(b, "upload", r.Upload, replied)
	b = appendJSONSeconds(b, "inference", r.Inference, replied)
	b = appendJSONSeconds(b, "download", r.Download, replied)
	b = append(b, `,"upload-bytes":`...)
	b = strconv.AppendInt(b, r.UploadBytes, 10)
	b = append(b, `,"download-bytes":`...)
	if replied {
		b = strconv.AppendInt(b, r.DownloadBytes, 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"upload-throughput":`...)
	b = appendJSONThroughput(b, r.UploadBytes, r.Upload, replied)
	b = append(b, `,"download-throughput":`...)
	b = appendJSONThroughput(b, r.DownloadBytes, r.Download, replied)
	b = appendJSONSeconds(b, "preprocessing", r.Preprocess, replied)
	b = appendJSONSeconds(b, "postprocessing", r.Postprocess, replied)
	b = appendJSONSeconds(b, "queue", r.Queue, replied)
	b = appendJSONSeconds(b, "server", r.Server, replied)
	b = appendJSONSeconds(b, "rtt", r.RTT, replied)
	b = appendJSONSeconds(b, "clock-offset", r.ClockOffset, true)
	b = appendJSONSeconds(b, "clock-error", r.ClockError, true)
	b = appendJSONSeconds(b, "lag", r.Lag, true)
	b = appendJSONSeconds(b, "header-age", r.HeaderAge, r.HasHeaderAge)
	if r.Topic != "" {
		b = append(b, `,"topic":`...)
		b = appendJSONString(b, r.Topic)
	}
	b = append(b, `,"status":"`...)
	b = append(b, r.Status.String()...)
	b = append(b, `","warmup":`...)
	b = strconv.AppendBool(b, r.Warmup)
	b = append(b, `,"upload-packets":`...)
	b = strconv.AppendInt(b, r.UploadPackets, 10)
	b = append(b, `,"download-packets":`...)
	if replied {
		b = strconv.AppendInt(b, r.DownloadPackets, 10)
	} else {
		b = append(b, "null"...)
	}
	for i, t := range [4]int64{r.T0, r.T1, r.T2, r.T3} {
		b = append(b, `,"t`...)
		b = append(b, byte('0'+i), '"', ':')
		b = strconv.AppendInt(b, t, 10)
	}
	if r.LogTime != 0 {
		b = append(b, `,"log-time":`...)
		b = strconv.AppendInt(b, r.LogTime, 10)
	}
	if r.Err != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, r.Err)
	}
	if r.Output != nil {
		b = append(b, `,"output-encoding":`...)
		b = appendJSONString(b, r.OutputEncoding)
		b = append(b, `,"output":`...)
		b = appendJSONOutput(b, r.Output, r.OutputEncoding)
	}
	return append(b, '}')
}

func appendJSONSeconds(b []byte, name string, d time.Duration, known bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	if !known {
		return append(b, "null"...)
	}
	return appendSeconds(b, d)
}

func appendJSONThroughput(b []byte, n int64, d time.Duration, known bool) []byte {
	if !known || d <= 0 {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, Throughput(n, d), 'f', -1, 64)
}

func appendJSONOutput(b, out []byte, enc string) []byte {
	switch {
	case enc == "json" && json.Valid(out):
		var buf bytes.Buffer
		if json.Compact(&buf, out) == nil {
			return append(b, buf.Bytes()...)
		}
	case enc == "text" && utf8.Valid(out):
		return appendJSONString(b, string(out))
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, out)
	return append(b, `","output-base64":true`...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// MarshalJSON encodes r as AppendJSON does.
func (r Record) MarshalJSON() ([]byte, error) { return AppendJSON(nil, &r), nil }

// jsonRecord is the decoding form of AppendJSON's object. Seconds stay
// json.Number so that they parse exactly.
type jsonRecord struct {
	Iteration          *int64          `json:"iteration"`
	Sensing            json.Number     `json:"sensing"`
	Upload             json.Number     `json:"upload"`
	Inference          json.Number     `json:"inference"`
	Download           json.Number     `json:"download"`
	UploadBytes        *int64          `json:"upload-bytes"`
	DownloadBytes      *int64          `json:"download-bytes"`
	UploadThroughput   *float64        `json:"upload-throughput"`
	DownloadThroughput *float64        `json:"download-throughput"`
	Preprocessing      json.Number     `json:"preprocessing"`
	Postprocessing     json.Number     `json:"postprocessing"`
	Queue              json.Number     `json:"queue"`
	Server             json.Number     `json:"server"`
	RTT                json.Number     `json:"rtt"`
	ClockOffset        json.Number     `json:"clock-offset"`
	ClockError         json.Number     `json:"clock-error"`
	Lag                json.Number     `json:"lag"`
	HeaderAge          json.Number     `json:"header-age"`
	Topic              string          `json:"topic"`
	Status             *Status         `json:"status"`
	Warmup             bool            `json:"warmup"`
	UploadPackets      *int64          `json:"upload-packets"`
	DownloadPackets    *int64          `json:"download-packets"`
	T0                 int64           `json:"t0"`
	T1                 int64           `json:"t1"`
	T2                 int64           `json:"t2"`
	T3                 int64           `json:"t3"`
	LogTime            int64           `json:"log-time"`
	Err                string          `json:"error"`
	OutputEncoding     string          `json:"output-encoding"`
	Output             json.RawMessage `json:"output"`
	OutputBase64       bool            `json:"output-base64"`
}

// UnmarshalJSON decodes an object written by AppendJSON. "iteration" and
// "status" are required; other missing or null fields stay zero.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j jsonRecord
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("metrics: record: %w", err)
	}
	if j.Iteration == nil || *j.Iteration < 0 {
		return errors.New(`metrics: record: missing or negative "iteration"`)
	}
	if j.Status == nil {
		return errors.New(`metrics: record: missing "status"`)
	}
	out := Record{
		Iteration: int(*j.Iteration), Status: *j.Status, Warmup: j.Warmup, Err: j.Err,
		Topic: j.Topic, T0: j.T0, T1: j.T1, T2: j.T2, T3: j.T3, LogTime: j.LogTime,
	}
	for _, f := range []struct {
		name string
		num  json.Number
		dst  *time.Duration
	}{
		{"sensing", j.Sensing, &out.Sensing}, {"upload", j.Upload, &out.Upload},
		{"inference", j.Inference, &out.Inference}, {"download", j.Download, &out.Download},
		{"preprocessing", j.Preprocessing, &out.Preprocess}, {"postprocessing", j.Postprocessing, &out.Postprocess},
		{"queue", j.Queue, &out.Queue}, {"server", j.Server, &out.Server}, {"rtt", j.RTT, &out.RTT},
		{"clock-offset", j.ClockOffset, &out.ClockOffset}, {"clock-error", j.ClockError, &out.ClockError},
		{"lag", j.Lag, &out.Lag}, {"header-age", j.HeaderAge, &out.HeaderAge},
	} {
		if f.num == "" {
			continue
		}
		d, err := parseSeconds(string(f.num))
		if err != nil {
			return fmt.Errorf("metrics: record %q: %w", f.name, err)
		}
		*f.dst = d
	}
	out.HasHeaderAge = j.HeaderAge != ""
	for _, f := range []struct {
		name, what string
		src        *int64
		dst        *int64
	}{
		{"upload-bytes", "byte", j.UploadBytes, &out.UploadBytes},
		{"download-bytes", "byte", j.DownloadBytes, &out.DownloadBytes},
		{"upload-packets", "packet", j.UploadPackets, &out.UploadPackets},
		{"download-packets", "packet", j.DownloadPackets, &out.DownloadPackets},
	} {
		if f.src != nil {
			if *f.src < 0 {
				return fmt.Errorf("metrics: record %q: negative %s count %d", f.name, f.what, *f.src)
			}
			*f.dst = *f.src
		}
	}
	if len(j.Output) > 0 && string(j.Output) != "null" {
		out.OutputEncoding = j.OutputEncoding
		switch {
		case j.OutputBase64:
			var s string
			if err := json.Unmarshal(j.Output, &s); err != nil {
				return fmt.Errorf(`metrics: record "output": %w`, err)
			}
			o, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf(`metrics: record "output": %w`, err)
			}
			out.Output = o
		case j.OutputEncoding == "json":
			var c bytes.Buffer
			if err := json.Compact(&c, j.Output); err != nil {
				return fmt.Errorf(`metrics: record "output": %w`, err)
			}
			out.Output = c.Bytes()
		default:
			var s string
			if err := json.Unmarshal(j.Output, &s); err != nil {
				return fmt.Errorf(`metrics: record "output": %w`, err)
			}
			out.Output = []byte(s)
		}
	}
	*r = out
	return nil
}

// JSONLWriter is the Sink that writes records.jsonl: one AppendJSON object a
// line. It buffers and flushes as CSVWriter does, and is safe for concurrent
// use.
type JSONLWriter struct {
	bufferedFile
}

var (
	_ Sink    = (*JSONLWriter)(nil)
	_ Flusher = (*JSONLWriter)(nil)
)

// NewJSONLWriter returns a JSONLWriter on w. Close flushes but does not
// close w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	j := &JSONLWriter{}
	j.init(w, "records.jsonl")
	return j
}

// CreateJSONL creates (or truncates) the file at path and returns a
// JSONLWriter that owns it: Close syncs and closes the file.
func CreateJSONL(path string) (*JSONLWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("metrics: creating %w", err)
	}
	j := NewJSONLWriter(f)
	j.file, j.name = f, path
	return j, nil
}

// Write appends r's line.
func (j *JSONLWriter) Write(r *Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.line = append(AppendJSON(j.line[:0], r), '\n')
	return j.writeLine()
}

// MaxJSONLLine is the longest records.jsonl line ReadJSONL accepts: 64 MiB.
const MaxJSONLLine = 64 << 20

// ReadJSONL iterates over the records of a records.jsonl stream; blank lines
// are skipped. A bad line yields an error naming its line number and, if the
// loop goes on, reading continues; a line longer than MaxJSONLLine or a
// failing reader yields an error and stops. The yielded record is reused.
func ReadJSONL(r io.Reader) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), MaxJSONLLine)
		var rec Record
		for n := 1; sc.Scan(); n++ {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			if err := rec.UnmarshalJSON(line); err != nil {
				if !yield(nil, fmt.Errorf("records.jsonl line %d: %w", n, err)) {
					return
				}
				continue
			}
			if !yield(&rec, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(nil, fmt.Errorf("metrics: reading records.jsonl: %w", err))
		}
	}
}
