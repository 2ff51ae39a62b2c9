//go:build !ros2

// Command edge_node is a peernet ROS 2 node; this build has no ROS 2 support.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "edge_node: built without ROS 2 support: build with colcon or go build -tags ros2 (with a sourced ROS 2)")
	os.Exit(1)
}
