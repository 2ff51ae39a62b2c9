//go:build ros2

// Command topic_profiler measures topics of any type — rate, bandwidth,
// size, period jitter, header age and transport delay, with percentiles:
// ros2 topic hz, bw and delay in one — and publishes them per window as
// peernet_msgs/TopicStatistics on ~/topics and statistics_msgs/MetricsMessage
// on ~/statistics.
//
// Parameters: see config/topic_profiler.yaml. Usually started with
//
//	ros2 launch peernet_go topic_profiler.launch.py topics:=/camera/image_raw
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
	os.Exit(ros2.Main("topic_profiler", version, func(ctx context.Context, n *ros2.Node) error {
		c := rosnode.DefaultProfilerConfig()
		if err := n.Params.Decode(&c); err != nil {
			return err
		}
		_, err := rosnode.RunProfiler(ctx, n.Env, c)
		return err
	}))
}
