package sensor

import (
	"context"
	"errors"
)

// errRosbagElsewhere says where the rosbag sensor lives. This package does
// not import the bag readers: they bring in SQLite and LZ4 code, and Go
// plugins that import this package could not be built with them (LZ4's
// amd64 assembly does not link dynamically).
var errRosbagElsewhere = errors.New(`sensor: the "rosbag" sensor is opened by run.OpenSensor (package rosbag/replay), not sensor.Open`)

func openRosbag(context.Context, Options) (Sensor, error) { return nil, errRosbagElsewhere }
