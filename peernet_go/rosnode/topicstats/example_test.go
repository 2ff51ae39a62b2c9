package topicstats_test

import (
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/rosnode/topicstats"
)

func Example() {
	t0 := time.Unix(1_700_000_000, 0)
	m := topicstats.NewMeter(topicstats.Options{}, t0)
	// A 30 Hz camera whose frames arrive 12 ms after their header stamp.
	for i := range 30 {
		at := t0.Add(time.Duration(i) * time.Second / 30)
		m.Observe(topicstats.Observation{Size: 921_600, Arrival: at, Stamp: at.Add(-12 * time.Millisecond)})
	}
	w := m.Window(t0.Add(time.Second))
	fmt.Printf("%.1f Hz, %.1f MB/s, jitter %.0f s, age p99 %.3f s\n", w.Rate, w.Bandwidth/1e6, w.Jitter(), w.HeaderAge.P99)
	// Output: 30.0 Hz, 27.6 MB/s, jitter 0 s, age p99 0.012 s
}
