package udp

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// sealedCases drive TestSealOpen and seed FuzzOpen.
var sealedCases = [][]byte{
	newAuthenticator(testKey).seal(append(appendHeader(nil, 7, 0, 1, 3), 'a', 'b', 'c'), 42),
	newAuthenticator(testKey).seal(appendHeader(nil, 1, 0, 1, 0), 1<<63),
	append(appendHeader(nil, 7, 0, 1, 3), 'a', 'b', 'c'), // no trailer
	make([]byte, HeaderSize+TrailerSize),                 // zeros
}

func TestSealOpen(t *testing.T) {
	a := newAuthenticator(testKey)
	d := sealedCases[0]
	body, session, err := a.open(d)
	if err != nil || session != 42 || !bytes.Equal(body, d[:len(d)-TrailerSize]) {
		t.Fatalf("open = %q, %d, %v", body, session, err)
	}
	for i := range d {
		bad := bytes.Clone(d)
		bad[i] ^= 0x40
		if _, _, err := a.open(bad); !errors.Is(err, ErrBadTag) {
			t.Errorf("byte %d flipped: %v", i, err)
		}
	}
	if _, _, err := newAuthenticator([]byte("another key, also long")).open(d); !errors.Is(err, ErrBadTag) {
		t.Errorf("other key: %v", err)
	}
	for _, short := range [][]byte{nil, d[:HeaderSize+TrailerSize-1], sealedCases[2]} {
		if _, _, err := a.open(short); !errors.Is(err, ErrBadTag) {
			t.Errorf("%d bytes: %v", len(short), err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { a.open(d) }); n != 0 {
		t.Errorf("open allocates %v times", n)
	}
}

func TestReplayFilter(t *testing.T) {
	r := newReplayFilter()
	a, b := netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2")
	if r.replay(9, 100, a) {
		t.Fatal("first datagram of a session is a replay")
	}
	r.delivered(9, 100, a)
	switch {
	case !r.replay(9, 100, b):
		t.Error("delivered message from another address is not a replay")
	case r.replay(9, 100, a):
		t.Error("a copy from the session's address is a replay (it is a duplicate)")
	case r.replay(9, 101, b) || r.replay(9, 99, b):
		t.Error("undelivered ids are replays")
	case r.replay(8, 100, b):
		t.Error("another session's id is a replay")
	}
	r.delivered(9, 100+windowBits+5, b) // far ahead, from a new address
	switch {
	case !r.replay(9, 100, a) || !r.replay(9, 100, b):
		t.Error("an id older than the window is not a replay")
	case !r.replay(9, 100+windowBits+5, a):
		t.Error("the latest id from the old address is not a replay")
	}
	for s := range uint64(maxSessions + 10) {
		r.delivered(1000+s, 1, a)
	}
	if len(r.sessions) > maxSessions {
		t.Errorf("%d sessions kept, cap %d", len(r.sessions), maxSessions)
	}
}

func TestParseKey(t *testing.T) {
	if _, err := checkKey("short"); err == nil {
		t.Error("short key accepted")
	}
	if _, err := checkKey(string(bytes.Repeat([]byte("k"), MaxKeySize+1))); err == nil {
		t.Error("long key accepted")
	}
	if k, err := checkKey(string(testKey)); err != nil || !bytes.Equal(k, testKey) {
		t.Errorf("good key: %q, %v", k, err)
	}
}

// FuzzOpen: open never panics; what opens re-seals to the same bytes;
// with seal set the input is first sealed as a sender would, and must then
// open to itself, and a body the fragment decoder takes carries FlagAuth.
func FuzzOpen(f *testing.F) {
	for _, d := range sealedCases {
		f.Add(d, false)
	}
	f.Add(append(appendHeader(nil, 7, 0, 1, 3), 'a', 'b', 'c'), true)
	a := newAuthenticator(testKey)
	f.Fuzz(func(t *testing.T, d []byte, seal bool) {
		var sent []byte
		if seal {
			sent = bytes.Clone(d)
			d = a.seal(bytes.Clone(d), 77)
		}
		body, session, err := a.open(d)
		if err != nil {
			if !errors.Is(err, ErrBadTag) {
				t.Fatalf("error %v is not ErrBadTag", err)
			}
			if seal && len(sent) >= HeaderSize {
				t.Fatalf("sealed datagram of %d bytes does not open: %v", len(sent), err)
			}
			return
		}
		if seal && (session != 77 || !bytes.Equal(body, sent)) {
			t.Fatalf("opened %x, session %d; sealed %x, session 77", body, session, sent)
		}
		if again := a.seal(bytes.Clone(body), session); !bytes.Equal(again, d) {
			t.Fatalf("re-sealed %x, want %x", again, d)
		}
		if fr, err := decodeFragmentFlags(body, 1<<20, FlagAuth); err == nil && body[3] != FlagAuth {
			t.Fatalf("decoded %+v without FlagAuth", fr)
		}
	})
}

func TestNewWriteKey(t *testing.T) {
	k, err := NewKey()
	if err != nil || len(k) != 64 {
		t.Fatalf("NewKey = %q, %v", k, err)
	}
	p := t.TempDir() + "/udp.key"
	if err := WriteKey(p, k, false); err != nil {
		t.Fatal(err)
	}
	o := Options{KeyFile: p}
	if err := o.Initialize(); err != nil {
		t.Fatal(err)
	}
	got, err := o.key()
	if err != nil || string(got) != k {
		t.Errorf("key read back %q, %v; want %q", got, err, k)
	}
	if err := WriteKey(p, k, false); err == nil {
		t.Error("WriteKey replaced a file without force")
	}
}
