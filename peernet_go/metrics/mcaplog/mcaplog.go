// Package mcaplog writes a run's records as an MCAP file (results.mcap),
// for Foxglove, PlotJuggler and the mcap tools, and reads it back.
//
// Each iteration is one JSON message on the channel /peernet/iterations,
// the same object as its records.jsonl line, under the JSON Schema of
// metrics.JSONSchema. A message's log time is the client's receive time
// (its send time when no reply came, the previous message's for a missed
// slot); its publish time is the recording time of the sample's source
// message when the sensor replays a rosbag or subscribes to a topic, so
// the file lines up with the recording. The run's description (run.yaml)
// and its summary are metadata records named "run" and "summary".
//
// The messages go into zstd-compressed chunks. Flush, which the run loops
// call every second, closes the chunk being filled, so that a killed run
// leaves every message up to the last flush readable; Close then writes
// the indexes and the summary section.
package mcaplog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

// Names of the file and of what it holds.
const (
	// File is the name of the MCAP file in a results directory.
	File = "results.mcap"
	// Topic is the channel of the iterations.
	Topic = "/peernet/iterations"
	// MetadataRun and MetadataSummary name the metadata records.
	MetadataRun     = "run"
	MetadataSummary = "summary"
	// Profile is the MCAP profile written in the header.
	Profile = "peernet"
)

// maxChunk is the uncompressed size at which a chunk is closed before the
// next Flush.
const maxChunk = 1 << 20

const (
	schemaID  = 1
	channelID = 1
)

// Writer streams records into an MCAP file. It is a metrics.Sink and a
// metrics.Flusher, safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	opts mcap.WriterOptions // read by w at every message: see Flush
	w    *mcap.Writer
	bw   *bufio.Writer
	file *os.File
	buf  []byte
	// held is the last record's message, written by the next Write or by
	// Flush, which closes its chunk with it.
	held    mcap.Message
	hasHeld bool
	prev    uint64 // the last log time
	last    time.Time
	err     error
	closed  bool
}

var (
	_ metrics.Sink    = (*Writer)(nil)
	_ metrics.Flusher = (*Writer)(nil)
)

// Create creates the file at path and writes the header, the schema and
// the channel.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("mcaplog: %w", err)
	}
	w, err := NewWriter(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.file = f
	return w, nil
}

// NewWriter writes the header, the schema and the channel to out.
func NewWriter(out io.Writer) (*Writer, error) {
	w := &Writer{
		bw:   bufio.NewWriterSize(out, 256<<10),
		last: time.Now(),
		opts: mcap.WriterOptions{
			Chunked: true, ChunkSize: maxChunk, Compression: mcap.CompressionZSTD, IncludeCRC: true,
		},
	}
	var err error
	if w.w, err = mcap.NewWriter(w.bw, &w.opts); err != nil {
		return nil, fmt.Errorf("mcaplog: %w", err)
	}
	err = errors.Join(
		w.w.WriteHeader(&mcap.Header{Profile: Profile, Library: "peernet"}),
		w.w.WriteSchema(&mcap.Schema{ID: schemaID, Name: metrics.JSONSchemaID, Encoding: "jsonschema", Data: metrics.JSONSchema()}),
		w.w.WriteChannel(&mcap.Channel{ID: channelID, SchemaID: schemaID, Topic: Topic, MessageEncoding: "json",
			Metadata: map[string]string{"columns": fmt.Sprint(len(metrics.Columns()))}}),
		w.bw.Flush(),
	)
	if err != nil {
		return nil, fmt.Errorf("mcaplog: %w", err)
	}
	return w, nil
}

// logTime returns the log time of r's message, Unix ns: the client
// receive time, else the send time, else (a missed slot) the previous
// message's, else now.
func (w *Writer) logTime(r *metrics.Record) uint64 {
	switch {
	case r.T3 > 0:
		w.prev = uint64(r.T3)
	case r.T0 > 0:
		w.prev = uint64(r.T0)
	case w.prev == 0:
		w.prev = uint64(time.Now().UnixNano())
	}
	return w.prev
}

// Write adds r's message.
func (w *Writer) Write(r *metrics.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("mcaplog: write after close")
	}
	if w.hasHeld {
		if err := w.writeHeld(false); err != nil {
			return err
		}
	}
	pub := uint64(r.LogTime)
	if r.LogTime <= 0 {
		pub = uint64(max(r.T0, 0))
	}
	w.buf = metrics.AppendJSON(w.buf[:0], r)
	w.held = mcap.Message{ChannelID: channelID, Sequence: uint32(r.Iteration), LogTime: w.logTime(r), PublishTime: pub,
		Data: append(w.held.Data[:0], w.buf...)}
	w.hasHeld = true
	if time.Since(w.last) >= metrics.FlushInterval {
		return w.flushLocked()
	}
	return nil
}

// writeHeld writes the held message; with endChunk the chunk it lands in
// is closed after it. The mcap writer reads its options at every message,
// so a chunk size of one closes the chunk: the only way its API offers to
// end a chunk before Close.
func (w *Writer) writeHeld(endChunk bool) error {
	if endChunk {
		w.opts.ChunkSize = 1
		defer func() { w.opts.ChunkSize = maxChunk }()
	}
	w.hasHeld = false
	if err := w.w.WriteMessage(&w.held); err != nil {
		w.err = fmt.Errorf("mcaplog: %w", err)
		return w.err
	}
	return nil
}

// Flush closes the chunk being filled and writes it to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.err != nil {
		return w.err
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	w.last = time.Now()
	if w.hasHeld {
		if err := w.writeHeld(true); err != nil {
			return err
		}
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("mcaplog: %w", err)
	}
	return w.err
}

// Close finishes the file without metadata records.
func (w *Writer) Close() error { return w.Finish() }

// Finish writes the metadata records given (see Flatten), the indexes and
// the summary section, and closes the file. Later calls, and Close, return
// nil.
func (w *Writer) Finish(meta ...Metadata) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil && w.hasHeld {
		err = w.writeHeld(false)
	}
	if err == nil {
		for _, m := range meta {
			if err = w.w.WriteMetadata(&mcap.Metadata{Name: m.Name, Metadata: m.Values}); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = w.w.Close()
	}
	if err == nil {
		err = w.bw.Flush()
	}
	if w.file != nil {
		err = errors.Join(err, w.file.Close())
	}
	if err != nil && !errors.Is(err, w.err) {
		err = fmt.Errorf("mcaplog: %w", err)
	}
	return err
}

// Metadata is one MCAP metadata record.
type Metadata struct {
	Name   string
	Values map[string]string
}
