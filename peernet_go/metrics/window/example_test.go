package window_test

import (
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/metrics/window"
)

func Example() {
	s, err := window.New(window.Options{Period: time.Second, Emit: func(w window.Window) error {
		rtt, _ := w.Result.Stage(metrics.StageRTT)
		fmt.Printf("rtt: %d iterations, mean %.3f s, max %.3f s\n", rtt.Count, rtt.Mean, rtt.Max)
		return nil
	}})
	if err != nil {
		panic(err)
	}
	for i, ms := range []int{10, 20, 30} {
		s.Write(&metrics.Record{Iteration: i, RTT: time.Duration(ms) * time.Millisecond})
	}
	s.Close() // reports the last, partial window
	// Output: rtt: 3 iterations, mean 0.020 s, max 0.030 s
}
