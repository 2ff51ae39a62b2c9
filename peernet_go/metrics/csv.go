package metrics

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
)

// Replied reports whether the record's reply arrived, so that its reply-side
// fields (upload, server stages, download, rtt, download bytes and packets)
// are known: true for OK records and for error replies from the server (T3
// set, or an RTT read back from data.csv).
func (r *Record) Replied() bool { return r.Status == OK || r.T3 != 0 || r.RTT != 0 }

// AppendCSV appends r as one data.csv row, newline included, in the columns
// of the record schema (see Columns). Durations are seconds with nine
// decimals (exact to the nanosecond), bytes and packets integers (packets
// are 0 on transports that do not count them) and throughputs bit/s; cells
// a lost or failed iteration cannot know are empty (see Replied), as are a
// throughput whose delay is not positive, header-age unless HasHeaderAge,
// latency-from-schedule unless set, and an empty topic.
func AppendCSV(b []byte, r *Record) []byte {
	for i := range columns {
		if i > 0 {
			b = append(b, ',')
		}
		c := &columns[i]
		if c.kind == kindText {
			if c.isKnown(r) {
				b = appendCSVField(b, *c.text(r))
			}
			continue
		}
		b, _ = c.appendValue(b, r)
	}
	return append(b, '\n')
}

// appendCSVField appends s, quoted as RFC 4180 requires when it holds a
// comma, a quote or leading space. Line breaks become spaces: CSV readers
// do not keep them reliably (a quoted "\r\n" reads as "\n").
func appendCSVField(b []byte, s string) []byte {
	if s == "" || (!strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t') {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b = append(b, '"', '"')
		case '\r', '\n':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// CSVWriter is the Sink that writes data.csv: a header line, then one row per
// record (see AppendCSV). It buffers, flushes on a Write that comes more than
// FlushInterval after the last flush and on Flush, and flushes (and syncs a
// file it created) on Close. It is safe for concurrent use.
type CSVWriter struct {
	bufferedFile
}

var (
	_ Sink    = (*CSVWriter)(nil)
	_ Flusher = (*CSVWriter)(nil)
)

// NewCSVWriter returns a CSVWriter on w and buffers the header line. Close
// flushes but does not close w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	c := &CSVWriter{}
	c.init(w, DataCSV)
	c.bw.WriteString(strings.Join(Columns(), ","))
	c.bw.WriteByte('\n')
	return c
}

// CreateCSV creates (or truncates) the file at path and returns a CSVWriter
// that owns it: Close syncs and closes the file.
func CreateCSV(path string) (*CSVWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("metrics: creating %w", err)
	}
	c := NewCSVWriter(f)
	c.file, c.name = f, path
	return c, nil
}

// Write appends r's row.
func (c *CSVWriter) Write(r *Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.line = AppendCSV(c.line[:0], r)
	return c.writeLine()
}

// CSVError is a data.csv row that could not be read. Reading can go on past
// it.
type CSVError struct {
	// Line is the 1-based line number in the file.
	Line int
	// Column is the column name, or "" when the row as a whole is bad.
	Column string
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *CSVError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("metrics: data.csv line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("metrics: data.csv line %d, column %s: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the cause.
func (e *CSVError) Unwrap() error { return e.Err }

// CSVReader reads records back from data.csv. Columns may come in any order;
// unknown columns (such as PEERNet's upload-logger-bytes) are ignored, and
// missing ones leave their fields zero, so PEERNet's own data.csv reads too
// (every row then has status ok). Throughputs are derived, not read.
type CSVReader struct {
	r   *csv.Reader
	col [numColumns]int // field index of each known column, -1 if absent
}

// NewCSVReader reads the header line and returns a reader for the rows. The
// header must name each column at most once and include "iteration".
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("metrics: data.csv is empty (no header line)")
		}
		return nil, fmt.Errorf("metrics: reading data.csv header: %w", err)
	}
	c := &CSVReader{r: cr}
	for i := range c.col {
		c.col[i] = -1
	}
	seen := make(map[string]bool, len(head))
	for i, name := range head {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		if seen[name] {
			return nil, fmt.Errorf("metrics: data.csv header names column %q twice", name)
		}
		seen[name] = true
		if k := columnIndex(name); k >= 0 {
			c.col[k] = i
		}
	}
	if c.col[colIteration] < 0 {
		return nil, fmt.Errorf("metrics: data.csv header has no %q column: %q", "iteration", strings.Join(head, ","))
	}
	return c, nil
}

// Read reads the next row into rec, overwriting every field. It returns
// io.EOF after the last row, a *CSVError for a bad row (the next Read goes on
// with the following row), and other errors when the input fails.
func (c *CSVReader) Read(rec *Record) error {
	fields, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &CSVError{Line: pe.StartLine, Err: pe.Err}
		}
		return err
	}
	line, _ := c.r.FieldPos(0)
	*rec = Record{}
	for k, i := range c.col {
		if i < 0 || fields[i] == "" {
			continue
		}
		if err := columns[k].set(rec, fields[i]); err != nil {
			return &CSVError{Line: line, Column: columns[k].name, Err: err}
		}
	}
	if c.col[colIteration] >= 0 && fields[c.col[colIteration]] == "" {
		return &CSVError{Line: line, Column: "iteration", Err: errors.New("empty")}
	}
	return nil
}

// ReadCSV iterates over the records of a data.csv stream. A header problem or
// a failing reader yields one error and stops; a bad row yields its
// *CSVError and, if the loop goes on, reading continues with the next row.
// The yielded record is reused: copy it to keep it.
//
//	for rec, err := range metrics.ReadCSV(f) {
//		if err != nil { return err }
//		sum.Add(rec)
//	}
func ReadCSV(r io.Reader) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		cr, err := NewCSVReader(r)
		if err != nil {
			yield(nil, err)
			return
		}
		var rec Record
		for {
			err := cr.Read(&rec)
			switch {
			case errors.Is(err, io.EOF):
				return
			case err == nil:
				if !yield(&rec, nil) {
					return
				}
			default:
				var ce *CSVError
				if !yield(nil, err) || !errors.As(err, &ce) {
					return
				}
			}
		}
	}
}
