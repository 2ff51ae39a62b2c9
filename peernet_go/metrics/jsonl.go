package metrics

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/peernet/peernet_go/peernet_go/internal/jsontext"
)

// AppendJSON appends r as one JSON object, without a newline. It has the
// columns of the record schema under the same names and in the same order
// as data.csv (seconds, bytes, packets and bit/s as numbers; cells a lost or
// failed iteration cannot know, a throughput whose delay is not positive,
// and a header-age that is not known are null; an empty topic and an unset
// latency-from-schedule are left out), then "t0" to "t3" (Unix ns
// integers), "log-time" when set, "error" when set and, when r.Output is
// not nil, "output-encoding" and "output": the reply embedded as JSON when
// its encoding is "json", as a string when "text", and otherwise (or when
// it is not valid JSON or UTF-8) as a base64 string with "output-base64":
// true.
func AppendJSON(b []byte, r *Record) []byte {
	b = append(b, '{')
	for i := range columns {
		c := &columns[i]
		known := c.isKnown(r)
		if !known && c.omit {
			continue
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, c.name...)
		b = append(b, '"', ':')
		switch {
		case known && c.kind == kindText:
			b = jsontext.AppendString(b, *c.text(r))
		case known && c.kind == kindStatus:
			b = append(b, '"')
			b = append(b, r.Status.String()...)
			b = append(b, '"')
		default:
			var ok bool
			if b, ok = c.appendValue(b, r); !ok {
				b = append(b, "null"...)
			}
		}
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
		b = jsontext.AppendString(b, r.Err)
	}
	if r.Output != nil {
		b = append(b, `,"output-encoding":`...)
		b = jsontext.AppendString(b, r.OutputEncoding)
		b = append(b, `,"output":`...)
		b = appendJSONOutput(b, r.Output, r.OutputEncoding)
	}
	return append(b, '}')
}

func appendJSONOutput(b, out []byte, enc string) []byte {
	switch {
	case enc == "json" && json.Valid(out):
		var buf bytes.Buffer
		if json.Compact(&buf, out) == nil {
			return append(b, buf.Bytes()...)
		}
	case enc == "text" && utf8.Valid(out):
		return jsontext.AppendString(b, string(out))
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, out)
	return append(b, `","output-base64":true`...)
}

// MarshalJSON encodes r as AppendJSON does.
func (r Record) MarshalJSON() ([]byte, error) { return AppendJSON(nil, &r), nil }

// UnmarshalJSON decodes an object written by AppendJSON (see
// DecodeRecordJSON).
func (r *Record) UnmarshalJSON(b []byte) error { return decodeRecordJSON(b, r) }

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
	j.init(w, RecordsJSONL)
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
