// Package cdr encodes and decodes ROS 2 messages in the Common Data
// Representation (plain CDR, XCDR version 1) that ROS 2 middlewares put on the
// wire and rosbag2 stores.
//
// A serialized ROS 2 message starts with a 4-byte encapsulation header:
// 00 01 for little-endian CDR, 00 00 for big-endian CDR, then two option bytes.
// Every primitive that follows is aligned to its own size (8 at most),
// counted from the first byte after the header. Strings are a uint32 length
// that includes a terminating NUL, then the bytes; sequences are a uint32
// element count, then the elements; fixed arrays have no length.
//
// [Decoder] and [Encoder] read and write those primitives. The message types
// of this package (std_msgs/msg/Header and String, sensor_msgs/msg/Image,
// CompressedImage, PointCloud2, LaserScan and Imu) implement [Message] on top
// of them. [Decode] picks the type by its ROS name and returns
// [ErrUnknownType] for any other type, whose bytes callers pass through as
// they are.
//
// Decoding is bounded: a length read from the message is checked against the
// bytes that are left before anything is allocated, so a corrupt message
// yields an error and never allocates more than its own size. Byte slices in
// decoded messages (Image.Data and the like) alias the input.
//
// Usage:
//
//	msg, err := cdr.Decode("sensor_msgs/msg/Image", raw)
//	if errors.Is(err, cdr.ErrUnknownType) {
//		// not a type this package knows: use raw as it is
//	}
//	img := msg.(*cdr.Image)
//	fmt.Println(img.Width, img.Height, img.Encoding, img.Header.Stamp.Time())
package cdr

import (
	"errors"
	"fmt"
)

// Encapsulation kinds of the first two header bytes.
const (
	// EncapsulationBE is the CDR_BE encapsulation identifier (00 00).
	EncapsulationBE = 0x0000
	// EncapsulationLE is the CDR_LE encapsulation identifier (00 01).
	EncapsulationLE = 0x0001
)

// HeaderLen is the size of the encapsulation header that starts every
// serialized message.
const HeaderLen = 4

// Errors that callers can test with errors.Is.
var (
	// ErrTruncated means the message ended before a value it announces.
	ErrTruncated = errors.New("cdr: message truncated")
	// ErrEncapsulation means the encapsulation header is missing or names a
	// representation other than plain little- or big-endian CDR.
	ErrEncapsulation = errors.New("cdr: unsupported encapsulation")
	// ErrUnknownType means the ROS type has no decoder in this package; the
	// message bytes are still valid and can be passed through as they are.
	ErrUnknownType = errors.New("cdr: unknown message type")
)

// encapsulation returns whether the header of msg says big-endian CDR.
func encapsulation(msg []byte) (bigEndian bool, err error) {
	if len(msg) < HeaderLen {
		return false, fmt.Errorf("%w: %d bytes, the encapsulation header needs %d", ErrTruncated, len(msg), HeaderLen)
	}
	switch kind := uint16(msg[0])<<8 | uint16(msg[1]); kind {
	case EncapsulationBE:
		return true, nil
	case EncapsulationLE:
		return false, nil
	default:
		return false, fmt.Errorf("%w: identifier 0x%04x (want 0x0000 CDR_BE or 0x0001 CDR_LE)", ErrEncapsulation, kind)
	}
}
