//go:build ros2

// Command cloud_node is the peernet cloud as a ROS 2 node: the inference
// server of `peernet server`, over the same networks and models, and
// optionally republishing its results as peernet_msgs/Reply.
//
// Parameters: see config/cloud.yaml. Usually started with
//
//	ros2 launch peernet_go cloud.launch.py model_name:=dummy
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
	os.Exit(ros2.Main("cloud_node", version, func(ctx context.Context, n *ros2.Node) error {
		c := rosnode.DefaultCloudConfig()
		if err := n.Params.Decode(&c); err != nil {
			return err
		}
		_, err := rosnode.RunCloud(ctx, n.Env, c)
		return err
	}))
}
