package udp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Fragment header layout (integers little endian), then the fragment's
// bytes of the encoded frame:
//
//	offset size field
//	0      2    magic "PU"
//	2      1    version (1)
//	3      1    flags: 0, or FlagAuth for an authenticated datagram
//	4      4    message id: the sender's sequence number of the frame
//	8      2    fragment index, from 0
//	10     2    fragment count, at least 1
//	12     4    total length of the encoded frame in bytes
//	16     …    fragment bytes
//
// A frame of T bytes sent in datagrams of at most P frame bytes is split
// into C = ceil(T/P) fragments of S = ceil(T/C) bytes each, the last one
// shorter: fragment i carries bytes [i·S, min((i+1)·S, T)). The receiver
// recomputes S from T and C, so each fragment's place and exact length are
// known from its own header, whatever order fragments arrive in. An empty
// frame is one fragment of no bytes. An authenticated datagram ends with a
// trailer after the fragment bytes (see FlagAuth).
const (
	// HeaderSize is the size of the fragment header.
	HeaderSize = 16
	// FragmentVersion is the header version this package writes and reads.
	FragmentVersion = 1
	// MaxFragments is the most fragments one frame may take.
	MaxFragments = 1<<16 - 1
	// MaxDatagram is the largest UDP payload over IPv4.
	MaxDatagram = 65507
)

var fragMagic = [2]byte{'P', 'U'}

// Errors of the fragment decoder; test with errors.Is. Recv reports them
// inside a *network.DecodeError.
var (
	ErrShort    = errors.New("udp: datagram shorter than a fragment header")
	ErrMagic    = errors.New("udp: not a peernet fragment")
	ErrVersion  = errors.New("udp: unsupported fragment version")
	ErrFragment = errors.New("udp: inconsistent fragment header")
	ErrTooLarge = errors.New("udp: message exceeds max_frame")
)

// fragment is a decoded datagram. data aliases the datagram.
type fragment struct {
	id           uint32
	index, count int
	total        int
	data         []byte
}

// fragmentSize returns the bytes each fragment of a total-byte message
// split into count fragments carries (the last may carry fewer).
func fragmentSize(total, count int) int {
	if total == 0 {
		return 0
	}
	return (total + count - 1) / count
}

// split returns how many fragments a total-byte message takes with at most
// payload bytes each, and their size.
func split(total, payload int) (count, size int) {
	if total == 0 {
		return 1, 0
	}
	count = (total + payload - 1) / payload
	return count, fragmentSize(total, count)
}

// appendHeader appends the header of fragment index of message id to dst.
func appendHeader(dst []byte, id uint32, index, count, total int) []byte {
	var h [HeaderSize]byte
	h[0], h[1] = fragMagic[0], fragMagic[1]
	h[2] = FragmentVersion
	le := binary.LittleEndian
	le.PutUint32(h[4:], id)
	le.PutUint16(h[8:], uint16(index))
	le.PutUint16(h[10:], uint16(count))
	le.PutUint32(h[12:], uint32(total))
	return append(dst, h[:]...)
}

// decodeFragment decodes datagram b, checking every field against the
// others and the message against maxTotal. It allocates nothing; data
// aliases b.
func decodeFragment(b []byte, maxTotal int) (fragment, error) {
	return decodeFragmentFlags(b, maxTotal, 0)
}

// decodeFragmentFlags is decodeFragment for datagrams whose header must
// carry flags: FlagAuth once an authenticated datagram's trailer is
// checked and cut off, 0 otherwise.
func decodeFragmentFlags(b []byte, maxTotal int, flags byte) (fragment, error) {
	if len(b) < HeaderSize {
		if len(b) >= 2 && (b[0] != fragMagic[0] || b[1] != fragMagic[1]) {
			return fragment{}, fmt.Errorf("%w: magic %#x", ErrMagic, b[:2])
		}
		return fragment{}, fmt.Errorf("%w: %d bytes, the header has %d", ErrShort, len(b), HeaderSize)
	}
	if b[0] != fragMagic[0] || b[1] != fragMagic[1] {
		return fragment{}, fmt.Errorf("%w: magic %#x", ErrMagic, b[:2])
	}
	if b[2] != FragmentVersion {
		return fragment{}, fmt.Errorf("%w: %d (this build reads version %d)", ErrVersion, b[2], FragmentVersion)
	}
	le := binary.LittleEndian
	f := fragment{
		id:    le.Uint32(b[4:]),
		index: int(le.Uint16(b[8:])),
		count: int(le.Uint16(b[10:])),
		total: int(le.Uint32(b[12:])),
		data:  b[HeaderSize:],
	}
	switch {
	case b[3] != flags && b[3] == FlagAuth:
		return fragment{}, fmt.Errorf("%w: an authenticated datagram (flags %#x), but no key is configured here", ErrFragment, b[3])
	case b[3] != flags:
		return fragment{}, fmt.Errorf("%w: flags %#x, want %#x", ErrFragment, b[3], flags)
	case f.total > maxTotal:
		return fragment{}, fmt.Errorf("%w: %d bytes announced, max_frame %d", ErrTooLarge, f.total, maxTotal)
	case f.count == 0:
		return fragment{}, fmt.Errorf("%w: fragment count 0", ErrFragment)
	case f.index >= f.count:
		return fragment{}, fmt.Errorf("%w: fragment %d of %d", ErrFragment, f.index, f.count)
	case f.total == 0 && f.count != 1:
		return fragment{}, fmt.Errorf("%w: empty message in %d fragments", ErrFragment, f.count)
	}
	size := fragmentSize(f.total, f.count)
	if f.total > 0 && (f.count-1)*size >= f.total {
		// split never makes a fragment that would start past the end.
		return fragment{}, fmt.Errorf("%w: %d fragments of %d bytes for a %d-byte message", ErrFragment, f.count, size, f.total)
	}
	off := f.index * size
	if want := min(size, f.total-off); len(f.data) != want {
		return fragment{}, fmt.Errorf("%w: fragment %d of %d has %d bytes, want %d", ErrFragment, f.index, f.count, len(f.data), want)
	}
	return f, nil
}

// offset returns where f's bytes go in the message.
func (f *fragment) offset() int { return f.index * fragmentSize(f.total, f.count) }
