//go:build ros2

// Command edge_node is the peernet edge as a ROS 2 node: it samples a topic
// of any type (or a rosbag, or a built-in sensor), sends each sample to the
// cloud node over a network (zmq-tcp, zmq-udp, mqtt, udp or ros2), and
// publishes every iteration's timings as peernet_msgs/IterationMetrics on
// ~/metrics and per-stage statistics windows as
// statistics_msgs/MetricsMessage on ~/statistics.
//
// Parameters: see config/edge.yaml. Usually started with
//
//	ros2 launch peernet_go edge.launch.py sensor_topic:=/camera/image_raw
package main

import (
	"context"
	"os"

	"github.com/peernet/peernet_go/peernet_go/ros2"
	"github.com/peernet/peernet_go/peernet_go/rosnode"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(ros2.Main("edge_node", version, func(ctx context.Context, n *ros2.Node) error {
		c := rosnode.DefaultEdgeConfig()
		if err := n.Params.Decode(&c); err != nil {
			return err
		}
		_, err := rosnode.RunEdge(ctx, n.Env, c)
		return err
	}))
}
