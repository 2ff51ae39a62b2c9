package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/sensor/sensortest"
)

// TestConformance runs the sensor kit on a queue fed by a producer
// goroutine, as a subscription callback feeds it.
func TestConformance(t *testing.T) {
	sensortest.Run(t, func(t *testing.T) sensor.Sensor {
		q, err := New(Options{Depth: 4, Encoding: "text", Topic: "/chatter"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					q.Push(Message{Data: fmt.Appendf(nil, "message %d", i), Time: time.Now()})
				}
			}
		}()
		t.Cleanup(func() { cancel(); <-done })
		return q
	})
}

func TestKeepsNewest(t *testing.T) {
	q, err := New(Options{Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		dropped := q.Push(Message{Data: []byte{byte(i)}, Time: time.Unix(int64(i), 0)})
		if dropped != (i >= 3) {
			t.Fatalf("push %d: dropped %v", i, dropped)
		}
	}
	ctx := context.Background()
	for want := byte(7); want < 10; want++ {
		s, err := q.Sample(ctx)
		if err != nil || s.Data[0] != want || !s.Time.Equal(time.Unix(int64(want), 0)) {
			t.Fatalf("sample %v at %v (%v), want message %d", s.Data, s.Time, err, want)
		}
	}
	if st := q.Stats(); st != (Stats{Pushed: 10, Dropped: 7, Taken: 3}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestDepthOneReturnsFreshest(t *testing.T) {
	q, _ := New(Options{Encoding: "cdr:sensor_msgs/msg/Imu", Topic: "/imu"})
	stamp := time.Unix(100, 5)
	q.Push(Message{Data: []byte("old")})
	q.Push(Message{Data: []byte("new"), Time: time.Unix(101, 0), Stamp: stamp})
	s, err := q.Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data) != "new" || s.Encoding != "cdr:sensor_msgs/msg/Imu" || s.Topic != "/imu" || !s.Stamp.Equal(stamp) {
		t.Fatalf("sample %+v", s)
	}
}

func TestSampleWaits(t *testing.T) {
	q, _ := New(Options{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		q.Push(Message{Data: []byte("late"), Time: time.Now()})
	}()
	start := time.Now()
	s, err := q.Sample(context.Background())
	if err != nil || string(s.Data) != "late" {
		t.Fatalf("%q, %v", s.Data, err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("Sample returned after %v, before the message was pushed", waited)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := q.Sample(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("empty queue: %v, want DeadlineExceeded", err)
	}
}

func TestCloseWakesSample(t *testing.T) {
	q, _ := New(Options{Depth: 2})
	q.Push(Message{Data: []byte("a")})
	errc := make(chan error, 1)
	_, _ = q.Sample(context.Background()) // takes "a"
	go func() {
		_, err := q.Sample(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	q.Push(Message{Data: []byte("b")})
	if err := <-errc; err != nil {
		t.Fatalf("Sample: %v", err)
	}
	go func() {
		_, err := q.Sample(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, sensor.ErrClosed) {
			t.Fatalf("Sample during Close: %v, want sensor.ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not wake Sample")
	}
	if !q.Push(Message{Data: []byte("after")}) {
		t.Fatal("Push after Close was not dropped")
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestConcurrentPush pushes from several goroutines while one samples:
// every message is either taken or counted as dropped.
func TestConcurrentPush(t *testing.T) {
	q, _ := New(Options{Depth: 8})
	const producers, each = 4, 500
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				q.Push(Message{Data: []byte{byte(p), byte(i)}})
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	taken := make(chan int)
	go func() {
		n := 0
		for {
			if _, err := q.Sample(ctx); err != nil {
				taken <- n
				return
			}
			n++
		}
	}()
	wg.Wait()
	for q.Len() > 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	n := <-taken
	st := q.Stats()
	if st.Pushed != producers*each || st.Taken != uint64(n) || st.Taken+st.Dropped != st.Pushed {
		t.Fatalf("stats %+v, sampled %d", st, n)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Depth: -1}, {Depth: MaxDepth + 1}, {Encoding: string(make([]byte, 256))}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
