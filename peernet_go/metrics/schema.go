package metrics

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Names of the files in a results directory. Every writer and reader of a
// results directory uses these.
const (
	// DataCSV holds one row per iteration (see Columns).
	DataCSV = "data.csv"
	// RecordsJSONL holds one JSON object per iteration (see AppendJSON).
	RecordsJSONL = "records.jsonl"
	// SummaryJSON and SummaryText hold the run's statistics.
	SummaryJSON = "summary.json"
	SummaryText = "summary.txt"
	// RunYAML says what produced the run.
	RunYAML = "run.yaml"
	// PlotsDir is the directory of the plots.
	PlotsDir = "plots"
)

// The record schema: one table of the columns of data.csv, which are also
// the first keys of every records.jsonl object, in file order, with how each
// is encoded and read back. data.csv, records.jsonl, the summary and the
// readers all use it.
//
// The first nine columns are PEERNet's (less its pickled "logger" sizes);
// columns added later come last, and the readers accept files without them.

// colKind says how a column is encoded.
type colKind uint8

const (
	kindIteration colKind = iota // a non-negative int
	kindSeconds                  // a time.Duration, as seconds with nine decimals
	kindCount                    // a non-negative int64 (bytes, packets)
	kindRate                     // bit/s derived from a count and a duration; written, not read
	kindText                     // a string
	kindStatus                   // a Status
	kindBool                     // a bool
)

// column is one entry of the record schema.
type column struct {
	name string
	kind colKind
	unit Unit
	// what names a count's unit in errors ("byte", "packet").
	what string
	// known reports whether the record has this value; an unknown cell is
	// empty in data.csv and null (or left out, with omit) in records.jsonl.
	// nil means always known.
	known func(r *Record) bool
	// omit leaves an unknown value out of records.jsonl instead of null.
	omit bool

	dur  func(r *Record) *time.Duration         // kindSeconds
	cnt  func(r *Record) *int64                 // kindCount
	rate func(r *Record) (int64, time.Duration) // kindRate
	text func(r *Record) *string                // kindText
	flag func(r *Record) *bool                  // kindBool
}

// Column indexes, in file order.
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
	colLatencyFromSchedule
	numColumns
)

func replied(r *Record) bool { return r.Replied() }

// measured reports whether the iteration ran at all: a missed slot has no
// sample, no clock reading and no lag.
func measured(r *Record) bool { return r.Status != Missed }

func secondsCol(name string, known func(*Record) bool, f func(*Record) *time.Duration) column {
	return column{name: name, kind: kindSeconds, unit: Seconds, known: known, dur: f}
}

var columns = [numColumns]column{
	colIteration:          {name: "iteration", kind: kindIteration},
	colSensing:            secondsCol(StageSensing, measured, func(r *Record) *time.Duration { return &r.Sensing }),
	colUpload:             secondsCol(StageUpload, replied, func(r *Record) *time.Duration { return &r.Upload }),
	colInference:          secondsCol(StageInference, replied, func(r *Record) *time.Duration { return &r.Inference }),
	colDownload:           secondsCol(StageDownload, replied, func(r *Record) *time.Duration { return &r.Download }),
	colUploadBytes:        {name: StageUploadBytes, kind: kindCount, unit: Bytes, what: "byte", known: measured, cnt: func(r *Record) *int64 { return &r.UploadBytes }},
	colDownloadBytes:      {name: StageDownloadBytes, kind: kindCount, unit: Bytes, what: "byte", known: replied, cnt: func(r *Record) *int64 { return &r.DownloadBytes }},
	colUploadThroughput:   {name: StageUploadThroughput, kind: kindRate, unit: BitsPerSecond, known: replied, rate: func(r *Record) (int64, time.Duration) { return r.UploadBytes, r.Upload }},
	colDownloadThroughput: {name: StageDownloadThroughput, kind: kindRate, unit: BitsPerSecond, known: replied, rate: func(r *Record) (int64, time.Duration) { return r.DownloadBytes, r.Download }},
	colPreprocessing:      secondsCol(StagePreprocessing, replied, func(r *Record) *time.Duration { return &r.Preprocess }),
	colPostprocessing:     secondsCol(StagePostprocessing, replied, func(r *Record) *time.Duration { return &r.Postprocess }),
	colQueue:              secondsCol(StageQueue, replied, func(r *Record) *time.Duration { return &r.Queue }),
	colServer:             secondsCol(StageServer, replied, func(r *Record) *time.Duration { return &r.Server }),
	colRTT:                secondsCol(StageRTT, replied, func(r *Record) *time.Duration { return &r.RTT }),
	colClockOffset:        secondsCol("clock-offset", measured, func(r *Record) *time.Duration { return &r.ClockOffset }),
	colClockError:         secondsCol("clock-error", measured, func(r *Record) *time.Duration { return &r.ClockError }),
	colLag:                secondsCol(StageLag, measured, func(r *Record) *time.Duration { return &r.Lag }),
	colHeaderAge: secondsCol(StageHeaderAge, func(r *Record) bool { return r.HasHeaderAge },
		func(r *Record) *time.Duration { return &r.HeaderAge }),
	colTopic: {name: "topic", kind: kindText, omit: true, known: func(r *Record) bool { return r.Topic != "" },
		text: func(r *Record) *string { return &r.Topic }},
	colStatus:          {name: "status", kind: kindStatus},
	colWarmup:          {name: "warmup", kind: kindBool, flag: func(r *Record) *bool { return &r.Warmup }},
	colUploadPackets:   {name: StageUploadPackets, kind: kindCount, unit: Packets, what: "packet", known: measured, cnt: func(r *Record) *int64 { return &r.UploadPackets }},
	colDownloadPackets: {name: StageDownloadPackets, kind: kindCount, unit: Packets, what: "packet", known: replied, cnt: func(r *Record) *int64 { return &r.DownloadPackets }},
	colLatencyFromSchedule: {name: StageLatencyFromSchedule, kind: kindSeconds, unit: Seconds, omit: true,
		known: func(r *Record) bool { return r.LatencyFromSchedule != 0 },
		dur:   func(r *Record) *time.Duration { return &r.LatencyFromSchedule }},
}

// Columns returns data.csv's column names in file order; records.jsonl
// objects start with the same keys in the same order.
func Columns() []string {
	names := make([]string, numColumns)
	for i := range columns {
		names[i] = columns[i].name
	}
	return names
}

// CSVColumns returns data.csv's column names in file order (see Columns).
func CSVColumns() []string { return Columns() }

// columnIndex returns the index of the column called name, or -1.
func columnIndex(name string) int {
	for i := range columns {
		if columns[i].name == name {
			return i
		}
	}
	return -1
}

// isKnown reports whether r has column c's value.
func (c *column) isKnown(r *Record) bool { return c.known == nil || c.known(r) }

// appendValue appends the column's value of r as text: the same in data.csv
// and records.jsonl except for quoting, which the caller does for text and
// status. ok is false when there is nothing to write (unknown, or a
// throughput whose delay is not positive).
func (c *column) appendValue(b []byte, r *Record) (_ []byte, ok bool) {
	if !c.isKnown(r) {
		return b, false
	}
	switch c.kind {
	case kindIteration:
		return strconv.AppendInt(b, int64(r.Iteration), 10), true
	case kindSeconds:
		return appendSeconds(b, *c.dur(r)), true
	case kindCount:
		return strconv.AppendInt(b, *c.cnt(r), 10), true
	case kindRate:
		n, d := c.rate(r)
		if d <= 0 {
			return b, false
		}
		return strconv.AppendFloat(b, Throughput(n, d), 'f', -1, 64), true
	case kindText:
		return append(b, *c.text(r)...), true
	case kindStatus:
		return append(b, r.Status.String()...), true
	case kindBool:
		return strconv.AppendBool(b, *c.flag(r)), true
	}
	return b, false
}

// set reads s, as written by appendValue, into r's field. s is never empty.
func (c *column) set(r *Record, s string) error {
	var err error
	switch c.kind {
	case kindIteration:
		var n int64
		n, err = strconv.ParseInt(s, 10, 0)
		if err == nil && n < 0 {
			return fmt.Errorf("negative iteration %d", n)
		}
		r.Iteration = int(n)
	case kindSeconds:
		*c.dur(r), err = parseSeconds(s)
	case kindCount:
		*c.cnt(r), err = parseCount(s, c.what)
	case kindRate: // derived: checked, not kept
		if _, perr := strconv.ParseFloat(s, 64); perr != nil {
			return fmt.Errorf("invalid bit/s %q", s)
		}
	case kindText:
		*c.text(r) = lineBreaks.Replace(s)
	case kindStatus:
		r.Status, err = ParseStatus(s)
	case kindBool:
		*c.flag(r), err = strconv.ParseBool(s)
	}
	if numErr, ok := errors.AsType[*strconv.NumError](err); ok {
		return fmt.Errorf("invalid number %q: %w", s, numErr.Err)
	}
	if c.kind == kindSeconds && c.name == StageHeaderAge {
		r.HasHeaderAge = true
	}
	return err
}

var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ")

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
