package udp

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"
)

func TestSequenceAccounting(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		ids                  []uint32
		lost, reordered, dup uint64
	}{
		{"in order", []uint32{5, 6, 7, 8}, 0, 0, 0},
		{"gap", []uint32{5, 6, 9}, 2, 0, 0},
		{"gap filled late", []uint32{5, 8, 6, 7}, 0, 2, 0},
		{"duplicate", []uint32{5, 6, 6, 5}, 0, 0, 2},
		{"wraps around", []uint32{math.MaxUint32 - 1, math.MaxUint32, 0, 2}, 1, 0, 0},
		{"late across the wrap", []uint32{math.MaxUint32, 1, 0}, 0, 1, 0},
		{"jump past the window", []uint32{1, 5000}, 4998, 0, 0},
		{"older than the window", []uint32{5000, 1}, 0, 1, 0},
		{"before the first", []uint32{10, 9}, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st counters
			var p peerState
			for _, id := range tc.ids {
				if p.seen(id) {
					st.duplicates.Add(1)
					continue
				}
				p.complete(id, &st)
			}
			s := st.stats()
			if s.Lost != tc.lost || s.Reordered != tc.reordered || s.Duplicates != tc.dup {
				t.Errorf("ids %v: lost %d, reordered %d, duplicates %d; want %d, %d, %d",
					tc.ids, s.Lost, s.Reordered, s.Duplicates, tc.lost, tc.reordered, tc.dup)
			}
		})
	}
}

func testReassembler(maxPartial, maxBytes int, timeout time.Duration) (*reassembler, *counters) {
	st := new(counters)
	o := &Options{MaxFrame: 1 << 20, MaxPartial: maxPartial, MaxPartialBytes: maxBytes, ReassemblyTimeout: timeout}
	return newReassembler(o, st), st
}

func mustFragment(t *testing.T, id uint32, index, count int, msg []byte) fragment {
	t.Helper()
	size := fragmentSize(len(msg), count)
	off := index * size
	f, err := decodeFragment(datagram(id, index, count, len(msg), msg[off:min(off+size, len(msg))]), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var testAddr = netip.MustParseAddrPort("10.0.0.1:5000")

func TestEvictOldest(t *testing.T) {
	r, st := testReassembler(3, 1<<20, time.Minute)
	ps := r.peer(testAddr)
	msg := bytes.Repeat([]byte("0123456789"), 100)
	now := time.Now()
	for id := range uint32(5) { // five partial messages, three allowed
		f := mustFragment(t, id, 0, 4, msg)
		if m, _, err := r.add(testAddr, ps, &f, now); m != nil || err != nil {
			t.Fatal(m, err)
		}
	}
	if len(r.order) != 3 || st.evicted.Load() != 2 {
		t.Fatalf("%d partial, %d evicted; want 3 and 2", len(r.order), st.evicted.Load())
	}
	// The oldest two (ids 0, 1) are gone: their other fragments start
	// new partial messages, evicting ids 2 and 3.
	for i := 1; i < 4; i++ {
		f := mustFragment(t, 4, i, 4, msg)
		m, owned, err := r.add(testAddr, ps, &f, now)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			if !owned || !bytes.Equal(m, msg) {
				t.Fatalf("message 4 not reassembled: %q", m)
			}
			r.release(m)
		}
	}
	if r.bytes != 3*len(msg)-len(msg) || len(r.order) != 2 {
		t.Errorf("%d bytes in %d partial messages after completing one", r.bytes, len(r.order))
	}
}

func TestEvictByBytes(t *testing.T) {
	r, st := testReassembler(100, 10_000, time.Minute)
	ps := r.peer(testAddr)
	msg := make([]byte, 4000)
	for id := range uint32(10) {
		f := mustFragment(t, id, 0, 3, msg)
		r.add(testAddr, ps, &f, time.Now())
		if r.bytes > 10_000 {
			t.Fatalf("%d bytes held, cap 10000", r.bytes)
		}
	}
	if n := len(r.order); n != 2 || st.evicted.Load() != 8 {
		t.Errorf("%d partial messages, %d evicted; want 2 and 8", n, st.evicted.Load())
	}
}

func TestSpareBuffersBounded(t *testing.T) {
	r, _ := testReassembler(100, 1<<30, time.Millisecond)
	ps := r.peer(testAddr)
	msg := make([]byte, 3000)
	start := time.Now()
	for id := range uint32(50) {
		f := mustFragment(t, id, 0, 3, msg)
		r.add(testAddr, ps, &f, start)
	}
	r.expire(start.Add(time.Second))
	if len(r.order) != 0 || r.bytes != 0 || len(r.spare) > spareBuffers {
		t.Errorf("after expiry: %d partial, %d bytes, %d spare buffers", len(r.order), r.bytes, len(r.spare))
	}
}

func TestInconsistentSiblings(t *testing.T) {
	r, _ := testReassembler(10, 1<<20, time.Minute)
	ps := r.peer(testAddr)
	a := mustFragment(t, 1, 0, 3, make([]byte, 300))
	b := mustFragment(t, 1, 1, 2, make([]byte, 300))
	r.add(testAddr, ps, &a, time.Now())
	if _, _, err := r.add(testAddr, ps, &b, time.Now()); !errors.Is(err, ErrFragment) {
		t.Errorf("fragment disagreeing with its siblings: %v", err)
	}
}

func TestPeersBounded(t *testing.T) {
	r, _ := testReassembler(10, 1<<20, time.Minute)
	for i := range maxPeers + 10 {
		r.peer(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(i+1)))
	}
	if len(r.peers) != maxPeers {
		t.Errorf("%d peers kept, cap %d", len(r.peers), maxPeers)
	}
	if _, ok := r.peers[netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), 1)]; ok {
		t.Error("the peer heard from least recently was kept")
	}
}
