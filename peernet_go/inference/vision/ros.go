package vision

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ROS 2 image message types a Pipeline accepts, as carried in the media
// encoding "cdr:<type>".
const (
	// ROSImageType is an uncompressed image.
	ROSImageType = "sensor_msgs/msg/Image"
	// ROSCompressedImageType is a JPEG or PNG image.
	ROSCompressedImageType = "sensor_msgs/msg/CompressedImage"
)

// This file reads and writes the few fields of the two image messages the
// pipeline needs. It is deliberately minimal; the project's general CDR codec
// (package cdr) can replace it once it provides these two messages.

// ROSHeader is std_msgs/msg/Header.
type ROSHeader struct {
	Sec     int32
	Nanosec uint32
	FrameID string
}

// ROSImage is sensor_msgs/msg/Image.
type ROSImage struct {
	Header      ROSHeader
	Height      uint32
	Width       uint32
	Encoding    string
	IsBigEndian uint8
	Step        uint32
	// Data aliases the buffer passed to UnmarshalCDR.
	Data []byte
}

// ROSCompressedImage is sensor_msgs/msg/CompressedImage.
type ROSCompressedImage struct {
	Header ROSHeader
	Format string
	// Data aliases the buffer passed to UnmarshalCDR.
	Data []byte
}

var errCDRShort = errors.New("truncated")

// cdrReader reads a CDR (XCDR1 or plain XCDR2) stream. Offsets are relative to
// the end of the 4-byte encapsulation header, as alignment is.
type cdrReader struct {
	b     []byte
	off   int
	order binary.ByteOrder
}

func newCDRReader(b []byte) (*cdrReader, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("encapsulation header: %w", errCDRShort)
	}
	if b[0] != 0 {
		return nil, fmt.Errorf("unknown encapsulation 0x%02x%02x", b[0], b[1])
	}
	var order binary.ByteOrder
	switch b[1] {
	case 0x00, 0x06: // CDR_BE, PLAIN_CDR2_BE
		order = binary.BigEndian
	case 0x01, 0x07: // CDR_LE, PLAIN_CDR2_LE
		order = binary.LittleEndian
	default:
		return nil, fmt.Errorf("unsupported encapsulation 0x%02x%02x", b[0], b[1])
	}
	return &cdrReader{b: b[4:], order: order}, nil
}

func (r *cdrReader) u32() (uint32, error) {
	r.off = (r.off + 3) &^ 3
	if r.off+4 > len(r.b) || r.off < 0 {
		return 0, errCDRShort
	}
	v := r.order.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

func (r *cdrReader) u8() (uint8, error) {
	if r.off >= len(r.b) {
		return 0, errCDRShort
	}
	v := r.b[r.off]
	r.off++
	return v, nil
}

// bytes reads a sequence<uint8>; the result aliases the input.
func (r *cdrReader) bytes() ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, fmt.Errorf("sequence of %d bytes with %d left: %w", n, len(r.b)-r.off, errCDRShort)
	}
	v := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return v, nil
}

// str reads a string (its length counts the terminating NUL).
func (r *cdrReader) str() (string, error) {
	b, err := r.bytes()
	if err != nil {
		return "", err
	}
	if n := len(b); n > 0 && b[n-1] == 0 {
		b = b[:n-1]
	}
	return string(b), nil
}

func (r *cdrReader) header(h *ROSHeader) error {
	sec, err := r.u32()
	if err != nil {
		return err
	}
	h.Sec = int32(sec)
	if h.Nanosec, err = r.u32(); err != nil {
		return err
	}
	h.FrameID, err = r.str()
	return err
}

// UnmarshalCDR decodes a CDR-serialised sensor_msgs/msg/Image. m.Data
// aliases b.
func (m *ROSImage) UnmarshalCDR(b []byte) error {
	if err := m.unmarshal(b); err != nil {
		return fmt.Errorf("vision: decode %s: %w", ROSImageType, err)
	}
	return nil
}

func (m *ROSImage) unmarshal(b []byte) error {
	r, err := newCDRReader(b)
	if err != nil {
		return err
	}
	if err := r.header(&m.Header); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if m.Height, err = r.u32(); err != nil {
		return fmt.Errorf("height: %w", err)
	}
	if m.Width, err = r.u32(); err != nil {
		return fmt.Errorf("width: %w", err)
	}
	if m.Encoding, err = r.str(); err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	if m.IsBigEndian, err = r.u8(); err != nil {
		return fmt.Errorf("is_bigendian: %w", err)
	}
	if m.Step, err = r.u32(); err != nil {
		return fmt.Errorf("step: %w", err)
	}
	if m.Data, err = r.bytes(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if m.Height > math.MaxInt32 || m.Width > math.MaxInt32 || m.Step > math.MaxInt32 {
		return fmt.Errorf("implausible size %dx%d step %d", m.Width, m.Height, m.Step)
	}
	return nil
}

// UnmarshalCDR decodes a CDR-serialised sensor_msgs/msg/CompressedImage.
// m.Data aliases b.
func (m *ROSCompressedImage) UnmarshalCDR(b []byte) error {
	if err := m.unmarshal(b); err != nil {
		return fmt.Errorf("vision: decode %s: %w", ROSCompressedImageType, err)
	}
	return nil
}

func (m *ROSCompressedImage) unmarshal(b []byte) error {
	r, err := newCDRReader(b)
	if err != nil {
		return err
	}
	if err := r.header(&m.Header); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if m.Format, err = r.str(); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	if m.Data, err = r.bytes(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// cdrWriter writes little-endian XCDR1.
type cdrWriter struct{ b []byte }

func (w *cdrWriter) u32(v uint32) {
	for (len(w.b)-4)%4 != 0 {
		w.b = append(w.b, 0)
	}
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

func (w *cdrWriter) bytes(v []byte) {
	w.u32(uint32(len(v)))
	w.b = append(w.b, v...)
}

func (w *cdrWriter) str(s string) {
	w.u32(uint32(len(s) + 1))
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
}

func (w *cdrWriter) header(h *ROSHeader) {
	w.u32(uint32(h.Sec))
	w.u32(h.Nanosec)
	w.str(h.FrameID)
}

// AppendCDR appends m serialised as little-endian CDR, with its
// encapsulation header, to b.
func (m *ROSImage) AppendCDR(b []byte) []byte {
	w := cdrWriter{b: []byte{0, 1, 0, 0}} // alignment counts from after the header
	w.header(&m.Header)
	w.u32(m.Height)
	w.u32(m.Width)
	w.str(m.Encoding)
	w.b = append(w.b, m.IsBigEndian)
	w.u32(m.Step)
	w.bytes(m.Data)
	return append(b, w.b...)
}

// AppendCDR appends m serialised as little-endian CDR, with its
// encapsulation header, to b.
func (m *ROSCompressedImage) AppendCDR(b []byte) []byte {
	w := cdrWriter{b: []byte{0, 1, 0, 0}}
	w.header(&m.Header)
	w.str(m.Format)
	w.bytes(m.Data)
	return append(b, w.b...)
}
