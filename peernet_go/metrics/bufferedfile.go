package metrics

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// FlushInterval is the longest a buffered writer keeps records before a
// Write flushes them; the run loops also call Flush on a ticker of this
// period, so an idle run loses no more than that either.
const FlushInterval = time.Second

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
