package rosbag

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/minheap"
)

// Message is one recorded message.
type Message struct {
	// Topic is the topic it was recorded on.
	Topic string
	// Type is its ROS 2 type, e.g. "sensor_msgs/msg/Image".
	Type string
	// LogTime is when the recorder received it, in nanoseconds since the
	// epoch.
	LogTime int64
	// Data is the serialized message (CDR, encapsulation header included),
	// decompressed if the bag compresses messages. It is valid until the
	// next call to Next: copy it to keep it.
	Data []byte
}

// Time returns LogTime as a time.Time.
func (m Message) Time() time.Time { return time.Unix(0, m.LogTime) }

// reader iterates the messages of one storage file in log-time order.
type reader interface {
	// next fills m with the next message and reports whether there was
	// one. m.Data stays valid until the next call.
	next(m *Message) (bool, error)
	close() error
}

// source is one storage file taking part in the merge.
type source struct {
	index int
	file  storageFile
	r     reader
	head  Message
}

// Iterator reads a bag's messages in log-time order; ties keep the order of
// the files, then of the rows or records within a file. It is not safe for
// concurrent use.
//
//	for it.Next() {
//		m := it.Message()
//		…
//	}
//	if err := it.Err(); err != nil { … }
type Iterator struct {
	ctx  context.Context
	bag  *Bag
	want map[string]bool

	pending []*source              // not opened yet, by earliest log time
	heap    *minheap.Heap[*source] // opened, each with a head message, by (log time, file)
	stale   *source                // whose head was returned last: advance before use
	msg     Message
	err     error
	done    bool
}

// Messages returns an iterator over the messages of the named topics, or
// of every topic when none is named. A topic the bag does not record is an
// error wrapping ErrNoTopic. ctx bounds the whole iteration.
func (b *Bag) Messages(ctx context.Context, topics ...string) (*Iterator, error) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	it := &Iterator{ctx: ctx, bag: b, heap: minheap.New(bySourceHead)}
	if len(topics) > 0 {
		it.want = map[string]bool{}
		for _, t := range topics {
			if b.info.Topic(t) == nil {
				names := make([]string, len(b.info.Topics))
				for i, ti := range b.info.Topics {
					names[i] = ti.Name
				}
				return nil, fmt.Errorf("%w: %q (the bag has %s)", ErrNoTopic, t, strings.Join(names, ", "))
			}
			it.want[t] = true
		}
	}
	for i, f := range b.files {
		it.pending = append(it.pending, &source{index: i, file: f})
	}
	sort.SliceStable(it.pending, func(i, j int) bool { return it.pending[i].file.start < it.pending[j].file.start })
	return it, nil
}

// Next advances to the next message and reports whether there is one. It
// returns false at the end of the bag, on error, and once ctx has ended.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	if err := it.ctx.Err(); err != nil {
		return it.fail(err)
	}
	if s := it.stale; s != nil {
		it.stale = nil
		if !it.advance(s) {
			if it.err != nil {
				return false
			}
			it.remove()
		} else {
			it.heap.FixTop()
		}
	}
	// Open the files that may hold a message earlier than the earliest
	// head: all of them when the metadata gives no start times.
	for len(it.pending) > 0 && (it.heap.Len() == 0 || it.pending[0].file.start <= it.heap.Top().head.LogTime) {
		s := it.pending[0]
		it.pending = it.pending[1:]
		if !it.open(s) {
			if it.err != nil {
				return false
			}
			continue
		}
		it.heap.Push(s)
	}
	if it.heap.Len() == 0 {
		it.done = true
		return false
	}
	s := it.heap.Top()
	it.msg = s.head
	it.stale = s
	return true
}

// Message returns the current message. Its Data is valid until the next
// call to Next.
func (it *Iterator) Message() Message { return it.msg }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close releases the files the iterator holds open.
func (it *Iterator) Close() error {
	it.done = true
	var first error
	for _, s := range it.heap.All() {
		if err := s.r.close(); err != nil && first == nil {
			first = err
		}
	}
	it.heap.Reset()
	it.pending, it.stale = nil, nil
	return first
}

func (it *Iterator) fail(err error) bool {
	it.err = err
	it.Close()
	return false
}

// open opens a source and reads its first message.
func (it *Iterator) open(s *source) bool {
	path, err := it.bag.local(it.ctx, s.file)
	if err != nil {
		return it.fail(err)
	}
	opts := &it.bag.opts
	compression := ""
	if strings.EqualFold(it.bag.info.CompressionMode, "message") {
		compression = strings.ToLower(it.bag.info.CompressionFormat)
	}
	switch s.file.storage {
	case StorageSQLite3:
		s.r, err = newSQLiteReader(it.ctx, path, it.want, compression, opts)
	case StorageMCAP:
		var r *mcapReader
		r, err = newMCAPReader(path, it.want, opts)
		if err == nil && compression != "" {
			s.r = &decompressingReader{r: r, format: compression, dec: newDecompressor(opts.MaxChunkSize)}
		} else if err == nil {
			s.r = r
		}
	default:
		err = fmt.Errorf("%w: storage %q", ErrUnsupported, s.file.storage)
	}
	if err != nil {
		return it.fail(err)
	}
	if !it.advance(s) {
		_ = s.r.close() // read to its end or failed: what counts is said
		return false
	}
	return true
}

// advance reads the next message of s into its head; false at its end.
func (it *Iterator) advance(s *source) bool {
	ok, err := s.r.next(&s.head)
	if err != nil {
		return it.fail(err)
	}
	return ok
}

// remove drops the exhausted source at the top of the heap.
func (it *Iterator) remove() {
	s := it.heap.Pop()
	_ = s.r.close() // exhausted: everything it held was read
}

// bySourceHead orders sources by their head message's log time, then by
// file.
func bySourceHead(a, b *source) bool {
	if a.head.LogTime != b.head.LogTime {
		return a.head.LogTime < b.head.LogTime
	}
	return a.index < b.index
}

// decompressingReader decompresses each message of an MCAP file of a
// message-compressed bag.
type decompressingReader struct {
	r      *mcapReader
	format string
	dec    *decompressor
	buf    []byte
}

func (d *decompressingReader) next(m *Message) (bool, error) {
	ok, err := d.r.next(m)
	if !ok || err != nil {
		return ok, err
	}
	d.buf, err = d.dec.decode(d.format, m.Data, d.buf, -1)
	if err != nil {
		return false, fmt.Errorf("%s: message on %s at %d: %w", d.r.f.name, m.Topic, m.LogTime, err)
	}
	m.Data = d.buf
	return true, nil
}

func (d *decompressingReader) close() error {
	d.dec.close()
	return d.r.close()
}

// summarize reads what one storage file says about itself.
func summarize(ctx context.Context, path, storage string, opts *Options) (fileSummary, error) {
	switch storage {
	case StorageSQLite3:
		return summarizeSQLite(ctx, path)
	case StorageMCAP:
		return summarizeMCAP(ctx, path, opts)
	}
	return fileSummary{}, fmt.Errorf("%w: storage %q", ErrUnsupported, storage)
}
