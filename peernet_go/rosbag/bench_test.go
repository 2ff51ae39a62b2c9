package rosbag

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/foxglove/mcap/go/mcap"

	"github.com/peernet/peernet_go/peernet_go/cdr"
)

// benchFrames × 1 MiB Image messages make the benchmark bag.
const benchFrames = 256

// writeBenchBag writes an uncompressed, chunked MCAP of 1 MiB rgb8 images at
// 30 Hz, as rosbag2's MCAP storage does, and returns its path and the bytes
// of message payload it holds.
func writeBenchBag(b *testing.B) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "images.mcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := mcap.NewWriter(bw, &mcap.WriterOptions{Chunked: true, ChunkSize: 4 << 20, IncludeCRC: true})
	if err != nil {
		b.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(w.WriteHeader(&mcap.Header{Profile: "ros2", Library: "peernet bench"}))
	must(w.WriteSchema(&mcap.Schema{ID: 1, Name: cdr.TypeImage, Encoding: "ros2msg"}))
	must(w.WriteChannel(&mcap.Channel{ID: 1, SchemaID: 1, Topic: "/camera/image_raw", MessageEncoding: "cdr"}))
	img := &cdr.Image{Header: cdr.Header{FrameID: "camera"}, Height: 512, Width: 683, Encoding: "rgb8", Step: 683 * 3}
	img.Data = make([]byte, 1<<20-64)
	for i := range img.Data {
		img.Data[i] = byte(i * 7)
	}
	var payload int64
	var buf []byte
	for i := range benchFrames {
		t := uint64(1_700_000_000_000_000_000 + i*33_333_333)
		img.Header.Stamp = cdr.Time{Sec: int32(t / 1e9), Nanosec: uint32(t % 1e9)}
		buf = cdr.MarshalAppend(buf, img, false)
		payload += int64(len(buf))
		must(w.WriteMessage(&mcap.Message{ChannelID: 1, Sequence: uint32(i), LogTime: t, PublishTime: t, Data: buf}))
	}
	must(w.Close())
	must(bw.Flush())
	must(f.Close())
	return path, payload
}

// BenchmarkReadMCAP reads every message of a 256 MiB uncompressed MCAP
// held in the page cache, with this package ("rosbag") and, as the
// baseline, with the mcap library's own indexed reader in log-time order
// ("mcap-library"). MB/s is message payload read.
func BenchmarkReadMCAP(b *testing.B) {
	path, payload := writeBenchBag(b)
	ctx := context.Background()
	b.Run("rosbag", func(b *testing.B) {
		b.SetBytes(payload)
		for b.Loop() {
			bag, err := Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			it, err := bag.Messages(ctx)
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			for it.Next() {
				n += int64(len(it.Message().Data))
			}
			if it.Err() != nil || n != payload {
				b.Fatalf("read %d of %d bytes: %v", n, payload, it.Err())
			}
			it.Close()
			bag.Close()
		}
	})
	b.Run("mcap-library", func(b *testing.B) {
		b.SetBytes(payload)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := mcap.NewReader(f)
			if err != nil {
				b.Fatal(err)
			}
			it, err := r.Messages(mcap.UsingIndex(true), mcap.InOrder(mcap.LogTimeOrder))
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			var msg mcap.Message
			for {
				_, _, m, err := it.NextInto(&msg)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n += int64(len(m.Data))
			}
			if n != payload {
				b.Fatalf("read %d of %d bytes", n, payload)
			}
			r.Close()
			f.Close()
		}
	})
}
