// Package media names the encodings a sample or a result can carry, as
// short strings that travel in every wire frame.
//
// An encoding is one of the constants below, a raw image descriptor such as
// "rgb8:640x480" (see [RawImage]), or a ROS 2 message carried as CDR, such as
// "cdr:sensor_msgs/msg/Image" (see [ROS]). Anything else is passed through
// untouched; only consumers that understand an encoding interpret it.
package media

import (
	"fmt"
	"strconv"
	"strings"
)

// Well-known encodings.
const (
	// Bytes is opaque binary data.
	Bytes = "bytes"
	// Text is UTF-8 text.
	Text = "text"
	// JSON is a JSON document.
	JSON = "json"
	// JPEG is a JPEG-compressed image.
	JPEG = "jpeg"
	// PNG is a PNG-compressed image.
	PNG = "png"
)

// Pixel formats of raw images, spelled as sensor_msgs/Image encodings.
const (
	RGB8  = "rgb8"
	BGR8  = "bgr8"
	Mono8 = "mono8"
)

// cdrPrefix marks a ROS 2 message serialised as CDR.
const cdrPrefix = "cdr:"

// MaxLen is the longest encoding string a wire frame can carry.
const MaxLen = 255

// RawImage describes an uncompressed, tightly packed 8-bit image.
type RawImage struct {
	// Format is the pixel format: RGB8, BGR8 or Mono8.
	Format string
	// Width and Height are in pixels.
	Width, Height int
}

// Channels returns the number of bytes per pixel of the format, or 0 when the
// format is unknown.
func (r RawImage) Channels() int {
	switch r.Format {
	case RGB8, BGR8:
		return 3
	case Mono8:
		return 1
	}
	return 0
}

// Size returns the number of bytes one frame occupies.
func (r RawImage) Size() int { return r.Width * r.Height * r.Channels() }

// String returns the encoding, e.g. "rgb8:640x480".
func (r RawImage) String() string {
	return r.Format + ":" + strconv.Itoa(r.Width) + "x" + strconv.Itoa(r.Height)
}

// ParseRawImage parses an encoding written by [RawImage.String].
func ParseRawImage(enc string) (RawImage, error) {
	format, dims, ok := strings.Cut(enc, ":")
	if !ok {
		return RawImage{}, fmt.Errorf("media: %q is not a raw image encoding", enc)
	}
	ws, hs, ok := strings.Cut(dims, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	r := RawImage{Format: format, Width: w, Height: h}
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 1<<16 || h > 1<<16 {
		return RawImage{}, fmt.Errorf("media: %q: bad image size", enc)
	}
	if r.Channels() == 0 {
		return RawImage{}, fmt.Errorf("media: %q: unknown pixel format %q", enc, format)
	}
	return r, nil
}

// ROS returns the encoding of a CDR-serialised ROS 2 message of the given
// type, e.g. ROS("sensor_msgs/msg/Image") = "cdr:sensor_msgs/msg/Image".
func ROS(typeName string) string { return cdrPrefix + typeName }

// ROSType returns the ROS 2 type name of a CDR encoding and whether enc is one.
func ROSType(enc string) (string, bool) {
	t, ok := strings.CutPrefix(enc, cdrPrefix)
	return t, ok && t != ""
}
