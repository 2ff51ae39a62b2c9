package mcaplog_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/mcaplog"
)

// FuzzRead checks that any file reads without panicking, within the
// allocation bound, and that every record it yields re-encodes to JSON
// that decodes the same. The committed corpus (testdata/fuzz/FuzzRead)
// holds files written by Writer: flushed, closed and cut short.
func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	path := filepath.Join(f.TempDir(), mcaplog.File)
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := os.WriteFile(path, in, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = mcaplog.ReadFile(context.Background(), path, func(r *metrics.Record, _ int64) error {
			b := metrics.AppendJSON(nil, r)
			var back metrics.Record
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatalf("a record read does not re-encode: %v\n%s", err, b)
			}
			return nil
		})
	})
}
