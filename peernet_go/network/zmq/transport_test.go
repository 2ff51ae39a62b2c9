package zmq

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/wire"
)

func TestPeerNames(t *testing.T) {
	tests := []struct {
		id   string
		want string
	}{
		{"edge-5f2c09ab", "edge-5f2c09ab"},
		{"\x00\x6b\x8b\x45\x67", "%006b8b4567"},
		{"%abc", "%25616263"},
		{"a b", "%612062"},
		{"", ""},
	}
	for _, tt := range tests {
		got := peerName([]byte(tt.id))
		if got != tt.want {
			t.Errorf("peerName(%q) = %q, want %q", tt.id, got, tt.want)
		}
		back, err := peerID(nil, got)
		if err != nil || string(back) != tt.id {
			t.Errorf("peerID(%q) = %q, %v; want %q", got, back, err, tt.id)
		}
	}
	if _, err := peerID(nil, "%zz"); err == nil || !strings.Contains(err.Error(), "bad hex identity") {
		t.Errorf("peerID(%%zz) = %v", err)
	}
}

// FuzzPeerName: every identity has a name that leads back to it.
func FuzzPeerName(f *testing.F) {
	f.Add([]byte("edge-5f2c09ab"))
	f.Add([]byte{0, 1, 2, 3, 4})
	f.Add([]byte("%41"))
	f.Fuzz(func(t *testing.T, id []byte) {
		name := peerName(id)
		back, err := peerID(nil, name)
		if err != nil || !bytes.Equal(back, id) {
			t.Fatalf("identity %q named %q comes back as %q, %v", id, name, back, err)
		}
	})
}

// partsCases drive TestDecodeParts and seed FuzzDecodeParts.
var partsCases = []struct {
	name  string
	parts [][]byte
	max   int
	err   error // nil: decodes
}{
	{"two parts", split(wire.Frame{Kind: wire.Request, Seq: 1, Encoding: "bytes", Payload: []byte("abc")}), 0, nil},
	{"empty payload", split(wire.Frame{Kind: wire.Probe, Seq: 2}), 0, nil},
	{"one part", [][]byte{marshal(wire.Frame{Kind: wire.Reply, Seq: 3, Payload: []byte("xyz")})}, 0, nil},
	{"payload short", [][]byte{split(wire.Frame{Kind: wire.Request, Payload: []byte("abc")})[0], []byte("ab")}, 0, ErrMalformed},
	{"header long", [][]byte{marshal(wire.Frame{Kind: wire.Request, Payload: []byte("abc")}), []byte("abc")}, 0, ErrMalformed},
	{"three parts", [][]byte{{1}, {2}, {3}}, 0, ErrMalformed},
	{"no parts", nil, 0, ErrMalformed},
	{"too large", split(wire.Frame{Kind: wire.Request, Payload: make([]byte, 100)}), 150, wire.ErrTooLarge},
	{"bad magic", [][]byte{[]byte("XX\x01"), nil}, 0, wire.ErrMagic},
}

func split(f wire.Frame) [][]byte {
	h, err := f.AppendHeader(nil)
	if err != nil {
		panic(err)
	}
	return [][]byte{h, f.Payload}
}

func marshal(f wire.Frame) []byte {
	b, err := f.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecodeParts(t *testing.T) {
	for _, tt := range partsCases {
		t.Run(tt.name, func(t *testing.T) {
			var f wire.Frame
			err := decodeParts(&f, tt.parts, tt.max)
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("error %v, want %v", err, tt.err)
			}
		})
	}
}

// FuzzDecodeParts: whatever decodes re-encodes to a frame that decodes the
// same, within the maximum, from its two parts and from one.
func FuzzDecodeParts(f *testing.F) {
	for _, c := range partsCases {
		switch len(c.parts) {
		case 1:
			f.Add(c.parts[0], []byte(nil), false, c.max)
		case 2:
			f.Add(c.parts[0], c.parts[1], true, c.max)
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte, two bool, max int) {
		max %= 1 << 20
		parts := [][]byte{a}
		if two {
			parts = append(parts, b)
		}
		var fr wire.Frame
		if err := decodeParts(&fr, parts, max); err != nil {
			return
		}
		if max > 0 && fr.Len() > max {
			t.Fatalf("accepted a %d-byte frame over the maximum %d", fr.Len(), max)
		}
		for _, again := range [][][]byte{split(fr), {marshal(fr)}} {
			var g wire.Frame
			if err := decodeParts(&g, again, max); err != nil {
				t.Fatalf("re-encoded frame does not decode: %v", err)
			}
			if g.Kind != fr.Kind || g.Seq != fr.Seq || g.Times != fr.Times || g.Stages != fr.Stages ||
				g.Encoding != fr.Encoding || !bytes.Equal(g.Payload, fr.Payload) {
				t.Fatal("round trip changed the frame")
			}
		}
	})
}
