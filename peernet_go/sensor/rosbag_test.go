package sensor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// The test is external: an internal test file would change package sensor
// in the test binary, and the plugin test needs it as plugins build it.

func TestRosbagPointsElsewhere(t *testing.T) {
	_, err := sensor.Open(context.Background(), sensor.Options{Type: "rosbag", DatasetLoc: "bag"})
	if err == nil || !strings.Contains(err.Error(), "run.OpenSensor") {
		t.Fatalf("sensor.Open(rosbag): %v", err)
	}
}
