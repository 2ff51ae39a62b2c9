package run

import (
	"context"

	"github.com/peernet/peernet_go/peernet_go/rosbag/replay"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// OpenSensor opens the sensor o names: the rosbag replay for "rosbag",
// sensor.Open for every other type.
func OpenSensor(ctx context.Context, o sensor.Options) (sensor.Sensor, error) {
	if o.Type == "rosbag" {
		return replay.Open(ctx, o)
	}
	return sensor.Open(ctx, o)
}
