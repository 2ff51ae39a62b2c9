package sensortest_test

import (
	"context"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/sensor/sensortest"
)

// A sensor author's test runs the kit on a freshly opened sensor per check.
func ExampleRun() {
	var t *testing.T // the test's *testing.T
	sensortest.Run(t, func(t *testing.T) sensor.Sensor {
		s, err := sensor.Open(context.Background(), sensor.Options{Type: "random-bytes", Size: "64"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
