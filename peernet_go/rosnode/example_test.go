package rosnode_test

import (
	"fmt"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/rosnode"
)

// The ros2 network's topics for each edge device of a network config.
func ExampleROS2NetworkFrom() {
	cfg, err := network.ParseConfig([]byte(`
devices:
  robot-1: 10.0.0.11
  robot-2: 10.0.0.12
  cloud: 10.0.0.2
server: cloud
ros2:
  depth: 20
`))
	if err != nil {
		panic(err)
	}
	n, err := rosnode.ROS2NetworkFrom(cfg)
	if err != nil {
		panic(err)
	}
	for _, d := range []string{"robot-1", "robot-2"} {
		sample, reply := n.Topics(d)
		fmt.Println(d, sample, reply)
	}
	fmt.Printf("%+v\n", n.QoS)
	// Output:
	// robot-1 /peernet/robot_1/sample /peernet/robot_1/reply
	// robot-2 /peernet/robot_2/sample /peernet/robot_2/reply
	// {Reliability:reliable Durability:volatile Depth:20}
}

// A node's parameters start from its defaults.
func ExampleDefaultEdgeConfig() {
	c := rosnode.DefaultEdgeConfig()
	c.SensorTopic = "/camera/image_raw"
	fmt.Println(c.Network, c.QoS.Reliability, c.QueueDepth, c.MetricsTopic, c.StatisticsTopic, c.Validate())
	// Output: zmq-tcp best_effort 1 ~/metrics ~/statistics <nil>
}
