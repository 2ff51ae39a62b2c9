package cdr

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzTypes are the types FuzzDecode picks from with its first argument.
var fuzzTypes = []string{TypeHeader, TypeString, TypeImage, TypeCompressedImage, TypePointCloud2, TypeLaserScan, TypeImu}

// decodedSize is how many bytes the variable-length parts of m hold.
func decodedSize(m Message) int {
	switch m := m.(type) {
	case *Header:
		return len(m.FrameID)
	case *String:
		return len(m.Data)
	case *Image:
		return len(m.Header.FrameID) + len(m.Encoding) + len(m.Data)
	case *CompressedImage:
		return len(m.Header.FrameID) + len(m.Format) + len(m.Data)
	case *PointCloud2:
		n := len(m.Header.FrameID) + len(m.Data)
		for _, f := range m.Fields {
			n += len(f.Name) + pointFieldMinSize
		}
		return n
	case *LaserScan:
		return len(m.Header.FrameID) + 4*len(m.Ranges) + 4*len(m.Intensities)
	case *Imu:
		return len(m.Header.FrameID)
	}
	return 0
}

// FuzzDecode decodes arbitrary bytes as each known type. Whatever decodes
// must hold no more than the input, and must re-encode to bytes that decode
// to the same encoding again.
func FuzzDecode(f *testing.F) {
	for i, typ := range fuzzTypes {
		gen, err := New(typ)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), Marshal(gen))
		f.Add(uint8(i), MarshalAppend(nil, gen, true))
	}
	for _, fx := range fixtures {
		raw, err := os.ReadFile(filepath.Join("testdata", "msgs", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		for i, typ := range fuzzTypes {
			if typ == fx.typ && len(raw) < 4096 {
				f.Add(uint8(i), raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := fuzzTypes[int(which)%len(fuzzTypes)]
		m, err := Decode(typ, data)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		if n := decodedSize(m); n > len(data) {
			t.Fatalf("decoded %d bytes of content from %d input bytes", n, len(data))
		}
		be := data[1] == 0
		b1 := MarshalAppend(nil, m, be)
		m2, err := Decode(typ, b1)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if b2 := MarshalAppend(nil, m2, be); !bytes.Equal(b1, b2) {
			t.Fatal("encode(decode(encode(m))) differs from encode(m)")
		}
		if HasHeader(typ) {
			if _, err := HeaderStamp(data); err != nil {
				t.Fatalf("HeaderStamp fails on a decodable %s: %v", typ, err)
			}
		}
	})
}
