package queue_test

import (
	"context"
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/sensor/queue"
)

// A subscription callback pushes; the profiling loop samples the newest.
func Example() {
	q, err := queue.New(queue.Options{Encoding: "text", Topic: "/chatter"})
	if err != nil {
		panic(err)
	}
	defer q.Close()
	for _, m := range []string{"hello 1", "hello 2", "hello 3"} {
		q.Push(queue.Message{Data: []byte(m), Time: time.Now()})
	}
	s, err := q.Sample(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s from %s; %+v\n", s.Data, s.Topic, q.Stats())
	// Output: hello 3 from /chatter; {Pushed:3 Dropped:2 Taken:1}
}
