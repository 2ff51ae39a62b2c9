package rosbag

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/foxglove/mcap/go/mcap"
	"github.com/klauspost/compress/zstd"
)

// Writers of test bags in the layouts rosbag2 uses, for what the reference
// bags do not cover: split files, message compression, MCAP variants.

type testTopic struct {
	id         int64 // topic or channel id in the file
	name, typ  string
	qos        string // offered_qos_profiles YAML string
	reliable   bool
	definition string
}

type testMsg struct {
	topic   string
	logTime int64
	data    []byte
}

func humbleQoS(reliable bool) string {
	r := 2
	if reliable {
		r = 1
	}
	return fmt.Sprintf("- history: 1\n  depth: 10\n  reliability: %d\n  durability: 2\n  deadline:\n    sec: 9223372036\n    nsec: 854775807\n  lifespan:\n    sec: 9223372036\n    nsec: 854775807\n  liveliness: 1\n  liveliness_lease_duration:\n    sec: 9223372036\n    nsec: 854775807\n  avoid_ros_namespace_conventions: false", r)
}

// writeDB3 writes a .db3 file with the Humble (schema 3) or Jazzy (schema 4)
// layout. Rows are inserted in the order of rowOrder (indexes into msgs)
// when given, with ids following msgs' order, as rosbag2's compressing
// writer does.
func writeDB3(t testing.TB, path string, schema int, topics []testTopic, msgs []testMsg, compress func([]byte) []byte, rowOrder []int) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	db, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Commit(); err != nil {
			t.Fatal(err)
		}
	}()
	ddl := []string{
		"CREATE TABLE schema(schema_version INTEGER PRIMARY KEY,ros_distro TEXT NOT NULL)",
		"CREATE TABLE metadata(id INTEGER PRIMARY KEY,metadata_version INTEGER NOT NULL,metadata TEXT NOT NULL)",
		"CREATE TABLE messages(id INTEGER PRIMARY KEY,topic_id INTEGER NOT NULL,timestamp INTEGER NOT NULL, data BLOB NOT NULL)",
		"CREATE INDEX timestamp_idx ON messages (timestamp ASC)",
	}
	if schema >= 4 {
		ddl = append(ddl,
			"CREATE TABLE topics(id INTEGER PRIMARY KEY,name TEXT NOT NULL,type TEXT NOT NULL,serialization_format TEXT NOT NULL,offered_qos_profiles TEXT NOT NULL,type_description_hash TEXT NOT NULL)",
			"CREATE TABLE message_definitions(id INTEGER PRIMARY KEY,topic_type TEXT NOT NULL,encoding TEXT NOT NULL,encoded_message_definition TEXT NOT NULL,type_description_hash TEXT NOT NULL)")
	} else {
		ddl = append(ddl, "CREATE TABLE topics(id INTEGER PRIMARY KEY,name TEXT NOT NULL,type TEXT NOT NULL,serialization_format TEXT NOT NULL,offered_qos_profiles TEXT NOT NULL)")
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range ddl {
		exec(q)
	}
	exec("INSERT INTO schema VALUES (?, ?)", schema, "humble")
	ids := map[string]int64{}
	for _, tp := range topics {
		ids[tp.name] = tp.id
		if schema >= 4 {
			exec("INSERT INTO topics VALUES (?, ?, ?, 'cdr', ?, ?)", tp.id, tp.name, tp.typ, tp.qos, "RIHS01_"+strings.Repeat("ab", 32))
		} else {
			exec("INSERT INTO topics VALUES (?, ?, ?, 'cdr', ?)", tp.id, tp.name, tp.typ, tp.qos)
		}
	}
	if rowOrder == nil {
		for i := range msgs {
			rowOrder = append(rowOrder, i)
		}
	}
	for _, i := range rowOrder {
		m := msgs[i]
		data := m.data
		if compress != nil {
			data = compress(data)
		}
		exec("INSERT INTO messages VALUES (?, ?, ?, ?)", i+1, ids[m.topic], m.logTime, data)
	}
}

// writeMCAP writes an MCAP file as rosbag2 does (profile ros2, one schema
// and channel per topic, QoS in the channel metadata), in msgs' order.
func writeMCAP(t testing.TB, path string, opts mcap.WriterOptions, topics []testTopic, msgs []testMsg) {
	t.Helper()
	var buf bytes.Buffer
	w, err := mcap.NewWriter(&buf, &opts)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteHeader(&mcap.Header{Profile: "ros2", Library: "peernet test"}))
	ids := map[string]uint16{}
	for _, tp := range topics {
		ids[tp.name] = uint16(tp.id)
		must(w.WriteSchema(&mcap.Schema{ID: uint16(tp.id), Name: tp.typ, Encoding: "ros2msg", Data: []byte(tp.definition)}))
		must(w.WriteChannel(&mcap.Channel{ID: uint16(tp.id), SchemaID: uint16(tp.id), Topic: tp.name, MessageEncoding: "cdr",
			Metadata: map[string]string{"offered_qos_profiles": tp.qos}}))
	}
	for i, m := range msgs {
		must(w.WriteMessage(&mcap.Message{ChannelID: ids[m.topic], Sequence: uint32(i), LogTime: uint64(m.logTime), PublishTime: uint64(m.logTime), Data: m.data}))
	}
	must(w.Close())
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testFile is one storage file of a test bag's metadata.
type testFile struct {
	rel, path string // relative_file_paths entry and files[].path
	msgs      []testMsg
}

// writeMetadata writes metadata.yaml of the given version in rosbag2's
// layout: QoS as a YAML string up to version 8, as a list in version 9.
func writeMetadata(t testing.TB, dir string, version int, storage string, topics []testTopic, files []testFile, format, mode string) {
	t.Helper()
	var all []testMsg
	for _, f := range files {
		all = append(all, f.msgs...)
	}
	span := func(msgs []testMsg) (start, dur int64) {
		lo, hi := msgs[0].logTime, msgs[0].logTime
		for _, m := range msgs {
			lo, hi = min(lo, m.logTime), max(hi, m.logTime)
		}
		return lo, hi - lo
	}
	start, dur := span(all)
	var b strings.Builder
	fmt.Fprintf(&b, "rosbag2_bagfile_information:\n  version: %d\n  storage_identifier: %s\n", version, storage)
	fmt.Fprintf(&b, "  duration:\n    nanoseconds: %d\n  starting_time:\n    nanoseconds_since_epoch: %d\n  message_count: %d\n", dur, start, len(all))
	b.WriteString("  topics_with_message_count:\n")
	for _, tp := range topics {
		n := 0
		for _, m := range all {
			if m.topic == tp.name {
				n++
			}
		}
		fmt.Fprintf(&b, "    - topic_metadata:\n        name: %s\n        type: %s\n        serialization_format: cdr\n", tp.name, tp.typ)
		if version >= 9 {
			rel := "best_effort"
			if tp.reliable {
				rel = "reliable"
			}
			fmt.Fprintf(&b, "        offered_qos_profiles:\n          - history: keep_last\n            depth: 10\n            reliability: %s\n            durability: volatile\n            deadline:\n              sec: 9223372036\n              nsec: 854775807\n            lifespan:\n              sec: 9223372036\n              nsec: 854775807\n            liveliness: automatic\n            liveliness_lease_duration:\n              sec: 9223372036\n              nsec: 854775807\n            avoid_ros_namespace_conventions: false\n", rel)
		} else {
			fmt.Fprintf(&b, "        offered_qos_profiles: %q\n", tp.qos)
		}
		if version >= 8 {
			b.WriteString("        type_description_hash: RIHS01_" + strings.Repeat("ab", 32) + "\n")
		}
		fmt.Fprintf(&b, "      message_count: %d\n", n)
	}
	fmt.Fprintf(&b, "  compression_format: %q\n  compression_mode: %q\n  relative_file_paths:\n", format, mode)
	for _, f := range files {
		fmt.Fprintf(&b, "    - %s\n", f.rel)
	}
	if version >= 5 {
		b.WriteString("  files:\n")
		for _, f := range files {
			s, d := span(f.msgs)
			fmt.Fprintf(&b, "    - path: %s\n      starting_time:\n        nanoseconds_since_epoch: %d\n      duration:\n        nanoseconds: %d\n      message_count: %d\n", f.path, s, d, len(f.msgs))
		}
	}
	if version >= 6 {
		b.WriteString("  custom_data:\n    operator: test\n")
	}
	if version >= 7 {
		b.WriteString("  ros_distro: jazzy\n")
	}
	if err := os.WriteFile(filepath.Join(dir, metadataFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func zstdCompress(t testing.TB) func([]byte) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(b []byte) []byte { return enc.EncodeAll(b, nil) }
}

// zstdFile compresses a file to path+".zstd" and removes the original.
func zstdFile(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".zstd", zstdCompress(t)(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
