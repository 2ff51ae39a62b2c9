package cdr_test

import (
	"errors"
	"fmt"

	"github.com/peernet/peernet_go/peernet_go/cdr"
)

func Example() {
	// Encode a 2x1 rgb8 image as a ROS 2 middleware would put it on the wire.
	raw := cdr.Marshal(&cdr.Image{
		Header:   cdr.Header{Stamp: cdr.Time{Sec: 1700000000, Nanosec: 5}, FrameID: "camera"},
		Height:   1,
		Width:    2,
		Encoding: "rgb8",
		Step:     6,
		Data:     []byte{255, 0, 0, 0, 255, 0},
	})

	msg, err := cdr.Decode("sensor_msgs/msg/Image", raw)
	if err != nil {
		panic(err)
	}
	img := msg.(*cdr.Image)
	fmt.Println(img.Width, img.Height, img.Encoding, img.Header.FrameID, img.Header.Stamp.Time().UnixNano(), img.Data)

	// Types without a decoder are passed through as raw bytes.
	if _, err := cdr.Decode("geometry_msgs/msg/Twist", raw); errors.Is(err, cdr.ErrUnknownType) {
		fmt.Println("pass through", len(raw), "bytes")
	}
	// Output:
	// 2 1 rgb8 camera 1700000000000000005 [255 0 0 0 255 0]
	// pass through 58 bytes
}

func ExampleHeaderStamp() {
	raw := cdr.Marshal(&cdr.CompressedImage{
		Header: cdr.Header{Stamp: cdr.Time{Sec: 12, Nanosec: 500}, FrameID: "camera"},
		Format: "jpeg",
	})
	if cdr.HasHeader("sensor_msgs/msg/CompressedImage") {
		stamp, err := cdr.HeaderStamp(raw)
		if err != nil {
			panic(err)
		}
		fmt.Println(stamp.Sec, stamp.Nanosec)
	}
	// Output: 12 500
}

func ExampleEncoder() {
	e := cdr.NewEncoder(false)
	e.Uint8(1)
	e.Float64(2.5) // aligned to 8 after the encapsulation header
	fmt.Printf("% x\n", e.Data())

	d, err := cdr.NewDecoder(e.Data())
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Uint8(), d.Float64(), d.Err())
	// Output:
	// 00 01 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 04 40
	// 1 2.5 <nil>
}
