package sensor

import "time"

// Options select and configure a built-in sensor; [Open] reads them. The CLI
// fills them from its flags. Fields a sensor does not use are ignored.
type Options struct {
	// Type names the sensor: "random-bytes", "random-string", "image",
	// "image-folder", "synthetic-camera", "rosbag", "external" (a Go
	// plugin named by Object), or "exec:COMMAND".
	Type string

	// Size is the sample size for the random sensors: "N" bytes or a range
	// "MIN:MAX" drawn uniformly per sample. It defaults to "1024".
	Size string
	// Seed seeds the random sensors. The default 0 picks a fixed seed, so
	// runs are repeatable.
	Seed uint64

	// DatasetLoc is the image file (image), folder (image-folder), optional
	// background image (synthetic-camera) or bag (rosbag).
	DatasetLoc string

	// Width and Height are the synthetic camera's frame size. They default
	// to 640x480.
	Width, Height int
	// Format is the synthetic camera's output, "rgb8" (raw) or "jpeg",
	// and the image sensors' output: "" keeps files as they are, "rgb8"
	// decodes them once to raw pixels. The camera defaults to "jpeg".
	Format string
	// Quality is the JPEG quality, 1–100. It defaults to 90.
	Quality int

	// Object is the Go plugin sensor, "path/to/plugin.so::Symbol".
	Object string
	// Encoding is the encoding declared for samples of external and exec
	// sensors. It defaults to media.Bytes.
	Encoding string

	// Topics are the rosbag topics to replay; empty means every topic.
	Topics []string
	// ReplayRate scales the recorded timing of a rosbag: 1 replays in real
	// time, 2 twice as fast, 0 as fast as possible (the default).
	ReplayRate float64
	// Loop restarts a rosbag from the beginning when it ends.
	Loop bool

	// Timeout bounds a single Sample call of sensors that wait on another
	// process. It defaults to 5 seconds.
	Timeout time.Duration
}
