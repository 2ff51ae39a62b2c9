// Package wire defines the frame every non-ROS transport carries between the
// edge and the cloud: a fixed, versioned binary header followed by the payload.
//
// The header carries the iteration's sequence number, the four timestamps of
// a request/reply exchange (client send, server receive, server send, client
// receive, as Unix nanoseconds on each side's clock), the server's stage
// durations, and the payload's encoding and length. Decoding is bounded: a
// frame that is truncated, longer than the caller's maximum or of an unknown
// version is rejected with an error. Nothing in a frame is ever executed or
// turned into an object other than the header fields and the payload bytes.
//
// Layout (all integers little endian):
//
//	offset size field
//	0      2    magic "PN"
//	2      1    version (1)
//	3      1    kind
//	4      2    flags (reserved, 0)
//	6      1    encoding length E
//	7      1    reserved (0)
//	8      8    sequence number
//	16     32   client send, server receive, server send, client receive (int64 ns)
//	48     32   queue, preprocess, inference, postprocess (int64 ns)
//	80     4    payload length P
//	84     4    reserved (0)
//	88     E    encoding (UTF-8)
//	88+E   P    payload
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Version is the frame format version this package writes and reads.
const Version = 1

// FixedHeaderSize is the size of the header without the encoding string.
const FixedHeaderSize = 88

// MaxEncodingLen is the longest encoding string a frame can carry.
const MaxEncodingLen = 255

// DefaultMaxSize is the largest frame accepted when the caller gives no
// maximum: 64 MiB.
const DefaultMaxSize = 64 << 20

var magic = [2]byte{'P', 'N'}

// Errors returned by Decode; test with errors.Is.
var (
	ErrTruncated = errors.New("wire: truncated frame")
	ErrTooLarge  = errors.New("wire: frame exceeds maximum size")
	ErrMagic     = errors.New("wire: not a peernet frame")
	ErrVersion   = errors.New("wire: unsupported frame version")
	ErrKind      = errors.New("wire: unknown frame kind")
)

// Kind says what a frame is for.
type Kind uint8

// Frame kinds.
const (
	// Request carries a sample from the edge to the cloud.
	Request Kind = 1 + iota
	// Reply carries the inference result back.
	Reply
	// Probe is a clock probe from the edge; it has no payload.
	Probe
	// ProbeReply answers a Probe with the server's receive and send times.
	ProbeReply
	// Bye tells the server that the client has finished its run.
	Bye
	// Error answers a Request that failed on the server; the payload is the
	// error text.
	Error
	kindEnd
)

var kindNames = [...]string{"", "request", "reply", "probe", "probe-reply", "bye", "error"}

// String returns the kind's name.
func (k Kind) String() string {
	if k > 0 && k < kindEnd {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Times are the four timestamps of one exchange, in Unix nanoseconds. The
// client writes ClientSend and ClientRecv with its clock, the server writes
// ServerRecv and ServerSend with its own.
type Times struct {
	ClientSend, ServerRecv, ServerSend, ClientRecv int64
}

// RTT returns the round-trip time seen by the client.
func (t Times) RTT() time.Duration { return time.Duration(t.ClientRecv - t.ClientSend) }

// Server returns the time the server held the request.
func (t Times) Server() time.Duration { return time.Duration(t.ServerSend - t.ServerRecv) }

// Stages are the server's stage durations for one request.
type Stages struct {
	Queue, Preprocess, Inference, Postprocess time.Duration
}

// Frame is one message. The zero value is not a valid frame: set Kind.
type Frame struct {
	Kind     Kind
	Seq      uint64
	Times    Times
	Stages   Stages
	Encoding string
	Payload  []byte

	// Peer identifies the remote end on transports that serve several
	// peers: Recv sets it and Send on the serving side routes by it. It is
	// not part of the encoded frame.
	Peer string
}

// HeaderLen returns the encoded size of the frame's header.
func (f *Frame) HeaderLen() int { return FixedHeaderSize + len(f.Encoding) }

// Len returns the encoded size of the whole frame.
func (f *Frame) Len() int { return f.HeaderLen() + len(f.Payload) }

// CheckLen returns an error wrapping ErrTooLarge when the encoded frame is
// longer than maxFrame bytes, a transport's max_frame.
func (f *Frame) CheckLen(maxFrame int) error {
	if n := f.Len(); n > maxFrame {
		return fmt.Errorf("%w: frame of %d bytes, max_frame is %d", ErrTooLarge, n, maxFrame)
	}
	return nil
}

// AppendHeader appends the encoded header (including the encoding string and
// the payload length, but not the payload) to dst. Transports that can send
// the payload separately use it to avoid copying large payloads.
func (f *Frame) AppendHeader(dst []byte) ([]byte, error) {
	if f.Kind == 0 || f.Kind >= kindEnd {
		return dst, fmt.Errorf("%w: %d", ErrKind, f.Kind)
	}
	if len(f.Encoding) > MaxEncodingLen {
		return dst, fmt.Errorf("wire: encoding %.20q… is %d bytes, longer than %d", f.Encoding, len(f.Encoding), MaxEncodingLen)
	}
	if uint64(len(f.Payload)) > 1<<32-1 {
		return dst, fmt.Errorf("%w: payload of %d bytes", ErrTooLarge, len(f.Payload))
	}
	var h [FixedHeaderSize]byte
	h[0], h[1] = magic[0], magic[1]
	h[2] = Version
	h[3] = byte(f.Kind)
	h[6] = byte(len(f.Encoding))
	le := binary.LittleEndian
	le.PutUint64(h[8:], f.Seq)
	le.PutUint64(h[16:], uint64(f.Times.ClientSend))
	le.PutUint64(h[24:], uint64(f.Times.ServerRecv))
	le.PutUint64(h[32:], uint64(f.Times.ServerSend))
	le.PutUint64(h[40:], uint64(f.Times.ClientRecv))
	le.PutUint64(h[48:], uint64(f.Stages.Queue))
	le.PutUint64(h[56:], uint64(f.Stages.Preprocess))
	le.PutUint64(h[64:], uint64(f.Stages.Inference))
	le.PutUint64(h[72:], uint64(f.Stages.Postprocess))
	le.PutUint32(h[80:], uint32(len(f.Payload)))
	dst = append(dst, h[:]...)
	return append(dst, f.Encoding...), nil
}

// Append appends the encoded frame, header then payload, to dst.
func (f *Frame) Append(dst []byte) ([]byte, error) {
	dst, err := f.AppendHeader(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, f.Payload...), nil
}

// Marshal returns the encoded frame in a new slice.
func (f *Frame) Marshal() ([]byte, error) { return f.Append(make([]byte, 0, f.Len())) }

// DecodeHeader reads a header from the start of b into f, leaving f.Payload
// and f.Peer untouched. It returns the header's length and the payload length
// the header announces; b need not contain the payload. maxSize bounds the
// whole frame (header and payload); 0 means DefaultMaxSize.
func (f *Frame) DecodeHeader(b []byte, maxSize int) (headerLen, payloadLen int, err error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if len(b) < 3 {
		return 0, 0, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(b), FixedHeaderSize)
	}
	if b[0] != magic[0] || b[1] != magic[1] {
		return 0, 0, fmt.Errorf("%w: magic %#x", ErrMagic, b[:2])
	}
	if b[2] != Version {
		return 0, 0, fmt.Errorf("%w: %d (this build reads version %d)", ErrVersion, b[2], Version)
	}
	if len(b) < FixedHeaderSize {
		return 0, 0, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(b), FixedHeaderSize)
	}
	k := Kind(b[3])
	if k == 0 || k >= kindEnd {
		return 0, 0, fmt.Errorf("%w: %d", ErrKind, b[3])
	}
	le := binary.LittleEndian
	encLen := int(b[6])
	headerLen = FixedHeaderSize + encLen
	payloadLen64 := uint64(le.Uint32(b[80:]))
	if uint64(headerLen)+payloadLen64 > uint64(maxSize) {
		return 0, 0, fmt.Errorf("%w: %d bytes announced, maximum %d", ErrTooLarge, uint64(headerLen)+payloadLen64, maxSize)
	}
	if len(b) < headerLen {
		return 0, 0, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(b), headerLen)
	}
	f.Kind = k
	f.Seq = le.Uint64(b[8:])
	f.Times = Times{
		ClientSend: int64(le.Uint64(b[16:])),
		ServerRecv: int64(le.Uint64(b[24:])),
		ServerSend: int64(le.Uint64(b[32:])),
		ClientRecv: int64(le.Uint64(b[40:])),
	}
	f.Stages = Stages{
		Queue:       time.Duration(le.Uint64(b[48:])),
		Preprocess:  time.Duration(le.Uint64(b[56:])),
		Inference:   time.Duration(le.Uint64(b[64:])),
		Postprocess: time.Duration(le.Uint64(b[72:])),
	}
	enc := b[FixedHeaderSize:headerLen]
	if string(enc) != f.Encoding { // reuse the previous string: no allocation on a steady stream
		f.Encoding = string(enc)
	}
	return headerLen, int(payloadLen64), nil
}

// Decode reads one whole frame from b into f. f.Payload aliases b; copy it if
// b is reused. maxSize bounds the frame; 0 means DefaultMaxSize. Trailing bytes
// after the payload are an error.
func (f *Frame) Decode(b []byte, maxSize int) error {
	hl, pl, err := f.DecodeHeader(b, maxSize)
	if err != nil {
		return err
	}
	switch {
	case len(b) < hl+pl:
		return fmt.Errorf("%w: payload has %d of %d bytes", ErrTruncated, len(b)-hl, pl)
	case len(b) > hl+pl:
		return fmt.Errorf("wire: %d bytes after the payload", len(b)-hl-pl)
	}
	f.Payload = b[hl : hl+pl : hl+pl]
	return nil
}

// Decode returns the frame encoded in b; see [Frame.Decode].
func Decode(b []byte, maxSize int) (*Frame, error) {
	f := new(Frame)
	if err := f.Decode(b, maxSize); err != nil {
		return nil, err
	}
	return f, nil
}
