package rosbag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/foxglove/mcap/go/mcap"
)

var testTopics = []testTopic{
	{name: "/a", typ: "sensor_msgs/msg/Imu", reliable: true},
	{name: "/b", typ: "sensor_msgs/msg/Image"},
	{name: "/c", typ: "std_msgs/msg/String", reliable: true},
}

// withIDs renumbers topics for one file, keeping only the named ones.
func withIDs(ids map[string]int64) []testTopic {
	var out []testTopic
	for _, tp := range testTopics {
		if id, ok := ids[tp.name]; ok {
			tp.id = id
			tp.qos = humbleQoS(tp.reliable)
			out = append(out, tp)
		}
	}
	return out
}

func payload(topic string, i int) []byte {
	// A CDR-looking payload of varying size, unique per message.
	return append([]byte{0, 1, 0, 0}, fmt.Sprintf("%s#%d%s", topic, i, strings.Repeat("x", i%7))...)
}

// splitBag builds three files of messages on /a /b /c that overlap in time,
// with a tie across files, each file numbering its topics differently and
// the last one lacking /c.
func splitBag() (files [][]testMsg, ids []map[string]int64) {
	ids = []map[string]int64{{"/a": 1, "/b": 2, "/c": 3}, {"/c": 1, "/a": 2, "/b": 3}, {"/b": 1, "/a": 2}}
	files = make([][]testMsg, 3)
	for k := range 90 {
		f := k / 30
		topic := testTopics[k%3].name
		if f == 2 && topic == "/c" {
			topic = "/a"
		}
		lt := int64(1_700_000_000_000_000_000 + 10_000*k)
		if f == 0 && k%10 == 9 {
			lt += 95_000 // a late message, inside the next file's span
		}
		files[f] = append(files[f], testMsg{topic: topic, logTime: lt, data: payload(topic, k)})
	}
	// A tie: the first message of file 1 at the time of one of file 0.
	files[1][0].logTime = files[0][5].logTime
	for f := range files {
		sort.SliceStable(files[f], func(i, j int) bool { return files[f][i].logTime < files[f][j].logTime })
	}
	return files, ids
}

// mergeOrder is the order a reader must yield: by log time, then file, then
// position in the file.
func mergeOrder(files [][]testMsg, want map[string]bool) []testMsg {
	type item struct {
		m       testMsg
		file, i int
	}
	var all []item
	for f, msgs := range files {
		for i, m := range msgs {
			if want == nil || want[m.topic] {
				all = append(all, item{m, f, i})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.m.logTime != b.m.logTime {
			return a.m.logTime < b.m.logTime
		}
		if a.file != b.file {
			return a.file < b.file
		}
		return a.i < b.i
	})
	out := make([]testMsg, len(all))
	for i, it := range all {
		out[i] = it.m
	}
	return out
}

// collect reads every message of the iterator.
func collect(t *testing.T, b *Bag, topics ...string) []testMsg {
	t.Helper()
	it, err := b.Messages(context.Background(), topics...)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []testMsg
	for it.Next() {
		m := it.Message()
		if tp := b.Info().Topic(m.Topic); tp == nil || tp.Type != m.Type {
			t.Fatalf("message on %s of type %s", m.Topic, m.Type)
		}
		out = append(out, testMsg{m.Topic, m.LogTime, bytes.Clone(m.Data)})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameMessages(t *testing.T, got, want []testMsg) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].topic != want[i].topic || got[i].logTime != want[i].logTime || !bytes.Equal(got[i].data, want[i].data) {
			t.Fatalf("message %d: %s %d %q, want %s %d %q", i, got[i].topic, got[i].logTime, got[i].data, want[i].topic, want[i].logTime, want[i].data)
		}
	}
}

// TestSplitBags reads three-file bags in both storages and several metadata
// versions; each file numbers its topics its own way.
func TestSplitBags(t *testing.T) {
	files, ids := splitBag()
	for _, storage := range []string{StorageSQLite3, StorageMCAP} {
		for _, version := range []int{4, 5, 8, 9} {
			t.Run(fmt.Sprintf("%s/v%d", storage, version), func(t *testing.T) {
				dir := t.TempDir()
				var tf []testFile
				for i, msgs := range files {
					name := fmt.Sprintf("bag_%d.%s", i, map[string]string{StorageSQLite3: "db3", StorageMCAP: "mcap"}[storage])
					if storage == StorageSQLite3 {
						writeDB3(t, filepath.Join(dir, name), 3+version/9, withIDs(ids[i]), msgs, nil, nil)
					} else {
						writeMCAP(t, filepath.Join(dir, name), mcap.WriterOptions{Chunked: true, ChunkSize: 256, Compression: mcap.CompressionZSTD}, withIDs(ids[i]), msgs)
					}
					tf = append(tf, testFile{rel: name, path: name, msgs: msgs})
				}
				writeMetadata(t, dir, version, storage, withIDs(ids[0]), tf, "", "")
				b, err := Open(context.Background(), dir)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				info := b.Info()
				if info.Version != version || info.MessageCount != 90 || len(info.RelativeFilePaths) != 3 {
					t.Fatalf("info %+v", info)
				}
				if version >= 5 && (len(info.Files) != 3 || info.Files[2].MessageCount != 30) {
					t.Fatalf("files %+v", info.Files)
				}
				if version >= 7 && (info.ROSDistro != "jazzy" || info.CustomData["operator"] != "test") {
					t.Fatalf("distro %q custom %v", info.ROSDistro, info.CustomData)
				}
				q := info.Topic("/a").OfferedQoS
				if len(q) != 1 || q[0].Reliability != "reliable" || q[0].History != "keep_last" || q[0].Depth != 10 || q[0].Deadline != math.MaxInt64 {
					t.Fatalf("QoS %+v", q)
				}
				if (version >= 8) != (info.Topic("/b").TypeDescriptionHash != "") {
					t.Fatalf("type hash %q", info.Topic("/b").TypeDescriptionHash)
				}
				sameMessages(t, collect(t, b), mergeOrder(files, nil))
				sameMessages(t, collect(t, b, "/c", "/b"), mergeOrder(files, map[string]bool{"/b": true, "/c": true}))
			})
		}
	}
}

// TestNoMetadata reads a split bag whose metadata.yaml is missing, as a
// recorder that crashed leaves it.
func TestNoMetadata(t *testing.T) {
	files, ids := splitBag()
	dir := t.TempDir()
	for i, msgs := range files {
		writeDB3(t, filepath.Join(dir, fmt.Sprintf("crashed_%d.db3", i)), 3, withIDs(ids[i]), msgs, nil, nil)
	}
	b, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	info := b.Info()
	if info.Version != 0 || info.StorageID != StorageSQLite3 || info.MessageCount != 90 || info.ROSDistro != "humble" ||
		strings.Join(info.RelativeFilePaths, ",") != "crashed_0.db3,crashed_1.db3,crashed_2.db3" {
		t.Fatalf("info %+v", info)
	}
	all := mergeOrder(files, nil)
	if info.Start.UnixNano() != all[0].logTime || info.End().UnixNano() != all[len(all)-1].logTime {
		t.Fatalf("span %v + %v", info.Start.UnixNano(), info.Duration)
	}
	var names []string
	for _, tp := range info.Topics {
		names = append(names, fmt.Sprintf("%s:%d", tp.Name, tp.MessageCount))
	}
	if strings.Join(names, " ") != "/a:40 /b:30 /c:20" {
		t.Fatalf("topics %v", names)
	}
	sameMessages(t, collect(t, b), all)
}

// TestMessageCompression reads message-compressed bags: every message is a
// zstd frame, and the sqlite rows were not inserted in id order.
func TestMessageCompression(t *testing.T) {
	files, ids := splitBag()
	msgs := files[0]
	rows := make([]int, len(msgs))
	for i := range rows {
		rows[i] = (i * 7) % len(msgs) // a permutation: 7 and 30 are coprime
	}
	for _, storage := range []string{StorageSQLite3, StorageMCAP} {
		t.Run(storage, func(t *testing.T) {
			dir := t.TempDir()
			name := "bag_0." + map[string]string{StorageSQLite3: "db3", StorageMCAP: "mcap"}[storage]
			compress := zstdCompress(t)
			if storage == StorageSQLite3 {
				writeDB3(t, filepath.Join(dir, name), 3, withIDs(ids[0]), msgs, compress, rows)
			} else {
				var cmsgs []testMsg
				for _, m := range msgs {
					cmsgs = append(cmsgs, testMsg{m.topic, m.logTime, compress(m.data)})
				}
				writeMCAP(t, filepath.Join(dir, name), mcap.WriterOptions{Chunked: true, ChunkSize: 1 << 20}, withIDs(ids[0]), cmsgs)
			}
			writeMetadata(t, dir, 5, storage, withIDs(ids[0]), []testFile{{name, name, msgs}}, "zstd", "MESSAGE")
			b, err := Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			sameMessages(t, collect(t, b), mergeOrder([][]testMsg{msgs}, nil))
		})
	}
}

// TestFileCompression reads file-compressed bags (as Humble names them:
// .zstd in relative_file_paths, not in files[].path) and lone compressed
// files; Close removes the decompressed copies.
func TestFileCompression(t *testing.T) {
	files, ids := splitBag()
	for _, storage := range []string{StorageSQLite3, StorageMCAP} {
		t.Run(storage, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			var tf []testFile
			for i, msgs := range files[:2] {
				name := fmt.Sprintf("bag_%d.%s", i, map[string]string{StorageSQLite3: "db3", StorageMCAP: "mcap"}[storage])
				path := filepath.Join(dir, name)
				if storage == StorageSQLite3 {
					writeDB3(t, path, 3, withIDs(ids[i]), msgs, nil, nil)
				} else {
					writeMCAP(t, path, mcap.WriterOptions{Chunked: true, ChunkSize: 512, Compression: mcap.CompressionLZ4}, withIDs(ids[i]), msgs)
				}
				zstdFile(t, path)
				tf = append(tf, testFile{rel: name + ".zstd", path: name, msgs: msgs})
			}
			writeMetadata(t, dir, 5, storage, withIDs(ids[0]), tf, "zstd", "FILE")
			b, err := Options{TempDir: tmp}.Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			sameMessages(t, collect(t, b), mergeOrder(files[:2], nil))
			sameMessages(t, collect(t, b, "/a"), mergeOrder(files[:2], map[string]bool{"/a": true}))
			if n := countFiles(t, tmp); n != 2 {
				t.Fatalf("%d decompressed copies, want 2 (one per file, reused)", n)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if n := countFiles(t, tmp); n != 0 {
				t.Fatalf("%d decompressed copies left after Close", n)
			}
			if _, err := b.Messages(context.Background()); !errors.Is(err, ErrClosed) {
				t.Fatalf("Messages after Close: %v", err)
			}

			lone, err := Options{TempDir: tmp}.Open(context.Background(), filepath.Join(dir, tf[1].rel))
			if err != nil {
				t.Fatal(err)
			}
			defer lone.Close()
			if li := lone.Info(); li.MessageCount != 30 || li.CompressionMode != "FILE" || li.Files[0].Path != tf[1].path {
				t.Fatalf("lone info %+v", li)
			}
			sameMessages(t, collect(t, lone), files[1])
		})
	}
}

func countFiles(t *testing.T, dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestMCAPVariants reads MCAP files written every way the format allows:
// chunked or not, compressed or not, indexed or not, with messages written
// out of log-time order across overlapping chunks.
func TestMCAPVariants(t *testing.T) {
	files, ids := splitBag()
	inOrder := files[0]
	// Out of order: swap neighbours so that chunks overlap in time.
	shuffled := append([]testMsg(nil), inOrder...)
	for i := 0; i+3 < len(shuffled); i += 4 {
		shuffled[i], shuffled[i+3] = shuffled[i+3], shuffled[i]
	}
	variants := []struct {
		name string
		opts mcap.WriterOptions
		msgs []testMsg
	}{
		{"chunked-none", mcap.WriterOptions{Chunked: true, ChunkSize: 200, IncludeCRC: true}, inOrder},
		{"chunked-zstd", mcap.WriterOptions{Chunked: true, ChunkSize: 200, Compression: mcap.CompressionZSTD, IncludeCRC: true}, inOrder},
		{"chunked-lz4", mcap.WriterOptions{Chunked: true, ChunkSize: 200, Compression: mcap.CompressionLZ4}, inOrder},
		{"unchunked", mcap.WriterOptions{}, inOrder},
		{"unchunked-out-of-order", mcap.WriterOptions{}, shuffled},
		{"chunked-out-of-order", mcap.WriterOptions{Chunked: true, ChunkSize: 150, Compression: mcap.CompressionZSTD}, shuffled},
		{"no-chunk-index", mcap.WriterOptions{Chunked: true, ChunkSize: 200, SkipChunkIndex: true, SkipMessageIndexing: true}, shuffled},
		{"no-summary", mcap.WriterOptions{Chunked: true, ChunkSize: 200, SkipChunkIndex: true, SkipMessageIndexing: true, SkipStatistics: true,
			SkipRepeatedSchemas: true, SkipRepeatedChannelInfos: true, SkipSummaryOffsets: true, SkipMetadataIndex: true}, inOrder},
	}
	want := mergeOrder([][]testMsg{inOrder}, nil)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.mcap")
			writeMCAP(t, path, v.opts, withIDs(ids[0]), v.msgs)
			b, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if info := b.Info(); info.MessageCount != 30 || info.Start.UnixNano() != want[0].logTime || info.End().UnixNano() != want[29].logTime || info.Topic("/c") == nil || info.Topic("/c").MessageCount != 10 {
				t.Fatalf("info %+v", info)
			}
			sameMessages(t, collect(t, b), mergeOrderStable(v.msgs))
			sameMessages(t, collect(t, b, "/b"), filterTopic(mergeOrderStable(v.msgs), "/b"))
		})
	}
}

// mergeOrderStable orders one file's messages by log time, ties in the
// order written.
func mergeOrderStable(msgs []testMsg) []testMsg {
	out := append([]testMsg(nil), msgs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].logTime < out[j].logTime })
	return out
}

func filterTopic(msgs []testMsg, topic string) []testMsg {
	var out []testMsg
	for _, m := range msgs {
		if m.topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// TestTruncatedMCAP reads an MCAP cut short, as a killed recorder leaves
// it: the messages before the cut, then an error.
func TestTruncatedMCAP(t *testing.T) {
	files, ids := splitBag()
	path := filepath.Join(t.TempDir(), "cut.mcap")
	writeMCAP(t, path, mcap.WriterOptions{Chunked: true, ChunkSize: 300}, withIDs(ids[0]), files[0])
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := openMCAP(bytes.NewReader(data[:len(data)/2]), int64(len(data)/2), "cut.mcap", DefaultMaxChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.blocks) == 0 || !errors.Is(f.scanErr, ErrCorrupt) {
		t.Fatalf("%d blocks, scan error %v", len(f.blocks), f.scanErr)
	}
	_, err = Open(context.Background(), path)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "cut.mcap") {
		t.Fatalf("open a truncated file: %v", err)
	}
	r, err := newMCAPReaderAt(bytes.NewReader(data[:len(data)/2]), int64(len(data)/2), "cut.mcap", nil, &Options{MaxChunkSize: DefaultMaxChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	n := 0
	for {
		ok, err := r.next(&m)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatal(err)
			}
			break
		}
		if !ok {
			t.Fatal("end without the truncation error")
		}
		if m.LogTime != files[0][n].logTime || !bytes.Equal(m.Data, files[0][n].data) {
			t.Fatalf("message %d differs", n)
		}
		n++
	}
	if n == 0 || n >= len(files[0]) {
		t.Fatalf("%d messages before the cut", n)
	}
}

// TestBounded checks that declared sizes are checked before allocating.
func TestBounded(t *testing.T) {
	files, ids := splitBag()
	path := filepath.Join(t.TempDir(), "x.mcap")
	writeMCAP(t, path, mcap.WriterOptions{Chunked: true, ChunkSize: 1 << 20, Compression: mcap.CompressionZSTD}, withIDs(ids[0]), files[0])
	b, err := Options{MaxChunkSize: 64}.Open(context.Background(), path)
	if err == nil {
		b.Close()
	}
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Options.MaxChunkSize") {
		t.Fatalf("chunk over MaxChunkSize: %v", err)
	}

	// A chunk declaring 1 TiB once decompressed.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := openMCAP(bytes.NewReader(data), int64(len(data)), "x.mcap", DefaultMaxChunkSize)
	if err != nil || len(f.blocks) != 1 {
		t.Fatalf("%v, %d blocks", err, len(f.blocks))
	}
	off := f.blocks[0].offset + recordHeaderLen + 16 // after the start and end times
	putUint64(data[off:], 1<<40)
	r, err := newMCAPReaderAt(bytes.NewReader(data), int64(len(data)), "x.mcap", nil, &Options{MaxChunkSize: DefaultMaxChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if _, err := r.next(&m); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("1 TiB chunk: %v", err)
	}

	// A message-compressed bag whose frame decompresses past the cap.
	dir := t.TempDir()
	big := []testMsg{{"/a", 1, make([]byte, 1<<16)}}
	writeDB3(t, filepath.Join(dir, "b.db3"), 3, withIDs(ids[0]), big, zstdCompress(t), nil)
	writeMetadata(t, dir, 5, StorageSQLite3, withIDs(ids[0]), []testFile{{"b.db3", "b.db3", big}}, "zstd", "MESSAGE")
	b, err = Options{MaxChunkSize: 1 << 10}.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	it, err := b.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if it.Next() || !errors.Is(it.Err(), ErrCorrupt) {
		t.Fatalf("message over the cap: %v", it.Err())
	}
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

func TestMessagesErrors(t *testing.T) {
	ctx := context.Background()
	b, err := Open(ctx, "testdata/real_humble/mixed_mcap")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Messages(ctx, "/imu", "/nope")
	if !errors.Is(err, ErrNoTopic) || err.Error() != `rosbag: no such topic: "/nope" (the bag has /scan, /lidar/points, /imu, /chatter)` {
		t.Fatalf("unknown topic: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	it, err := b.Messages(cctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		if n++; n == 10 {
			cancel()
		}
	}
	if n != 10 || !errors.Is(it.Err(), context.Canceled) {
		t.Fatalf("after cancel: %d messages, %v", n, it.Err())
	}
	if it.Next() {
		t.Fatal("Next after the end")
	}
	m := Message{LogTime: 1_500_000_000_123_456_789}
	if !m.Time().Equal(time.Unix(1_500_000_000, 123_456_789)) {
		t.Fatal("Message.Time")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	meta := func(t *testing.T, body string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, metadataFile), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	base := func(version int, storage, format, mode, rel string) string {
		return fmt.Sprintf("rosbag2_bagfile_information:\n  version: %d\n  storage_identifier: %s\n  compression_format: %q\n  compression_mode: %q\n  relative_file_paths: [%s]\n", version, storage, format, mode, rel)
	}
	tests := []struct {
		name string
		path func(t *testing.T) string
		want error
		msg  string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, os.ErrNotExist, "rosbag: stat "},
		{"listed file missing", func(t *testing.T) string { return meta(t, base(5, "mcap", "", "", "gone.mcap")) }, os.ErrNotExist, "metadata.yaml lists gone.mcap: stat "},
		{"empty dir", func(t *testing.T) string { return t.TempDir() }, ErrCorrupt, "has neither metadata.yaml nor .db3 or .mcap files"},
		{"not yaml", func(t *testing.T) string { return meta(t, "{{{") }, ErrCorrupt, "rosbag: corrupt bag: metadata: yaml:"},
		{"no info", func(t *testing.T) string { return meta(t, "a: 1") }, ErrCorrupt, "no rosbag2_bagfile_information"},
		{"version 3", func(t *testing.T) string { return meta(t, base(3, "sqlite3", "", "", "a.db3")) }, ErrUnsupported, "metadata version 3 (this package reads versions 4 to 9)"},
		{"version 10", func(t *testing.T) string { return meta(t, base(10, "sqlite3", "", "", "a.db3")) }, ErrUnsupported, "metadata version 10"},
		{"storage", func(t *testing.T) string { return meta(t, base(5, "bag_v2", "", "", "a.db3")) }, ErrUnsupported, `storage "bag_v2"`},
		{"mode", func(t *testing.T) string { return meta(t, base(5, "mcap", "zstd", "STORAGE", "a.mcap")) }, ErrUnsupported, `compression mode "STORAGE"`},
		{"format", func(t *testing.T) string { return meta(t, base(5, "mcap", "bz2", "FILE", "a.mcap")) }, ErrUnsupported, `compression format "bz2"`},
		{"escape", func(t *testing.T) string { return meta(t, base(5, "mcap", "", "", "../a.mcap")) }, ErrCorrupt, `file "../a.mcap" is outside the bag directory`},
		{"no files", func(t *testing.T) string { return meta(t, base(5, "mcap", "", "", "")) }, ErrCorrupt, "no relative_file_paths"},
		{"bad qos", func(t *testing.T) string {
			return meta(t, base(5, "mcap", "", "", "a.mcap")+"  topics_with_message_count:\n    - topic_metadata: {name: /a, type: t, offered_qos_profiles: \"- [\"}\n")
		}, ErrCorrupt, "topic /a: offered_qos_profiles: yaml:"},
		{"not a bag file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.bag")
			os.WriteFile(p, []byte("x"), 0o644)
			return p
		}, ErrUnsupported, "x.bag is not a .db3 or .mcap file"},
		{"not mcap", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.mcap")
			os.WriteFile(p, []byte("not an mcap file at all"), 0o644)
			return p
		}, ErrCorrupt, "x.mcap: not an MCAP file"},
		{"not sqlite", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.db3")
			os.WriteFile(p, bytes.Repeat([]byte("not a database "), 100), 0o644)
			return p
		}, ErrCorrupt, "x.db3: read topics:"},
		{"bad zstd file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.db3.zstd")
			os.WriteFile(p, []byte("not zstd"), 0o644)
			return p
		}, ErrCorrupt, "decompress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Open(ctx, tt.path(t))
			if err == nil {
				b.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q, want %v saying %q", err, tt.want, tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q spans lines", err)
			}
		})
	}
	if _, err := (Options{MaxChunkSize: -1}).Open(ctx, "testdata/camera_humble_mcap"); err == nil || !strings.Contains(err.Error(), "Options.MaxChunkSize must not be negative") {
		t.Fatalf("negative MaxChunkSize: %v", err)
	}
}

func TestWriteInfo(t *testing.T) {
	info := Info{
		RelativeFilePaths: []string{"run_0.mcap", "run_1.mcap"},
		Size:              3 << 30,
		StorageID:         StorageMCAP,
		Start:             time.Unix(1_700_000_000, 5_000_000),
		Duration:          62*time.Second + 50*time.Millisecond,
		MessageCount:      3,
		Topics: []TopicInfo{
			{Name: "/a", Type: "std_msgs/msg/String", MessageCount: 1, SerializationFormat: "cdr"},
			{Name: "/b", Type: "sensor_msgs/msg/Image", MessageCount: 2, SerializationFormat: "cdr"},
		},
	}
	var buf bytes.Buffer
	if err := writeInfo(&buf, info, time.UTC); err != nil {
		t.Fatal(err)
	}
	want := `
Files:             run_0.mcap
                   run_1.mcap
Bag size:          3.0 GiB
Storage id:        mcap
Duration:          62.050000000s
Start:             Nov 14 2023 22:13:20.005000000 (1700000000.005000000)
End:               Nov 14 2023 22:14:22.055000000 (1700000062.055000000)
Messages:          3
Topic information: Topic: /a | Type: std_msgs/msg/String | Count: 1 | Serialization Format: cdr
                   Topic: /b | Type: sensor_msgs/msg/Image | Count: 2 | Serialization Format: cdr

`
	if buf.String() != want {
		t.Fatalf("got:\n%q\nwant:\n%q", buf.String(), want)
	}
	for n, s := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 353753: "345.5 KiB", 5 << 40: "5.0 TiB", 5 << 50: "5120.0 TiB"} {
		if got := formatSize(n); got != s {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, s)
		}
	}
	buf.Reset()
	if err := writeInfo(&buf, Info{Start: time.Unix(0, 0)}, time.UTC); err != nil || !strings.Contains(buf.String(), "Files:             \n") ||
		!strings.Contains(buf.String(), "Topic information: \n") || !strings.Contains(buf.String(), "Start:             Jan  1 1970 00:00:00.000000000 (0.000000000)") {
		t.Fatalf("empty info:\n%s", buf.String())
	}
}

func TestSortSplitNames(t *testing.T) {
	names := []string{"b_10.db3", "b_2.db3", "a_1.db3", "b_0.db3.zstd", "b_1.db3"}
	sortSplitNames(names)
	if got := strings.Join(names, " "); got != "a_1.db3 b_0.db3.zstd b_1.db3 b_2.db3 b_10.db3" {
		t.Fatal(got)
	}
}
