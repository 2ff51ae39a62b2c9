package sensor

import (
	"context"
	"errors"
)

// openRosbag replays a rosbag; this placeholder stands until the rosbag
// sensor lands.
func openRosbag(context.Context, Options) (Sensor, error) {
	return nil, errors.New("sensor: rosbag: not built")
}
