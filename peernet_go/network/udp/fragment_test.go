package udp

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// fragmentCases drive TestDecodeFragment and seed FuzzDecodeFragment.
var fragmentCases = []struct {
	name string
	b    []byte
	max  int
	err  error // nil: decodes
}{
	{"one fragment", datagram(7, 0, 1, 5, []byte("hello")), 100, nil},
	{"empty message", datagram(8, 0, 1, 0, nil), 100, nil},
	{"first of three", datagram(9, 0, 3, 10, []byte("abcd")), 100, nil},
	{"last of three", datagram(9, 2, 3, 10, []byte("ij")), 100, nil},
	{"short last", datagram(9, 2, 3, 10, []byte("i")), 100, ErrFragment},
	{"long middle", datagram(9, 1, 3, 10, []byte("efghx")), 100, ErrFragment},
	{"index past count", datagram(9, 3, 3, 10, nil), 100, ErrFragment},
	{"zero count", datagram(9, 0, 0, 10, nil), 100, ErrFragment},
	{"empty in two", datagram(9, 0, 2, 0, nil), 100, ErrFragment},
	{"fragment past the end", datagram(9, 5, 6, 5, nil), 100, ErrFragment},
	{"more fragments than split makes", datagram(9, 1, 48, 32, []byte("x")), 100, ErrFragment},
	{"too large", datagram(9, 0, 1000, 1<<30, make([]byte, 1<<20+1)), 1 << 20, ErrTooLarge},
	{"short", []byte("PU\x01"), 100, ErrShort},
	{"frame, not fragment", []byte("PN\x01\x01 not a fragment"), 100, ErrMagic},
	{"bad version", func() []byte { b := datagram(1, 0, 1, 1, []byte("x")); b[2] = 9; return b }(), 100, ErrVersion},
	{"flags set", func() []byte { b := datagram(1, 0, 1, 1, []byte("x")); b[3] = 1; return b }(), 100, ErrFragment},
}

func datagram(id uint32, index, count, total int, data []byte) []byte {
	return append(appendHeader(nil, id, index, count, total), data...)
}

func TestDecodeFragment(t *testing.T) {
	for _, tc := range fragmentCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := decodeFragment(tc.b, tc.max)
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("error %v, want %v", err, tc.err)
			case tc.err == nil && !bytes.Equal(f.data, tc.b[HeaderSize:]):
				t.Fatalf("data %q", f.data)
			}
		})
	}
}

// TestSplit: every size splits into fragments that each decode, fit the
// payload size, and cover the message exactly.
func TestSplit(t *testing.T) {
	for _, payload := range []int{64, 100, 1400, 8192} {
		for _, total := range []int{0, 1, 63, 64, 65, 99, 100, 101, 1399, 1400, 1401, 10_000, 65_536, 200_093} {
			count, size := split(total, payload)
			msg := make([]byte, total)
			for i := range msg {
				msg[i] = byte(i * 7)
			}
			got := make([]byte, total)
			for i := range count {
				off := i * size
				data := msg[off:min(off+size, total)]
				if len(data) > payload {
					t.Fatalf("payload %d, total %d: fragment %d carries %d bytes", payload, total, i, len(data))
				}
				f, err := decodeFragment(datagram(1, i, count, total, data), total)
				if err != nil {
					t.Fatalf("payload %d, total %d: fragment %d of %d: %v", payload, total, i, count, err)
				}
				copy(got[f.offset():], f.data)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("payload %d, total %d: reassembled message differs", payload, total)
			}
		}
	}
}

// FuzzDecodeFragment: whatever decodes lies within its message and the
// maximum, re-encodes to the same datagram, and the fragments of its
// message, rebuilt from the header, reassemble.
func FuzzDecodeFragment(f *testing.F) {
	for _, tc := range fragmentCases {
		f.Add(tc.b, tc.max)
	}
	f.Fuzz(func(t *testing.T, b []byte, maxTotal int) {
		maxTotal = max(0, maxTotal%(1<<24))
		fr, err := decodeFragment(b, maxTotal)
		if err != nil {
			return
		}
		if fr.total > maxTotal || fr.index >= fr.count || fr.count > MaxFragments {
			t.Fatalf("accepted %+v with maximum %d", fr, maxTotal)
		}
		if off := fr.offset(); off+len(fr.data) > fr.total || (fr.total > 0 && len(fr.data) == 0) {
			t.Fatalf("fragment %d of %d: %d bytes at %d of %d", fr.index, fr.count, len(fr.data), off, fr.total)
		}
		if again := datagram(fr.id, fr.index, fr.count, fr.total, fr.data); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, was %x", again, b)
		}
		if fr.count > 64 {
			return // keep each run small
		}
		r := newReassembler(&Options{MaxFrame: maxTotal, MaxPartial: 4, MaxPartialBytes: maxTotal, ReassemblyTimeout: time.Second}, new(counters))
		addr := netip.MustParseAddrPort("127.0.0.1:1")
		ps := r.peer(addr)
		size := fragmentSize(fr.total, fr.count)
		var msg []byte
		for i := range fr.count {
			off := i * size
			data := make([]byte, min(size, fr.total-off))
			if i == fr.index {
				data = fr.data
			}
			g, err := decodeFragment(datagram(fr.id, i, fr.count, fr.total, data), maxTotal)
			if err != nil {
				t.Fatalf("sibling fragment %d of %d: %v", i, fr.count, err)
			}
			m, _, err := r.add(addr, ps, &g, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if m != nil {
				if i != fr.count-1 {
					t.Fatalf("message complete after %d of %d fragments", i+1, fr.count)
				}
				msg = m
			}
		}
		if len(msg) != fr.total || !bytes.Equal(msg[fr.offset():fr.offset()+len(fr.data)], fr.data) {
			t.Fatalf("reassembled %d bytes, want %d with the fuzzed fragment in place", len(msg), fr.total)
		}
	})
}
