package vision

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

var rosImageCases = []ROSImage{
	{Header: ROSHeader{Sec: 1700000000, Nanosec: 123, FrameID: "camera"}, Height: 2, Width: 3, Encoding: "rgb8", Step: 9, Data: bytes.Repeat([]byte{7}, 18)},
	{Header: ROSHeader{Sec: -1, FrameID: ""}, Height: 1, Width: 1, Encoding: "mono8", IsBigEndian: 1, Step: 1, Data: []byte{9}},
	{Encoding: "", Data: []byte{}},
}

var rosCompressedCases = []ROSCompressedImage{
	{Header: ROSHeader{Sec: 5, Nanosec: 6, FrameID: "cam/left"}, Format: "jpeg", Data: []byte{0xff, 0xd8, 1, 2, 3}},
	{Format: "rgb8; png compressed bgr8", Data: []byte{}},
}

func TestROSImageRoundTrip(t *testing.T) {
	for _, c := range rosImageCases {
		b := c.AppendCDR([]byte("prefix"))
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatal("AppendCDR dropped the prefix")
		}
		var got ROSImage
		if err := got.UnmarshalCDR(b[6:]); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, c)
		}
	}
	for _, c := range rosCompressedCases {
		var got ROSCompressedImage
		if err := got.UnmarshalCDR(c.AppendCDR(nil)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, c)
		}
	}
}

// TestROSImageLayout pins the byte layout of a little-endian CDR
// sensor_msgs/msg/Image, as rclcpp serialises it.
func TestROSImageLayout(t *testing.T) {
	m := ROSImage{Header: ROSHeader{Sec: 1, Nanosec: 2, FrameID: "ab"}, Height: 1, Width: 2, Encoding: "mono8", Step: 2, Data: []byte{0xaa, 0xbb}}
	want := []byte{
		0, 1, 0, 0, // CDR_LE encapsulation
		1, 0, 0, 0, 2, 0, 0, 0, // stamp
		3, 0, 0, 0, 'a', 'b', 0, // frame_id with NUL
		0,          // padding to 4
		1, 0, 0, 0, // height
		2, 0, 0, 0, // width
		6, 0, 0, 0, 'm', 'o', 'n', 'o', '8', 0, // encoding
		0,          // is_bigendian
		0,          // padding to 4
		2, 0, 0, 0, // step
		2, 0, 0, 0, 0xaa, 0xbb, // data
	}
	if got := m.AppendCDR(nil); !bytes.Equal(got, want) {
		t.Fatalf("AppendCDR\n got %v\nwant %v", got, want)
	}
	// The same message big-endian.
	be := []byte{
		0, 0, 0, 0,
		0, 0, 0, 1, 0, 0, 0, 2,
		0, 0, 0, 3, 'a', 'b', 0, 0,
		0, 0, 0, 1,
		0, 0, 0, 2,
		0, 0, 0, 6, 'm', 'o', 'n', 'o', '8', 0,
		0, 0,
		0, 0, 0, 2,
		0, 0, 0, 2, 0xaa, 0xbb,
	}
	var got ROSImage
	if err := got.UnmarshalCDR(be); err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("big-endian: %+v, %v", got, err)
	}
}

func TestROSImageErrors(t *testing.T) {
	good := rosImageCases[0].AppendCDR(nil)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "encapsulation header: truncated"},
		{"encapsulation", []byte{0, 2, 0, 0}, "unsupported encapsulation 0x0002"},
		{"not cdr", []byte{1, 0, 0, 0}, "unknown encapsulation"},
		{"truncated", good[:len(good)-1], "data: sequence of 18 bytes with 17 left"},
		{"header", good[:10], "header: truncated"},
		{"huge string", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, "sequence of 4294967295 bytes"},
	} {
		var m ROSImage
		err := m.UnmarshalCDR(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "vision: decode sensor_msgs/msg/Image: ") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	var m ROSCompressedImage
	if err := m.UnmarshalCDR([]byte{0, 1, 0, 0, 0, 0}); err == nil || !strings.Contains(err.Error(), "CompressedImage: header") {
		t.Errorf("compressed: %v", err)
	}
}

// FuzzROSImage: decoding never panics, data always aliases the input (so
// nothing larger than the input is allocated), and what decodes re-encodes
// to bytes that decode to the same message.
func FuzzROSImage(f *testing.F) {
	for _, c := range rosImageCases {
		f.Add(c.AppendCDR(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m ROSImage
		if err := m.UnmarshalCDR(b); err != nil {
			return
		}
		if len(m.Data) > len(b) {
			t.Fatalf("%d data bytes from %d", len(m.Data), len(b))
		}
		var back ROSImage
		if err := back.UnmarshalCDR(m.AppendCDR(nil)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normROS(back), normROS(m)) {
			t.Fatalf("round trip\n got %+v\nwant %+v", back, m)
		}
	})
}

// FuzzROSCompressedImage is FuzzROSImage for CompressedImage.
func FuzzROSCompressedImage(f *testing.F) {
	for _, c := range rosCompressedCases {
		f.Add(c.AppendCDR(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m ROSCompressedImage
		if err := m.UnmarshalCDR(b); err != nil {
			return
		}
		var back ROSCompressedImage
		if err := back.UnmarshalCDR(m.AppendCDR(nil)); err != nil {
			t.Fatal(err)
		}
		if back.Header != m.Header || back.Format != m.Format || !bytes.Equal(back.Data, m.Data) {
			t.Fatalf("round trip\n got %+v\nwant %+v", back, m)
		}
	})
}

// normROS clears what a string cannot carry through CDR: text after an
// embedded NUL is kept, but an empty sequence decodes as empty, not nil.
func normROS(m ROSImage) ROSImage {
	if len(m.Data) == 0 {
		m.Data = nil
	}
	return m
}
