package rosbag

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/peernet/peernet_go/peernet_go/internal/minheap"
)

// An MCAP file is read with the record parsers of the mcap library, but
// walked here: every length is checked against the file before anything is
// allocated, so a corrupt file cannot make the reader panic or allocate more
// than the file holds (or Options.MaxChunkSize once decompressed).

const (
	recordHeaderLen = 1 + 8 // opcode, length
	footerLen       = 8 + 8 + 4
	// messageHeaderLen: channel id, sequence, log time, publish time.
	messageHeaderLen = 2 + 4 + 8 + 8
	// chunkTimesLen: message start and end time at the start of a chunk.
	chunkTimesLen = 8 + 8
)

// mcapBlock is a chunk or a message outside chunks, located in the file.
type mcapBlock struct {
	offset, length int64 // the whole record: header and content
	start          uint64
	chunk          bool
}

// mcapFile is the index of an MCAP file: its schemas, channels and blocks in
// the order they should be loaded.
type mcapFile struct {
	name     string
	r        io.ReaderAt
	size     int64
	max      int64
	header   *mcap.Header
	schemas  map[uint16]*mcap.Schema
	channels map[uint16]*mcap.Channel
	stats    *mcap.Statistics
	metadata []*mcap.MetadataIndex
	blocks   []mcapBlock
	// scanErr is a defect found while scanning an unindexed file: the
	// blocks before it are read, then it is reported.
	scanErr error
}

func (f *mcapFile) corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, f.name, fmt.Sprintf(format, args...))
}

// readAt reads n bytes at off into buf (reused when large enough), after
// checking that they lie in the file and that n is at most max.
func (f *mcapFile) readAt(buf []byte, off, n int64, what string) ([]byte, error) {
	if n < 0 || off < 0 || off > f.size || n > f.size-off {
		return nil, f.corrupt("%s at offset %d: %d bytes run past the end of the %d-byte file", what, off, n, f.size)
	}
	if n > f.max {
		return nil, fmt.Errorf("%w: %s: %s at offset %d has %d bytes, more than Options.MaxChunkSize (%d)", ErrUnsupported, f.name, what, off, n, f.max)
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if k, err := f.r.ReadAt(buf, off); k != len(buf) {
		return nil, fmt.Errorf("rosbag: %s: read %s at offset %d: %w", f.name, what, off, err)
	}
	return buf, nil
}

// recordHeader reads the opcode and length of the record at off.
func (f *mcapFile) recordHeader(off, end int64) (mcap.OpCode, int64, error) {
	var hdr [recordHeaderLen]byte
	if end-off < recordHeaderLen {
		return 0, 0, f.corrupt("truncated record header at offset %d", off)
	}
	if _, err := f.r.ReadAt(hdr[:], off); err != nil {
		return 0, 0, fmt.Errorf("rosbag: %s: read record at offset %d: %w", f.name, off, err)
	}
	n := binary.LittleEndian.Uint64(hdr[1:])
	if n > uint64(end-off-recordHeaderLen) {
		return 0, 0, f.corrupt("%s record at offset %d has %d bytes, only %d left", mcap.OpCode(hdr[0]), off, n, end-off-recordHeaderLen)
	}
	return mcap.OpCode(hdr[0]), int64(n), nil
}

// openMCAP indexes an MCAP file: from its summary section when it has one
// with chunk indexes, else by scanning its records.
func openMCAP(r io.ReaderAt, size int64, name string, max int64) (*mcapFile, error) {
	f := &mcapFile{name: name, r: r, size: size, max: max,
		schemas: map[uint16]*mcap.Schema{}, channels: map[uint16]*mcap.Channel{}}
	if size < int64(len(mcap.Magic)) {
		return nil, f.corrupt("%d bytes is too short for MCAP", size)
	}
	magic := make([]byte, len(mcap.Magic))
	if _, err := r.ReadAt(magic, 0); err != nil {
		return nil, fmt.Errorf("rosbag: %s: %w", name, err)
	}
	if !bytes.Equal(magic, mcap.Magic) {
		return nil, f.corrupt("not an MCAP file (magic % x)", magic)
	}
	if err := f.readHeader(); err != nil {
		return nil, err
	}
	dataEnd := size
	if summaryStart, summaryEnd, ok := f.footer(); ok {
		dataEnd = summaryStart
		if err := f.readSummary(summaryStart, summaryEnd); err != nil {
			return nil, err
		}
	}
	if len(f.blocks) == 0 {
		if err := f.scan(dataEnd); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(f.blocks, func(i, j int) bool {
		if f.blocks[i].start != f.blocks[j].start {
			return f.blocks[i].start < f.blocks[j].start
		}
		return f.blocks[i].offset < f.blocks[j].offset
	})
	return f, nil
}

// readHeader reads the header record that follows the magic.
func (f *mcapFile) readHeader() error {
	start := int64(len(mcap.Magic))
	op, n, err := f.recordHeader(start, f.size)
	if err != nil {
		return err
	}
	if op != mcap.OpHeader {
		return f.corrupt("first record is %s, not a header", op)
	}
	buf, err := f.readAt(nil, start+recordHeaderLen, n, "header")
	if err != nil {
		return err
	}
	if f.header, err = mcap.ParseHeader(buf); err != nil {
		return f.corrupt("header: %v", err)
	}
	return nil
}

// footer locates the summary section, if the file has a valid footer that
// points to one.
func (f *mcapFile) footer() (start, end int64, ok bool) {
	const tail = recordHeaderLen + footerLen + 8
	if f.size < int64(len(mcap.Magic))+tail {
		return 0, 0, false
	}
	var buf [tail]byte
	footerOff := f.size - tail
	if _, err := f.r.ReadAt(buf[:], footerOff); err != nil {
		return 0, 0, false
	}
	if mcap.OpCode(buf[0]) != mcap.OpFooter || binary.LittleEndian.Uint64(buf[1:]) != footerLen || !bytes.Equal(buf[tail-8:], mcap.Magic) {
		return 0, 0, false
	}
	footer, err := mcap.ParseFooter(buf[recordHeaderLen : recordHeaderLen+footerLen])
	if err != nil || footer.SummaryStart == 0 || footer.SummaryStart < uint64(len(mcap.Magic)) || footer.SummaryStart > uint64(footerOff) {
		return 0, 0, false
	}
	end = footerOff
	if o := footer.SummaryOffsetStart; o > footer.SummaryStart && o <= uint64(footerOff) {
		end = int64(o)
	}
	return int64(footer.SummaryStart), end, true
}

// readSummary reads the schemas, channels, chunk indexes and statistics of
// the summary section.
func (f *mcapFile) readSummary(start, end int64) error {
	buf, err := f.readAt(nil, start, end-start, "summary section")
	if err != nil {
		return err
	}
	for off := int64(0); off < int64(len(buf)); {
		if int64(len(buf))-off < recordHeaderLen {
			return f.corrupt("truncated record header at offset %d", start+off)
		}
		op := mcap.OpCode(buf[off])
		n := binary.LittleEndian.Uint64(buf[off+1:])
		if n > uint64(int64(len(buf))-off-recordHeaderLen) {
			return f.corrupt("%s record at offset %d has %d bytes, only %d left in the summary", op, start+off, n, int64(len(buf))-off-recordHeaderLen)
		}
		rec := buf[off+recordHeaderLen : off+recordHeaderLen+int64(n)]
		if err := f.summaryRecord(op, rec, start+off); err != nil {
			return err
		}
		off += recordHeaderLen + int64(n)
	}
	return nil
}

func (f *mcapFile) summaryRecord(op mcap.OpCode, rec []byte, at int64) error {
	switch op {
	case mcap.OpSchema, mcap.OpChannel:
		return f.define(op, rec, at)
	case mcap.OpStatistics:
		s, err := mcap.ParseStatistics(rec)
		if err != nil {
			return f.corrupt("statistics at offset %d: %v", at, err)
		}
		f.stats = s
	case mcap.OpMetadataIndex:
		m, err := mcap.ParseMetadataIndex(rec)
		if err != nil {
			return f.corrupt("metadata index at offset %d: %v", at, err)
		}
		f.metadata = append(f.metadata, m)
	case mcap.OpChunkIndex:
		ci, err := mcap.ParseChunkIndex(rec)
		if err != nil {
			return f.corrupt("chunk index at offset %d: %v", at, err)
		}
		off, n := ci.ChunkStartOffset, ci.ChunkLength
		if off < uint64(len(mcap.Magic)) || n < recordHeaderLen || off > uint64(f.size) || n > uint64(f.size)-off {
			return f.corrupt("chunk index at offset %d points to %d bytes at %d, outside the %d-byte file", at, n, off, f.size)
		}
		f.blocks = append(f.blocks, mcapBlock{offset: int64(off), length: int64(n), start: ci.MessageStartTime, chunk: true})
	}
	return nil
}

// define registers a schema or channel record.
func (f *mcapFile) define(op mcap.OpCode, rec []byte, at int64) error {
	if op == mcap.OpSchema {
		s, err := mcap.ParseSchema(rec)
		if err != nil {
			return f.corrupt("schema at offset %d: %v", at, err)
		}
		if _, ok := f.schemas[s.ID]; !ok {
			s.Data = bytes.Clone(s.Data) // rec may be a reused buffer
			f.schemas[s.ID] = s
		}
		return nil
	}
	c, err := mcap.ParseChannel(rec)
	if err != nil {
		return f.corrupt("channel at offset %d: %v", at, err)
	}
	if _, ok := f.channels[c.ID]; !ok {
		f.channels[c.ID] = c
	}
	return nil
}

// scan walks the data section of a file without chunk indexes, reading
// schemas and channels and locating chunks and messages.
func (f *mcapFile) scan(end int64) error {
	var buf []byte
	for off := int64(len(mcap.Magic)); off < end; {
		op, n, err := f.recordHeader(off, end)
		if err != nil {
			if errors.Is(err, ErrCorrupt) {
				f.scanErr = err // keep what comes before a truncation
				return nil
			}
			return err
		}
		body := off + recordHeaderLen
		switch op {
		case mcap.OpReserved:
			f.scanErr = f.corrupt("record with opcode 0 at offset %d", off)
			return nil
		case mcap.OpDataEnd, mcap.OpFooter:
			return nil
		case mcap.OpSchema, mcap.OpChannel:
			if buf, err = f.readAt(buf, body, n, op.String()); err != nil {
				return err
			}
			if err := f.define(op, buf, off); err != nil {
				return err
			}
		case mcap.OpChunk, mcap.OpMessage:
			lead, minLen := int64(chunkTimesLen), int64(chunkTimesLen)
			if op == mcap.OpMessage {
				lead, minLen = 2+4+8, messageHeaderLen
			}
			if n < minLen {
				return f.corrupt("%s record at offset %d is %d bytes, too short", op, off, n)
			}
			if buf, err = f.readAt(buf, body, lead, op.String()); err != nil {
				return err
			}
			b := mcapBlock{offset: off, length: recordHeaderLen + n, chunk: op == mcap.OpChunk}
			if b.chunk {
				b.start = binary.LittleEndian.Uint64(buf)
			} else {
				b.start = binary.LittleEndian.Uint64(buf[6:])
			}
			f.blocks = append(f.blocks, b)
		}
		off = body + n
	}
	return nil
}

// metadataRecords returns the file's metadata records by name, as its
// summary indexes them; a record that cannot be read is left out.
func (f *mcapFile) metadataRecords() map[string]map[string]string {
	var out map[string]map[string]string
	for _, mi := range f.metadata {
		if mi.Length > uint64(f.size) {
			continue
		}
		buf, err := f.readAt(nil, int64(mi.Offset), int64(mi.Length), "metadata")
		if err != nil || len(buf) < recordHeaderLen || mcap.OpCode(buf[0]) != mcap.OpMetadata {
			continue
		}
		if m, err := mcap.ParseMetadata(buf[recordHeaderLen:]); err == nil && m.Name == mi.Name {
			if out == nil {
				out = map[string]map[string]string{}
			}
			out[m.Name] = m.Metadata
		}
	}
	return out
}

// topicOf describes the topic of a channel.
func (f *mcapFile) topicOf(c *mcap.Channel) (TopicInfo, error) {
	t := TopicInfo{Name: c.Topic, SerializationFormat: c.MessageEncoding}
	if s := f.schemas[c.SchemaID]; s != nil {
		t.Type = s.Name
	}
	var err error
	t.OfferedQoS, err = parseQoS(c.Metadata["offered_qos_profiles"])
	if err != nil {
		return t, f.corrupt("channel %s: %v", c.Topic, err)
	}
	return t, nil
}

// mcapMessage is a message of a loaded block.
type mcapMessage struct {
	logTime uint64
	channel uint16
	data    []byte
}

// mcapRun is the messages of one loaded block, sorted by log time.
type mcapRun struct {
	buf  []byte
	msgs []mcapMessage
	i    int
	seq  int // load order, to break ties
}

// mcapReader iterates the messages of one MCAP file in log-time order. It
// loads blocks in order of their earliest log time, and merges the blocks
// loaded so far, which overlap only in files written out of order.
type mcapReader struct {
	f      *mcapFile
	closer io.Closer // the file, when the reader opened it
	want   map[string]bool
	topic  map[uint16]*TopicInfo // resolved channels; nil value: not wanted

	nextBlock int                     // next block to load
	runs      *minheap.Heap[*mcapRun] // by (head log time, seq)
	seq       int
	release   *mcapRun // exhausted run whose buffer the caller may still hold
	free      [][]byte
	scratch   []byte
	dec       *decompressor
	rec       mcap.Message
}

func newMCAPReader(path string, want map[string]bool, opts *Options) (*mcapReader, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rosbag: %w", err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("rosbag: %w", err)
	}
	r, err := newMCAPReaderAt(file, st.Size(), filepath.Base(path), want, opts)
	if err != nil {
		file.Close()
		return nil, err
	}
	r.closer = file
	return r, nil
}

// newMCAPReaderAt reads an MCAP file of the given size from r.
func newMCAPReaderAt(r io.ReaderAt, size int64, name string, want map[string]bool, opts *Options) (*mcapReader, error) {
	f, err := openMCAP(r, size, name, opts.MaxChunkSize)
	if err != nil {
		return nil, err
	}
	if opts.AllowTruncated {
		f.scanErr = nil // the file ends where its last whole record does
	}
	return &mcapReader{
		f: f, want: want, topic: map[uint16]*TopicInfo{}, dec: newDecompressor(opts.MaxChunkSize),
		runs: minheap.New(byRunHead),
	}, nil
}

// resolve returns the topic of a channel, nil when it is not wanted.
func (r *mcapReader) resolve(id uint16) (*TopicInfo, bool, error) {
	if t, ok := r.topic[id]; ok {
		return t, true, nil
	}
	c := r.f.channels[id]
	if c == nil {
		return nil, false, nil
	}
	var tp *TopicInfo
	if r.want == nil || r.want[c.Topic] {
		t, err := r.f.topicOf(c)
		if err != nil {
			return nil, false, err
		}
		tp = &t
	}
	r.topic[id] = tp
	return tp, true, nil
}

func (r *mcapReader) getBuf(n int64) []byte {
	for i, b := range r.free {
		if int64(cap(b)) >= n {
			r.free[i] = r.free[len(r.free)-1]
			r.free = r.free[:len(r.free)-1]
			return b[:n]
		}
	}
	return make([]byte, n)
}

func (r *mcapReader) putBuf(b []byte) {
	if b == nil {
		return
	}
	if len(r.free) < 4 {
		r.free = append(r.free, b)
		return
	}
	// Keep the largest buffers.
	for i, old := range r.free {
		if cap(old) < cap(b) {
			r.free[i] = b
			return
		}
	}
}

// load reads, decompresses and indexes one block.
func (r *mcapReader) load(b mcapBlock) error {
	f := r.f
	if !b.chunk {
		buf, err := f.readAt(r.getBuf(b.length), b.offset, b.length, "message")
		if err != nil {
			return err
		}
		run := &mcapRun{buf: buf}
		if err := r.index(run, buf[recordHeaderLen:], b.offset); err != nil {
			return err
		}
		return r.push(run, b)
	}
	buf := r.scratch
	if int64(cap(buf)) < b.length {
		r.putBuf(buf)
		buf = r.getBuf(b.length)
	}
	raw, err := f.readAt(buf, b.offset, b.length, "chunk")
	if err != nil {
		return err
	}
	if mcap.OpCode(raw[0]) != mcap.OpChunk || binary.LittleEndian.Uint64(raw[1:]) != uint64(b.length-recordHeaderLen) {
		return f.corrupt("no chunk record at offset %d", b.offset)
	}
	chunk, err := parseChunk(raw[recordHeaderLen:])
	if err != nil {
		return f.corrupt("chunk at offset %d: %v", b.offset, err)
	}
	var records []byte
	run := &mcapRun{}
	if chunk.Compression == string(mcap.CompressionNone) {
		if uint64(len(chunk.Records)) != chunk.UncompressedSize {
			return f.corrupt("chunk at offset %d holds %d bytes, declares %d", b.offset, len(chunk.Records), chunk.UncompressedSize)
		}
		// The messages point into raw: hand it to the run, keep no scratch.
		records, run.buf, r.scratch = chunk.Records, raw, nil
	} else {
		if chunk.UncompressedSize > uint64(f.max) {
			return fmt.Errorf("%w: %s: chunk at offset %d declares %d bytes once decompressed, more than Options.MaxChunkSize (%d)", ErrUnsupported, f.name, b.offset, chunk.UncompressedSize, f.max)
		}
		run.buf, err = r.dec.decode(chunk.Compression, chunk.Records, r.getBuf(int64(chunk.UncompressedSize))[:0], int64(chunk.UncompressedSize))
		if err != nil {
			return fmt.Errorf("%s: chunk at offset %d: %w", f.name, b.offset, err)
		}
		r.scratch = raw
		records = run.buf
	}
	if chunk.UncompressedCRC != 0 {
		if crc := crc32.ChecksumIEEE(records); crc != chunk.UncompressedCRC {
			r.putBuf(run.buf)
			return f.corrupt("chunk at offset %d: CRC %08x, recorded %08x", b.offset, crc, chunk.UncompressedCRC)
		}
	}
	if err := r.index(run, records, -1); err != nil {
		return err
	}
	return r.push(run, b)
}

// parseChunk parses a chunk record like mcap.ParseChunk, which does not
// check the records length against the record.
func parseChunk(buf []byte) (*mcap.Chunk, error) {
	const fixed = 8 + 8 + 8 + 4 + 4 // times, uncompressed size and CRC, compression length
	if len(buf) < fixed {
		return nil, fmt.Errorf("%d bytes, too short", len(buf))
	}
	c := &mcap.Chunk{
		MessageStartTime: binary.LittleEndian.Uint64(buf),
		MessageEndTime:   binary.LittleEndian.Uint64(buf[8:]),
		UncompressedSize: binary.LittleEndian.Uint64(buf[16:]),
		UncompressedCRC:  binary.LittleEndian.Uint32(buf[24:]),
	}
	rest := buf[fixed:]
	n := uint64(binary.LittleEndian.Uint32(buf[28:]))
	if n+8 > uint64(len(rest)) {
		return nil, fmt.Errorf("compression name of %d bytes overruns the record", n)
	}
	c.Compression = string(rest[:n])
	rest = rest[n:]
	size := binary.LittleEndian.Uint64(rest)
	rest = rest[8:]
	if size > uint64(len(rest)) {
		return nil, fmt.Errorf("records of %d bytes overrun the %d left in the record", size, len(rest))
	}
	c.Records = rest[:size]
	return c, nil
}

// index lists the wanted messages of a block's records (a whole message
// record when at ≥ 0) and registers its schemas and channels.
func (r *mcapReader) index(run *mcapRun, records []byte, at int64) error {
	f := r.f
	if at >= 0 {
		return r.addMessage(run, records, at)
	}
	for off := 0; off < len(records); {
		if len(records)-off < recordHeaderLen {
			return f.corrupt("chunk ends inside a record header")
		}
		op := mcap.OpCode(records[off])
		n := binary.LittleEndian.Uint64(records[off+1:])
		if n > uint64(len(records)-off-recordHeaderLen) {
			return f.corrupt("%s record in a chunk has %d bytes, only %d left", op, n, len(records)-off-recordHeaderLen)
		}
		rec := records[off+recordHeaderLen : off+recordHeaderLen+int(n)]
		switch op {
		case mcap.OpSchema, mcap.OpChannel:
			if err := f.define(op, rec, -1); err != nil {
				return err
			}
		case mcap.OpMessage:
			if err := r.addMessage(run, rec, -1); err != nil {
				return err
			}
		}
		off += recordHeaderLen + int(n)
	}
	return nil
}

func (r *mcapReader) addMessage(run *mcapRun, rec []byte, at int64) error {
	if err := r.rec.PopulateFrom(rec, false); err != nil {
		return r.f.corrupt("message at offset %d: %v", at, err)
	}
	t, known, err := r.resolve(r.rec.ChannelID)
	if err != nil {
		return err
	}
	if known && t == nil {
		return nil // a topic not asked for
	}
	run.msgs = append(run.msgs, mcapMessage{logTime: r.rec.LogTime, channel: r.rec.ChannelID, data: r.rec.Data})
	return nil
}

// push sorts a loaded run and adds it to the merge. The block's messages
// must not start before the time the index gave for it: the merge relies on
// it to keep the order.
func (r *mcapReader) push(run *mcapRun, b mcapBlock) error {
	if len(run.msgs) == 0 {
		r.putBuf(run.buf)
		return nil
	}
	if !sort.SliceIsSorted(run.msgs, func(i, j int) bool { return run.msgs[i].logTime < run.msgs[j].logTime }) {
		sort.SliceStable(run.msgs, func(i, j int) bool { return run.msgs[i].logTime < run.msgs[j].logTime })
	}
	if first := run.msgs[0].logTime; first < b.start {
		r.putBuf(run.buf)
		return r.f.corrupt("block at offset %d holds a message at %d, before the start %d its index gives", b.offset, first, b.start)
	}
	run.seq = r.seq
	r.seq++
	r.runs.Push(run)
	return nil
}

// byRunHead orders runs by their next message's log time, then by the
// order they were loaded in.
func byRunHead(a, b *mcapRun) bool {
	ta, tb := a.msgs[a.i].logTime, b.msgs[b.i].logTime
	if ta != tb {
		return ta < tb
	}
	return a.seq < b.seq
}

func (r *mcapReader) next(m *Message) (bool, error) {
	if r.release != nil {
		r.putBuf(r.release.buf)
		r.release = nil
	}
	for {
		// Load every block that may hold a message earlier than the
		// earliest loaded one.
		if r.nextBlock < len(r.f.blocks) {
			b := r.f.blocks[r.nextBlock]
			if r.runs.Len() == 0 || b.start < r.runs.Top().msgs[r.runs.Top().i].logTime {
				r.nextBlock++
				if err := r.load(b); err != nil {
					return false, err
				}
				continue
			}
		}
		if r.runs.Len() == 0 {
			return false, r.f.scanErr
		}
		run := r.runs.Top()
		msg := run.msgs[run.i]
		run.i++
		if run.i == len(run.msgs) {
			r.runs.Pop()
			r.release = run
		} else {
			r.runs.FixTop()
		}
		t, _, err := r.resolve(msg.channel)
		if err != nil {
			return false, err
		}
		if t == nil {
			if r.f.channels[msg.channel] == nil {
				return false, r.f.corrupt("message on channel %d, which the file never defines", msg.channel)
			}
			continue
		}
		if msg.logTime > 1<<63-1 {
			return false, r.f.corrupt("message on %s has log time %d, past 2262", t.Name, msg.logTime)
		}
		*m = Message{Topic: t.Name, Type: t.Type, LogTime: int64(msg.logTime), Data: msg.data}
		return true, nil
	}
}

func (r *mcapReader) close() error {
	r.dec.close()
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// summarizeMCAP reads what an MCAP file says about itself: from its
// statistics when it has them, else by reading every message.
func summarizeMCAP(ctx context.Context, path string, opts *Options) (fileSummary, error) {
	r, err := newMCAPReader(path, nil, opts)
	if err != nil {
		return fileSummary{}, err
	}
	defer func() { _ = r.close() }() // read only
	f := r.f
	sum := fileSummary{storage: StorageMCAP}
	sum.metadata = f.metadataRecords()
	if meta := sum.metadata["rosbag2"]; meta != nil {
		sum.rosDistro = meta["ROS_DISTRO"]
		sum.compressionFormat, sum.compressionMode = compressionOf(meta["serialized_metadata"])
	}
	topics := func() error {
		ids := make([]int, 0, len(f.channels))
		for id := range f.channels {
			ids = append(ids, int(id))
		}
		sort.Ints(ids)
		sum.topics = sum.topics[:0]
		seen := map[string]bool{}
		for _, id := range ids {
			t, err := f.topicOf(f.channels[uint16(id)])
			if err != nil {
				return err
			}
			if !seen[t.Name] {
				seen[t.Name] = true
				sum.topics = append(sum.topics, t)
			}
		}
		return nil
	}
	if s := f.stats; s != nil && f.scanErr == nil && s.MessageCount > 0 && len(s.ChannelMessageCounts) > 0 {
		if err := topics(); err != nil {
			return fileSummary{}, err
		}
		for k := range sum.topics {
			for id, c := range f.channels {
				if c.Topic == sum.topics[k].Name {
					n := s.ChannelMessageCounts[id]
					sum.topics[k].MessageCount += n
					sum.count += n
				}
			}
		}
		if sum.count == s.MessageCount && s.MessageStartTime <= s.MessageEndTime && s.MessageEndTime <= 1<<63-1 {
			sum.start, sum.end = int64(s.MessageStartTime), int64(s.MessageEndTime)
			return sum, nil
		}
		sum.count = 0
	}
	counts := map[string]uint64{}
	var m Message
	for {
		if err := ctx.Err(); err != nil {
			return fileSummary{}, err
		}
		ok, err := r.next(&m)
		if err != nil {
			return fileSummary{}, err
		}
		if !ok {
			break
		}
		if sum.count == 0 {
			sum.start = m.LogTime
		}
		sum.end = max(sum.end, m.LogTime)
		sum.count++
		counts[m.Topic]++
	}
	// Channels may be defined inside chunks: list them once all are read.
	if err := topics(); err != nil {
		return fileSummary{}, err
	}
	for k := range sum.topics {
		sum.topics[k].MessageCount = counts[sum.topics[k].Name]
	}
	return sum, nil
}
