package rosbag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// decompressor decodes zstd or lz4 buffers, never producing more than max
// bytes. It is not safe for concurrent use.
type decompressor struct {
	max  int64
	zstd *zstd.Decoder
	lz4  *lz4.Reader
	src  bytes.Reader
}

func newDecompressor(max int64) *decompressor { return &decompressor{max: max} }

// decode decompresses src, appending to dst[:0]. A declared size ≥ 0 must
// match the output exactly; a negative one means unknown.
func (d *decompressor) decode(format string, src, dst []byte, declared int64) ([]byte, error) {
	if declared > d.max {
		return nil, fmt.Errorf("%w: %d bytes once decompressed, more than Options.MaxChunkSize (%d)", ErrUnsupported, declared, d.max)
	}
	if declared >= 0 && int64(cap(dst)) < declared {
		dst = make([]byte, 0, declared)
	}
	var out []byte
	var err error
	switch strings.ToLower(format) {
	case "zstd":
		if d.zstd == nil {
			d.zstd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(d.max)))
			if err != nil {
				return nil, fmt.Errorf("rosbag: zstd decoder: %w", err)
			}
		}
		out, err = d.zstd.DecodeAll(src, dst[:0])
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrCorrupt, err)
		}
	case "lz4":
		d.src.Reset(src)
		if d.lz4 == nil {
			d.lz4 = lz4.NewReader(&d.src)
		} else {
			d.lz4.Reset(&d.src)
		}
		out, err = readAllLimited(d.lz4, dst[:0], d.max)
		if err != nil {
			return nil, fmt.Errorf("%w: lz4: %w", ErrCorrupt, err)
		}
	default:
		return nil, fmt.Errorf("%w: compression %q (this package reads zstd and lz4)", ErrUnsupported, format)
	}
	if declared >= 0 && int64(len(out)) != declared {
		return nil, fmt.Errorf("%w: decompressed to %d bytes, %d declared", ErrCorrupt, len(out), declared)
	}
	return out, nil
}

func (d *decompressor) close() {
	if d != nil && d.zstd != nil {
		d.zstd.Close()
	}
}

// readAllLimited reads r to its end, appending to buf, and fails past max
// bytes. It grows buf only when r has more to give than buf holds.
func readAllLimited(r io.Reader, buf []byte, max int64) ([]byte, error) {
	for empty := 0; ; {
		prev := len(buf)
		var err error
		if len(buf) == cap(buf) {
			var probe [1]byte
			var n int
			n, err = io.ReadFull(r, probe[:])
			if n == 1 {
				buf = append(buf, probe[0])
			}
		} else {
			var n int
			n, err = r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		if int64(len(buf)) > max {
			return nil, fmt.Errorf("more than %d bytes once decompressed (Options.MaxChunkSize)", max)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if n := len(buf); n == prev {
			if empty++; empty > 100 {
				return nil, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
}

// decompressFile decompresses a file-compressed storage file into a new
// temporary file in dir and returns its path. The copy keeps the storage
// file's extension so that it is recognised.
func decompressFile(ctx context.Context, path, format, dir string, maxWindow int64) (_ string, err error) {
	in, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("rosbag: %w", err)
	}
	defer in.Close()
	var r io.Reader
	switch strings.ToLower(format) {
	case "zstd":
		zr, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(maxWindow)))
		if err != nil {
			return "", fmt.Errorf("%w: %s: zstd: %w", ErrCorrupt, path, err)
		}
		defer zr.Close()
		r = zr
	case "lz4":
		r = lz4.NewReader(in)
	default:
		return "", fmt.Errorf("%w: %s: file compression %q (this package reads zstd and lz4)", ErrUnsupported, path, format)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	out, err := os.CreateTemp(dir, "rosbag-*-"+name)
	if err != nil {
		return "", fmt.Errorf("rosbag: decompress %s: %w", path, err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("rosbag: decompress %s: %w", path, cerr)
		}
		if err != nil {
			_ = os.Remove(out.Name()) // best effort: err says what failed
		}
	}()
	if _, err := io.Copy(out, ctxReader{ctx, r}); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("rosbag: decompress %s: %w", path, ctx.Err())
		}
		return "", fmt.Errorf("%w: decompress %s: %w", ErrCorrupt, path, err)
	}
	return out.Name(), nil
}

// ctxReader stops reading once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
