package rosbag

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/foxglove/mcap/go/mcap"
)

// FuzzParseMetadata parses arbitrary metadata.yaml content: it must fail
// with a one-line error, or give an Info that holds together.
func FuzzParseMetadata(f *testing.F) {
	for _, dir := range []string{"camera_humble_sqlite3", "camera_humble_mcap", "mixed_jazzy_mcap",
		"real_humble/camera_sqlite3", "real_humble/mixed_mcap", "real_humble/camera_sqlite3_zstd_file"} {
		data, err := os.ReadFile(filepath.Join("testdata", dir, metadataFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rosbag2_bagfile_information:\n  version: 9\n  storage_identifier: mcap\n  relative_file_paths: [a.mcap]\n  topics_with_message_count:\n    - topic_metadata: {name: /a, type: t, offered_qos_profiles: [{reliability: 7}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseMetadata(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrUnsupported", err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("\n")) {
				t.Fatalf("error %q spans lines", err)
			}
			return
		}
		if info.Version < minVersion || info.Version > maxVersion || len(info.RelativeFilePaths) == 0 || info.Duration < 0 {
			t.Fatalf("accepted %+v", info)
		}
		for _, p := range info.RelativeFilePaths {
			if !filepath.IsLocal(p) {
				t.Fatalf("accepted file %q", p)
			}
		}
		var buf bytes.Buffer
		if err := writeInfo(&buf, info, time.UTC); err != nil {
			t.Fatal(err)
		}
	})
}

// fuzzMCAPOptions are the layouts of the MCAP seeds.
func fuzzMCAPOptions() []mcap.WriterOptions {
	return []mcap.WriterOptions{
		{Chunked: true, ChunkSize: 100},
		{Chunked: true, ChunkSize: 100, Compression: mcap.CompressionZSTD, IncludeCRC: true},
		{Chunked: true, ChunkSize: 100, Compression: mcap.CompressionLZ4},
		{},
		{Chunked: true, SkipChunkIndex: true, SkipMessageIndexing: true, SkipStatistics: true, SkipSummaryOffsets: true},
	}
}

// fuzzMCAPSeeds writes small MCAP files in each layout the reader handles.
func fuzzMCAPSeeds(tb testing.TB) [][]byte {
	files, ids := splitBag()
	msgs := files[0][:6]
	var seeds [][]byte
	path := filepath.Join(tb.TempDir(), "seed.mcap")
	for _, opts := range fuzzMCAPOptions() {
		writeMCAP(tb, path, opts, withIDs(ids[0]), msgs)
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// FuzzMCAP reads arbitrary bytes as an MCAP file: open and iterate must end
// in a result or an error, never a panic, with a 1 MiB cap on decompression.
func FuzzMCAP(f *testing.F) {
	for _, s := range fuzzMCAPSeeds(f) {
		f.Add(s)
	}
	opts := &Options{MaxChunkSize: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newMCAPReaderAt(bytes.NewReader(data), int64(len(data)), "fuzz.mcap", nil, opts)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("open error %v is neither ErrCorrupt nor ErrUnsupported", err)
			}
			return
		}
		defer r.close()
		var m Message
		last := int64(-1 << 63)
		for n := 0; ; n++ {
			ok, err := r.next(&m)
			if err != nil || !ok {
				break
			}
			if m.LogTime < last {
				t.Fatalf("log time %d after %d", m.LogTime, last)
			}
			last = m.LogTime
			if int64(len(m.Data)) > int64(len(data))+opts.MaxChunkSize {
				t.Fatalf("message of %d bytes from %d input bytes", len(m.Data), len(data))
			}
		}
	})
}

// FuzzSQLite flips bytes of a small .db3 file and reads it as a lone bag:
// opening and iterating must end in a result or an error, never a panic.
func FuzzSQLite(f *testing.F) {
	files, ids := splitBag()
	seedPath := filepath.Join(f.TempDir(), "seed.db3")
	writeDB3(f, seedPath, 3, withIDs(ids[0]), files[0][:8], nil, nil)
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(0), byte(0), uint32(0), byte(0))
	f.Add(uint32(100), byte(0xff), uint32(4096+8), byte(1))
	f.Add(uint32(len(seed)-100), byte(0x80), uint32(28), byte(0x7f))
	f.Fuzz(func(t *testing.T, off1 uint32, x1 byte, off2 uint32, x2 byte) {
		data := bytes.Clone(seed)
		data[int(off1)%len(data)] ^= x1
		data[int(off2)%len(data)] ^= x2
		path := filepath.Join(t.TempDir(), "fuzz.db3")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		b, err := Open(ctx, path)
		if err != nil {
			return
		}
		defer b.Close()
		it, err := b.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		// A corrupt index may misorder rows without SQLite noticing, so
		// only bounds are checked here.
		for it.Next() {
			if m := it.Message(); len(m.Data) > len(data) {
				t.Fatalf("message of %d bytes from a %d-byte file", len(m.Data), len(data))
			}
		}
	})
}
