package rosbag_test

import (
	"context"
	"fmt"
	"os"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/rosbag"
)

// Read the camera frames of a bag recorded by ROS 2 Humble and decode them.
func Example() {
	ctx := context.Background()
	bag, err := rosbag.Open(ctx, "testdata/real_humble/camera_sqlite3")
	if err != nil {
		panic(err)
	}
	defer bag.Close()

	it, err := bag.Messages(ctx, "/camera/image_raw")
	if err != nil {
		panic(err)
	}
	defer it.Close()
	n := 0
	for it.Next() {
		m := it.Message()
		if n++; n > 1 {
			continue
		}
		msg, err := cdr.Decode(m.Type, m.Data)
		if err != nil {
			panic(err)
		}
		img := msg.(*cdr.Image)
		fmt.Println(m.Topic, m.LogTime, img.Width, img.Height, img.Encoding, img.Header.Stamp.Time().UnixNano())
	}
	if err := it.Err(); err != nil {
		panic(err)
	}
	fmt.Println(n, "frames")
	// Output:
	// /camera/image_raw 1795677890147376008 64 48 rgb8 1700000000123456789
	// 30 frames
}

// Describe a bag.
func ExampleBag_Info() {
	bag, err := rosbag.Open(context.Background(), "testdata/mixed_jazzy_mcap")
	if err != nil {
		panic(err)
	}
	defer bag.Close()
	info := bag.Info()
	fmt.Println(info.StorageID, info.Version, info.MessageCount, info.Duration)
	for _, t := range info.Topics {
		fmt.Println(t.Name, t.Type, t.MessageCount, t.OfferedQoS[0].Reliability)
	}
	// Output:
	// mcap 9 170 1.957464821s
	// /lidar/points sensor_msgs/msg/PointCloud2 20 best_effort
	// /scan sensor_msgs/msg/LaserScan 40 best_effort
	// /imu sensor_msgs/msg/Imu 100 reliable
	// /chatter std_msgs/msg/String 10 reliable
}

// Print what `ros2 bag info` prints (times in the local time zone).
func ExampleWriteInfo() {
	bag, err := rosbag.Open(context.Background(), "testdata/real_humble/mixed_mcap")
	if err != nil {
		panic(err)
	}
	defer bag.Close()
	if err := rosbag.WriteInfo(os.Stdout, bag.Info()); err != nil {
		panic(err)
	}
}
