package mcaplog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/mcaplog"
)

// Write three iterations into results.mcap with a summary record, and read
// them back.
func Example() {
	dir, _ := os.MkdirTemp("", "mcaplog")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, mcaplog.File)

	w, err := mcaplog.Create(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC).UnixNano()
	for i := range 3 {
		r := metrics.Record{Iteration: i, Status: metrics.OK, RTT: 2 * time.Millisecond,
			T0: t0 + int64(i)*1e7, T3: t0 + int64(i)*1e7 + 2e6}
		_ = w.Write(&r)
	}
	_ = w.Finish(mcaplog.Metadata{Name: mcaplog.MetadataSummary, Values: map[string]string{"iterations.ok": "3"}})

	info, err := mcaplog.ReadFile(context.Background(), path, func(r *metrics.Record, logTime int64) error {
		fmt.Println(r.Iteration, r.Status, r.RTT, time.Unix(0, logTime).UTC().Format(time.StampMilli))
		return nil
	})
	fmt.Println(info.Messages, info.Complete, info.Metadata[mcaplog.MetadataSummary], err)
	// Output:
	// 0 ok 2ms Dec  4 12:00:00.002
	// 1 ok 2ms Dec  4 12:00:00.012
	// 2 ok 2ms Dec  4 12:00:00.022
	// 3 true map[iterations.ok:3] <nil>
}
