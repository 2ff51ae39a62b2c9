package cdr

import (
	"encoding/binary"
	"math"
)

// Encoder writes CDR values after an encapsulation header, aligning each one
// as ROS 2 middlewares do. The zero Encoder writes little-endian CDR.
type Encoder struct {
	buf []byte
	be  bool
}

// NewEncoder returns an Encoder that writes big- or little-endian CDR.
func NewEncoder(bigEndian bool) *Encoder {
	e := new(Encoder)
	e.Reset(bigEndian, nil)
	return e
}

// Reset starts a new message in buf[:0], reusing its capacity.
func (e *Encoder) Reset(bigEndian bool, buf []byte) {
	e.be = bigEndian
	kind := byte(EncapsulationLE)
	if bigEndian {
		kind = EncapsulationBE
	}
	e.buf = append(buf[:0], 0, kind, 0, 0)
}

func (e *Encoder) header() {
	if len(e.buf) < HeaderLen {
		e.Reset(e.be, e.buf)
	}
}

// Data returns the message written so far, header included. It aliases the
// Encoder's buffer until the next Reset.
func (e *Encoder) Data() []byte {
	e.header()
	return e.buf
}

// Align writes the zero padding before a value of size n (1, 2, 4 or 8).
func (e *Encoder) Align(n int) {
	e.header()
	off := len(e.buf) - HeaderLen
	for p := (off + n - 1) &^ (n - 1); off < p; off++ {
		e.buf = append(e.buf, 0)
	}
}

// Uint8 writes a uint8.
func (e *Encoder) Uint8(v uint8) {
	e.header()
	e.buf = append(e.buf, v)
}

// Int8 writes an int8.
func (e *Encoder) Int8(v int8) { e.Uint8(uint8(v)) }

// Bool writes a bool as one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	var b uint8
	if v {
		b = 1
	}
	e.Uint8(b)
}

// Uint16 writes a uint16.
func (e *Encoder) Uint16(v uint16) {
	e.Align(2)
	if e.be {
		e.buf = binary.BigEndian.AppendUint16(e.buf, v)
	} else {
		e.buf = binary.LittleEndian.AppendUint16(e.buf, v)
	}
}

// Int16 writes an int16.
func (e *Encoder) Int16(v int16) { e.Uint16(uint16(v)) }

// Uint32 writes a uint32.
func (e *Encoder) Uint32(v uint32) {
	e.Align(4)
	if e.be {
		e.buf = binary.BigEndian.AppendUint32(e.buf, v)
	} else {
		e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
	}
}

// Int32 writes an int32.
func (e *Encoder) Int32(v int32) { e.Uint32(uint32(v)) }

// Uint64 writes a uint64.
func (e *Encoder) Uint64(v uint64) {
	e.Align(8)
	if e.be {
		e.buf = binary.BigEndian.AppendUint64(e.buf, v)
	} else {
		e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
	}
}

// Int64 writes an int64.
func (e *Encoder) Int64(v int64) { e.Uint64(uint64(v)) }

// Float32 writes a float32.
func (e *Encoder) Float32(v float32) { e.Uint32(math.Float32bits(v)) }

// Float64 writes a float64.
func (e *Encoder) Float64(v float64) { e.Uint64(math.Float64bits(v)) }

// SequenceLen writes the element count of a sequence.
func (e *Encoder) SequenceLen(n int) { e.Uint32(uint32(n)) }

// String writes a string with its terminating NUL.
func (e *Encoder) String(s string) {
	e.Uint32(uint32(len(s) + 1))
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
}

// Bytes writes a sequence<uint8>.
func (e *Encoder) Bytes(b []byte) {
	e.SequenceLen(len(b))
	e.buf = append(e.buf, b...)
}

// Float32s writes a sequence<float32>.
func (e *Encoder) Float32s(v []float32) {
	e.SequenceLen(len(v))
	e.Float32Array(v)
}

// Float64s writes a sequence<float64>.
func (e *Encoder) Float64s(v []float64) {
	e.SequenceLen(len(v))
	e.Float64Array(v)
}

// Float32Array writes the values of a fixed-size float32 array.
func (e *Encoder) Float32Array(v []float32) {
	if len(v) == 0 {
		return
	}
	for _, f := range v {
		e.Float32(f)
	}
}

// Float64Array writes the values of a fixed-size float64 array.
func (e *Encoder) Float64Array(v []float64) {
	if len(v) == 0 {
		return
	}
	for _, f := range v {
		e.Float64(f)
	}
}
