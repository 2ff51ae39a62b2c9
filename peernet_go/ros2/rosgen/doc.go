// Package rosgen holds the Go bindings of the ROS 2 messages the nodes
// use — peernet_msgs (msgs/), statistics_msgs and their dependencies
// builtin_interfaces and std_msgs — one package per ROS package, such as
// rosgen/peernet_msgs/msg. They are rclgo-gen's output, regenerated with
// `make bindings` (with a sourced ROS 2) and never edited by hand; they build
// only with the ros2 build tag.
package rosgen
