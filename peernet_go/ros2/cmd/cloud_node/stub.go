//go:build !ros2

// Command cloud_node is a peernet ROS 2 node; this build has no ROS 2 support.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "cloud_node: built without ROS 2 support: build with colcon or go build -tags ros2 (with a sourced ROS 2)")
	os.Exit(1)
}
