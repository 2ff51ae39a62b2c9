package sensor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
)

// Defaults of Options, shared with the CLI's flags.
const (
	DefaultSize    = "1024"
	DefaultWidth   = 640
	DefaultHeight  = 480
	DefaultFormat  = media.JPEG // of the synthetic camera
	DefaultQuality = 90
	DefaultTimeout = 5 * time.Second
	// MaxSampleSize bounds the random sensors' sample size: 1 GiB.
	MaxSampleSize = 1 << 30
	// maxSide bounds the synthetic camera's width and height.
	maxSide = 1 << 14
)

// ExecPrefix starts an exec sensor's type: "exec:COMMAND".
const ExecPrefix = "exec:"

// ErrClosed is returned by Sample after Close.
var ErrClosed = errors.New("sensor: closed")

// Types returns the names of the built-in sensor types, in the order the
// CLI lists them; "exec:COMMAND" stands for every exec sensor.
func Types() []string {
	return []string{"random-bytes", "random-string", "image", "image-folder", "synthetic-camera", "rosbag", "external", ExecPrefix + "COMMAND"}
}

// Open opens the sensor that o.Type names:
//
//   - "random-bytes", "random-string": random data of o.Size bytes ("N" or
//     "MIN:MAX", drawn per sample), seeded by o.Seed. Strings are printable
//     ASCII. PEERNet's spellings "random string" and "random_string" work too.
//   - "image": the image file o.DatasetLoc, read once; every sample carries
//     the same bytes, as in PEERNet. The encoding comes from the content
//     (JPEG or PNG); o.Format "rgb8", "bgr8" or "mono8" decodes it once to
//     raw pixels, "jpeg" or "png" converts it once.
//   - "image-folder": the JPEG and PNG files of the folder o.DatasetLoc in
//     name order, one file per sample, read (and converted as for "image")
//     at each sample; after the last file it starts again.
//   - "synthetic-camera": generated o.Width×o.Height frames (640x480) that
//     change every sample, as o.Format "jpeg" (the default, at o.Quality),
//     "png", "rgb8" or "bgr8"; when o.DatasetLoc names an image, frames are
//     drawn over it.
//   - "rosbag": messages replayed from the bag o.DatasetLoc.
//   - "external": the Go plugin symbol o.Object, "path/to/plugin.so::Symbol"
//     (see package goplugin). The symbol is a Sensor, a func() Sensor or
//     func() (Sensor, error), a func(context.Context, Options) (Sensor,
//     error) given o, or a func(context.Context) (Sample, error).
//   - "exec:COMMAND": a program speaking the exec protocol (see package
//     subprocess); each Sample waits at most o.Timeout for its reply.
//
// Samples of the random sensors and of the camera reuse one buffer, so
// Sample.Data is valid only until the next call, as [Sample] says. Every
// sensor returns ErrClosed after Close, and Close may be called twice.
func Open(ctx context.Context, o Options) (Sensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sensor: open: %w", err)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("sensor: Timeout %v is negative", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if len(o.Encoding) > media.MaxLen {
		return nil, fmt.Errorf("sensor: Encoding is %d bytes long, more than %d", len(o.Encoding), media.MaxLen)
	}
	typ := strings.TrimSpace(o.Type)
	if cmd, ok := strings.CutPrefix(typ, ExecPrefix); ok {
		return openExec(cmd, o)
	}
	switch typ {
	case "random-bytes", "random bytes", "random_bytes":
		return openRandom(o, false)
	case "random-string", "random string", "random_string":
		return openRandom(o, true)
	case "image":
		return openImage(o)
	case "image-folder", "image folder", "image_folder":
		return openFolder(o)
	case "synthetic-camera", "synthetic camera", "synthetic_camera":
		return openCamera(o)
	case "rosbag":
		return openRosbag(ctx, o)
	case "external":
		return openExternal(ctx, o)
	case "":
		return nil, fmt.Errorf("sensor: no sensor type given; known types: %s", strings.Join(Types(), ", "))
	}
	return nil, fmt.Errorf("sensor: unknown type %q; known types: %s", o.Type, strings.Join(Types(), ", "))
}

// closer tracks whether a sensor was closed.
type closer struct{ closed bool }

// check returns why Sample cannot run: closed, or ctx ended.
func (c *closer) check(ctx context.Context) error {
	if c.closed {
		return ErrClosed
	}
	return ctx.Err()
}
