package cdr

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Decoder reads CDR values from one serialized message. Its methods keep the
// first error they meet and return zero values after it, so a message decoder
// can read every field and check [Decoder.Err] once at the end.
//
// The zero Decoder is empty; call [Decoder.Reset] before use.
type Decoder struct {
	data []byte // payload, after the encapsulation header
	off  int
	be   bool
	err  error
}

// NewDecoder returns a Decoder positioned after the encapsulation header of
// msg, or an error when the header is missing or unsupported.
func NewDecoder(msg []byte) (*Decoder, error) {
	d := new(Decoder)
	if err := d.Reset(msg); err != nil {
		return nil, err
	}
	return d, nil
}

// Reset makes d read msg from its start, forgetting any earlier error.
func (d *Decoder) Reset(msg []byte) error {
	be, err := encapsulation(msg)
	*d = Decoder{be: be, err: err}
	if err == nil {
		d.data = msg[HeaderLen:]
	}
	return err
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the read position, counted from the end of the
// encapsulation header.
func (d *Decoder) Offset() int { return d.off }

// Remaining returns the number of bytes not read yet. Bytes left after the
// last field are normal: middlewares pad messages to a multiple of 4.
func (d *Decoder) Remaining() int { return len(d.data) - d.off }

// BigEndian reports whether the message is big-endian.
func (d *Decoder) BigEndian() bool { return d.be }

func (d *Decoder) fail(need int, what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s needs %d bytes at offset %d, %d left", ErrTruncated, what, need, d.off, len(d.data)-d.off)
	}
}

// Align skips the padding before a value of size n (1, 2, 4 or 8).
func (d *Decoder) Align(n int) {
	if d.err != nil {
		return
	}
	p := (d.off + n - 1) &^ (n - 1)
	if p > len(d.data) {
		d.fail(p-d.off, "alignment padding")
		return
	}
	d.off = p
}

// take returns the next n bytes, after aligning to align.
func (d *Decoder) take(n, align int, what string) []byte {
	d.Align(align)
	if d.err != nil {
		return nil
	}
	if n > len(d.data)-d.off {
		d.fail(n, what)
		return nil
	}
	b := d.data[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// Uint8 reads a uint8 (also ROS byte and char).
func (d *Decoder) Uint8() uint8 {
	b := d.take(1, 1, "uint8")
	if b == nil {
		return 0
	}
	return b[0]
}

// Int8 reads an int8.
func (d *Decoder) Int8() int8 { return int8(d.Uint8()) }

// Bool reads a bool: one byte, any non-zero value is true.
func (d *Decoder) Bool() bool { return d.Uint8() != 0 }

// Uint16 reads a uint16.
func (d *Decoder) Uint16() uint16 {
	b := d.take(2, 2, "uint16")
	if b == nil {
		return 0
	}
	if d.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

// Int16 reads an int16.
func (d *Decoder) Int16() int16 { return int16(d.Uint16()) }

// Uint32 reads a uint32.
func (d *Decoder) Uint32() uint32 {
	b := d.take(4, 4, "uint32")
	if b == nil {
		return 0
	}
	if d.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// Int32 reads an int32.
func (d *Decoder) Int32() int32 { return int32(d.Uint32()) }

// Uint64 reads a uint64.
func (d *Decoder) Uint64() uint64 {
	b := d.take(8, 8, "uint64")
	if b == nil {
		return 0
	}
	if d.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// Int64 reads an int64.
func (d *Decoder) Int64() int64 { return int64(d.Uint64()) }

// Float32 reads a float32.
func (d *Decoder) Float32() float32 { return math.Float32frombits(d.Uint32()) }

// Float64 reads a float64.
func (d *Decoder) Float64() float64 { return math.Float64frombits(d.Uint64()) }

// SequenceLen reads the element count of a sequence whose elements take at
// least elemSize bytes each, and checks that so many elements fit in the
// bytes left. It returns 0 after an error.
func (d *Decoder) SequenceLen(elemSize int) int {
	n := d.Uint32()
	if d.err != nil {
		return 0
	}
	if elemSize < 1 {
		elemSize = 1
	}
	left := len(d.data) - d.off
	if uint64(n)*uint64(elemSize) > uint64(left) {
		if d.err == nil {
			d.err = fmt.Errorf("%w: sequence of %d elements of %d bytes at offset %d, %d bytes left", ErrTruncated, n, elemSize, d.off, left)
		}
		return 0
	}
	return int(n)
}

// String reads a string. A length of 0 (written by some encoders for the
// empty string) is accepted, and the terminating NUL is dropped.
func (d *Decoder) String() string {
	n := d.Uint32()
	if d.err != nil {
		return ""
	}
	b := d.take(int(min(uint64(n), math.MaxInt32)), 1, "string")
	if len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}

// Bytes reads a sequence<uint8>. The result aliases the message.
func (d *Decoder) Bytes() []byte {
	n := d.SequenceLen(1)
	if d.err != nil || n == 0 {
		return nil
	}
	return d.take(n, 1, "byte sequence")
}

// Float32s reads a sequence<float32> into a new slice.
func (d *Decoder) Float32s() []float32 {
	n := d.SequenceLen(4)
	if d.err != nil || n == 0 {
		return nil
	}
	out := make([]float32, n)
	d.Float32Array(out)
	return out
}

// Float64s reads a sequence<float64> into a new slice.
func (d *Decoder) Float64s() []float64 {
	n := d.Uint32()
	if d.err != nil || n == 0 {
		return nil
	}
	// Elements are 8-aligned: check the count after the padding.
	d.Align(8)
	if d.err == nil && uint64(n)*8 > uint64(len(d.data)-d.off) {
		d.fail(int(min(uint64(n)*8, math.MaxInt32)), "float64 sequence")
	}
	if d.err != nil {
		return nil
	}
	out := make([]float64, n)
	d.Float64Array(out)
	return out
}

// Float32Array reads len(dst) float32 values of a fixed-size array.
func (d *Decoder) Float32Array(dst []float32) {
	b := d.take(4*len(dst), 4, "float32 array")
	if b == nil {
		return
	}
	for i := range dst {
		var u uint32
		if d.be {
			u = binary.BigEndian.Uint32(b[4*i:])
		} else {
			u = binary.LittleEndian.Uint32(b[4*i:])
		}
		dst[i] = math.Float32frombits(u)
	}
}

// Float64Array reads len(dst) float64 values of a fixed-size array.
func (d *Decoder) Float64Array(dst []float64) {
	b := d.take(8*len(dst), 8, "float64 array")
	if b == nil {
		return
	}
	for i := range dst {
		var u uint64
		if d.be {
			u = binary.BigEndian.Uint64(b[8*i:])
		} else {
			u = binary.LittleEndian.Uint64(b[8*i:])
		}
		dst[i] = math.Float64frombits(u)
	}
}
