package params_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/peernet/peernet_go/peernet_go/rosnode/params"
)

func Example() {
	dir, _ := os.MkdirTemp("", "params")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "edge.yaml")
	os.WriteFile(file, []byte(`
edge_node:
  ros__parameters:
    sensor_topic: /camera/image_raw
    qos: {depth: 5}
`), 0o644)

	// As ros2 launch starts the node:
	args := []string{"--ros-args", "-r", "__node:=edge_node", "--params-file", file, "-p", "rate:=30.0"}
	p, err := params.FromArgs(args, "/edge_node")
	if err != nil {
		panic(err)
	}
	var cfg struct {
		Topic string  `param:"sensor_topic"`
		Rate  float64 `param:"rate"`
		QoS   struct {
			Depth int `param:"depth"`
		} `param:"qos"`
	}
	if err := p.Decode(&cfg); err != nil {
		panic(err)
	}
	fmt.Println(cfg.Topic, cfg.Rate, cfg.QoS.Depth)
	// Output: /camera/image_raw 30 5
}
