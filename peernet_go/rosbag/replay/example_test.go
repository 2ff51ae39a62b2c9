package replay_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/peernet/peernet_go/peernet_go/rosbag/replay"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// Replay the compressed camera frames of a bag as fast as possible.
func Example() {
	ctx := context.Background()
	s, err := replay.Open(ctx, sensor.Options{
		DatasetLoc: "../testdata/camera_humble_mcap",
		Topics:     []string{"/camera/image_raw/compressed"},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	n := 0
	for {
		smp, err := s.Sample(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			panic(err)
		}
		if n == 0 {
			fmt.Println(smp.Topic, smp.Encoding, len(smp.Data), smp.LogTime.UnixNano(), smp.Stamp.UnixNano())
		}
		n++
	}
	fmt.Println(n, "samples")
	// Output:
	// /camera/image_raw/compressed cdr:sensor_msgs/msg/CompressedImage 1051 1700000000129842736 1700000000123456789
	// 30 samples
}
