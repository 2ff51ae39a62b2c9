package mcaplog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/rosbag"
)

// MaxChunk bounds the memory one chunk or record may take while reading:
// no length read from a file makes ReadFile allocate more.
const MaxChunk = 64 << 20

// Info is what ReadFile found besides the iterations.
type Info struct {
	// Metadata are the metadata records, by name.
	Metadata map[string]map[string]string
	// Messages counts the iterations read.
	Messages int
	// Complete is true when the file ends as a closed file does: a run that
	// was killed leaves one without its summary section, readable up to
	// its last flush.
	Complete bool
}

// ReadFile reads an MCAP file written by Writer, calling each with every
// iteration, in log-time order, and the message's log time; rec is valid
// during the call only. A file cut short (a killed run) yields what it
// holds and Complete false; a malformed one yields an error. The reading
// is package rosbag's, bounded by MaxChunk.
func ReadFile(ctx context.Context, path string, each func(rec *metrics.Record, logTime int64) error) (Info, error) {
	info := Info{}
	var err error
	if info.Complete, err = Closed(path); err != nil {
		return info, err
	}
	bag, err := rosbag.Options{MaxChunkSize: MaxChunk, AllowTruncated: true}.Open(ctx, path)
	if err != nil {
		return info, fmt.Errorf("mcaplog: %w", err)
	}
	defer bag.Close()
	bi := bag.Info()
	info.Metadata = bi.MCAPMetadata
	if bi.Topic(Topic) == nil {
		return info, nil // no iteration was written
	}
	it, err := bag.Messages(ctx, Topic)
	if err != nil {
		return info, fmt.Errorf("mcaplog: %w", err)
	}
	defer it.Close()
	var rec metrics.Record
	for it.Next() {
		m := it.Message()
		rec = metrics.Record{}
		if err := rec.UnmarshalJSON(m.Data); err != nil {
			return info, fmt.Errorf("mcaplog: %s: message at %d: %w", path, m.LogTime, err)
		}
		info.Messages++
		if err := each(&rec, m.LogTime); err != nil {
			return info, err
		}
	}
	if err := it.Err(); err != nil {
		return info, fmt.Errorf("mcaplog: %w", err)
	}
	return info, nil
}

// Closed reports whether the file at path ends with the MCAP magic, as a
// file whose writer closed it does; a run that was killed leaves one that
// does not.
func Closed(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("mcaplog: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("mcaplog: %w", err)
	}
	n := int64(len(mcap.Magic))
	if st.Size() < 2*n {
		return false, nil
	}
	tail := make([]byte, n)
	if _, err := f.ReadAt(tail, st.Size()-n); err != nil && err != io.EOF {
		return false, fmt.Errorf("mcaplog: %w", err)
	}
	return bytes.Equal(tail, mcap.Magic), nil
}
