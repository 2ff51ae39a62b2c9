package metrics

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FlushInterval is the longest a buffered writer keeps records before a
// Write flushes them.
const FlushInterval = time.Second

// data.csv columns, in file order.
const (
	colIteration = iota
	colSensing
	colUpload
	colInference
	colDownload
	colUploadBytes
	colDownloadBytes
	colUploadThroughput
	colDownloadThroughput
	colPreprocessing
	colPostprocessing
	colQueue
	colServer
	colRTT
	colClockOffset
	colClockError
	colLag
	colHeaderAge
	colTopic
	colStatus
	colWarmup
	colUploadPackets
	colDownloadPackets
	numColumns
)

var csvColumns = [numColumns]string{
	"iteration", "sensing", "upload", "inference", "download",
	"upload-bytes", "download-bytes", "upload-throughput", "download-throughput",
	"preprocessing", "postprocessing", "queue", "server", "rtt",
	"clock-offset", "clock-error", "lag", "header-age", "topic", "status", "warmup",
	"upload-packets", "download-packets",
}

// CSVColumns returns data.csv's column names in file order. The first nine
// are PEERNet's (less its pickled "logger" sizes); columns added later come
// last, and the reader accepts files without them.
func CSVColumns() []string { return append([]string(nil), csvColumns[:]...) }

// Replied reports whether the record's reply arrived, so that its reply-side
// fields (upload, server stages, download, rtt, download bytes and packets)
// are known: true for OK records and for error replies from the server (T3
// set, or an RTT read back from data.csv).
func (r *Record) Replied() bool { return r.Status == OK || r.T3 != 0 || r.RTT != 0 }

// AppendCSV appends r as one data.csv row, newline included. Durations are
// seconds with nine decimals (exact to the nanosecond), bytes and packets
// integers (packets are 0 on transports that do not count them) and
// throughputs bit/s; cells a lost or failed iteration cannot know are empty
// (see Replied), as are a throughput whose delay is not positive, header-age
// unless HasHeaderAge, and an empty topic.
func AppendCSV(b []byte, r *Record) []byte {
	b = strconv.AppendInt(b, int64(r.Iteration), 10)
	b = append(b, ',')
	b = appendSeconds(b, r.Sensing)
	b = append(b, ',')
	replied := r.Replied()
	if replied {
		b = appendSeconds(b, r.Upload)
		b = append(b, ',')
		b = appendSeconds(b, r.Inference)
		b = append(b, ',')
		b = appendSeconds(b, r.Download)
	} else {
		b = append(b, ",,"...)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, r.UploadBytes, 10)
	b = append(b, ',')
	if replied {
		b = strconv.AppendInt(b, r.DownloadBytes, 10)
	}
	b = append(b, ',')
	if replied && r.Upload > 0 {
		b = strconv.AppendFloat(b, Throughput(r.UploadBytes, r.Upload), 'f', -1, 64)
	}
	b = append(b, ',')
	if replied && r.Download > 0 {
		b = strconv.AppendFloat(b, Throughput(r.DownloadBytes, r.Download), 'f', -1, 64)
	}
	b = append(b, ',')
	if replied {
		b = appendSeconds(b, r.Preprocess)
		b = append(b, ',')
		b = appendSeconds(b, r.Postprocess)
		b = append(b, ',')
		b = appendSeconds(b, r.Queue)
		b = append(b, ',')
		b = appendSeconds(b, r.Server)
		b = append(b, ',')
		b = appendSeconds(b, r.RTT)
	} else {
		b = append(b, ",,,,"...)
	}
	b = append(b, ',')
	b = appendSeconds(b, r.ClockOffset)
	b = append(b, ',')
	b = appendSeconds(b, r.ClockError)
	b = append(b, ',')
	b = appendSeconds(b, r.Lag)
	b = append(b, ',')
	if r.HasHeaderAge {
		b = appendSeconds(b, r.HeaderAge)
	}
	b = append(b, ',')
	b = appendCSVField(b, r.Topic)
	b = append(b, ',')
	b = append(b, r.Status.String()...)
	b = append(b, ',')
	b = strconv.AppendBool(b, r.Warmup)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.UploadPackets, 10)
	b = append(b, ',')
	if replied {
		b = strconv.AppendInt(b, r.DownloadPackets, 10)
	}
	return append(b, '\n')
}

// appendSeconds appends d in seconds with exactly nine decimals, computed
// with integers so that every nanosecond survives.
func appendSeconds(b []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1e9, 10)
	var frac [10]byte
	frac[0] = '.'
	f := u % 1e9
	for i := 9; i > 0; i-- {
		frac[i] = byte('0' + f%10)
		f /= 10
	}
	return append(b, frac[:]...)
}

// parseSeconds reads seconds written by appendSeconds exactly, and any other
// decimal or exponent form (PEERNet wrote Python floats) to the nearest
// nanosecond.
func parseSeconds(s string) (time.Duration, error) {
	if d, ok := parseExactSeconds(s); ok {
		return d, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid seconds %q", s)
	}
	ns := math.Round(f * 1e9)
	if ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, fmt.Errorf("seconds %q out of range", s)
	}
	return time.Duration(ns), nil
}

// parseExactSeconds parses [-]digits[.digits] with at most nine decimals
// into nanoseconds without rounding; ok is false for anything else.
func parseExactSeconds(s string) (time.Duration, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 10 || len(frac) > 9 {
		return 0, false
	}
	var u uint64
	for i := 0; i < len(whole); i++ {
		c := whole[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	for i := 0; i < 9; i++ {
		u *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			u += uint64(c - '0')
		}
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return time.Duration(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return time.Duration(u), true
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

var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ")

// Flusher is implemented by sinks that buffer: Flush writes what they hold.
// Run loops call it on a one-second ticker.
type Flusher interface {
	Flush() error
}

// bufferedFile is the buffering, periodic flushing and closing shared by
// CSVWriter and JSONLWriter. Its methods are safe for concurrent use.
type bufferedFile struct {
	mu    sync.Mutex
	bw    *bufio.Writer
	file  *os.File // set when the writer owns the file
	name  string   // for errors
	line  []byte   // reused row buffer
	last  time.Time
	err   error // sticky write error
	close bool
}

func (f *bufferedFile) init(w io.Writer, name string) {
	f.bw = bufio.NewWriterSize(w, 64<<10)
	f.name = name
	f.line = make([]byte, 0, 512)
	f.last = time.Now()
}

// writeLine writes f.line (filled by the caller under f.mu) and flushes when
// FlushInterval has passed since the last flush.
func (f *bufferedFile) writeLine() error {
	if f.err != nil {
		return f.err
	}
	if f.close {
		return fmt.Errorf("metrics: write to closed %s", f.name)
	}
	if _, err := f.bw.Write(f.line); err != nil {
		f.err = fmt.Errorf("metrics: writing %s: %w", f.name, err)
		return f.err
	}
	if time.Since(f.last) > FlushInterval {
		return f.flushLocked()
	}
	return nil
}

func (f *bufferedFile) flushLocked() error {
	if f.err != nil {
		return f.err
	}
	f.last = time.Now()
	if err := f.bw.Flush(); err != nil {
		f.err = fmt.Errorf("metrics: flushing %s: %w", f.name, err)
		return f.err
	}
	return nil
}

// Flush writes the buffered records to the underlying writer.
func (f *bufferedFile) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.close {
		return nil
	}
	return f.flushLocked()
}

// Close flushes; when the writer created its file, it also syncs it to disk
// and closes it. Closing twice is harmless.
func (f *bufferedFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.close {
		return nil
	}
	f.close = true
	err := f.flushLocked()
	if f.file != nil {
		if serr := f.file.Sync(); serr != nil && err == nil {
			err = fmt.Errorf("metrics: syncing %s: %w", f.name, serr)
		}
		if cerr := f.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("metrics: closing %s: %w", f.name, cerr)
		}
	}
	return err
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
	c.init(w, "data.csv")
	c.bw.WriteString(strings.Join(csvColumns[:], ","))
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
		for k, known := range csvColumns {
			if name == known {
				c.col[k] = i
			}
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
		if err := setField(rec, k, fields[i]); err != nil {
			return &CSVError{Line: line, Column: csvColumns[k], Err: err}
		}
	}
	if c.col[colIteration] >= 0 && fields[c.col[colIteration]] == "" {
		return &CSVError{Line: line, Column: "iteration", Err: errors.New("empty")}
	}
	return nil
}

func setField(r *Record, k int, s string) error {
	var err error
	switch k {
	case colIteration:
		var n int64
		n, err = strconv.ParseInt(s, 10, 0)
		if err == nil && n < 0 {
			return fmt.Errorf("negative iteration %d", n)
		}
		r.Iteration = int(n)
	case colSensing:
		r.Sensing, err = parseSeconds(s)
	case colUpload:
		r.Upload, err = parseSeconds(s)
	case colInference:
		r.Inference, err = parseSeconds(s)
	case colDownload:
		r.Download, err = parseSeconds(s)
	case colUploadBytes:
		r.UploadBytes, err = parseCount(s, "byte")
	case colDownloadBytes:
		r.DownloadBytes, err = parseCount(s, "byte")
	case colUploadThroughput, colDownloadThroughput:
		if _, perr := strconv.ParseFloat(s, 64); perr != nil {
			return fmt.Errorf("invalid bit/s %q", s)
		}
	case colPreprocessing:
		r.Preprocess, err = parseSeconds(s)
	case colPostprocessing:
		r.Postprocess, err = parseSeconds(s)
	case colQueue:
		r.Queue, err = parseSeconds(s)
	case colServer:
		r.Server, err = parseSeconds(s)
	case colRTT:
		r.RTT, err = parseSeconds(s)
	case colClockOffset:
		r.ClockOffset, err = parseSeconds(s)
	case colClockError:
		r.ClockError, err = parseSeconds(s)
	case colLag:
		r.Lag, err = parseSeconds(s)
	case colHeaderAge:
		r.HeaderAge, err = parseSeconds(s)
		r.HasHeaderAge = true
	case colTopic:
		r.Topic = lineBreaks.Replace(s)
	case colStatus:
		r.Status, err = ParseStatus(s)
	case colWarmup:
		r.Warmup, err = strconv.ParseBool(s)
	case colUploadPackets:
		r.UploadPackets, err = parseCount(s, "packet")
	case colDownloadPackets:
		r.DownloadPackets, err = parseCount(s, "packet")
	}
	if numErr, ok := errors.AsType[*strconv.NumError](err); ok {
		return fmt.Errorf("invalid number %q: %w", s, numErr.Err)
	}
	return err
}

// parseCount reads a non-negative count of what ("byte", "packet").
func parseCount(s, what string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// PEERNet sizes may be written as floats ("767.0").
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
			return 0, fmt.Errorf("invalid %s count %q", what, s)
		}
		n = int64(f)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative %s count %d", what, n)
	}
	return n, nil
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
