package metrics

import (
	"bytes"
	"testing"
	"time"
)

// A Write that comes more than FlushInterval after the last flush flushes,
// so a crash loses at most about a second of records.
func TestWriteFlushesAfterInterval(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(*bytes.Buffer) (Sink, *bufferedFile)
	}{
		{"csv", func(b *bytes.Buffer) (Sink, *bufferedFile) { w := NewCSVWriter(b); return w, &w.bufferedFile }},
		{"jsonl", func(b *bytes.Buffer) (Sink, *bufferedFile) { w := NewJSONLWriter(b); return w, &w.bufferedFile }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			s, bf := tc.new(&buf)
			r := Record{Iteration: 1}
			if err := s.Write(&r); err != nil {
				t.Fatal(err)
			}
			if buf.Len() != 0 {
				t.Fatalf("flushed %d bytes early", buf.Len())
			}
			bf.mu.Lock()
			bf.last = time.Now().Add(-FlushInterval - time.Millisecond)
			bf.mu.Unlock()
			if err := s.Write(&r); err != nil {
				t.Fatal(err)
			}
			if buf.Len() == 0 {
				t.Fatal("no flush after the interval")
			}
			n := buf.Len()
			if err := s.Write(&r); err != nil {
				t.Fatal(err)
			}
			if buf.Len() != n {
				t.Fatal("flushed again right after a flush")
			}
		})
	}
}
