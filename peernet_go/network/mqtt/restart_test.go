package mqtt_test

import (
	"context"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// TestRunSurvivesBrokerRestart: a profiling run whose mosquitto crashes and
// restarts mid-run loses the iterations in flight and finishes the run.
func TestRunSurvivesBrokerRestart(t *testing.T) {
	for _, qos := range []string{"0", "1"} {
		t.Run("QoS"+qos, func(t *testing.T) {
			b := mqtttest.Mosquitto(t)
			cfg := loopback(t, "broker: "+b.URL(), "qos: "+qos, "reconnect_max: 200ms")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			srv, err := mqtt.Transport{}.Listen(ctx, cfg, "cloud")
			if err != nil {
				t.Fatal(err)
			}
			eng := inference.NewEngine(inference.Echo{})
			srvCtx, srvStop := context.WithCancel(ctx)
			served := make(chan error, 1)
			go func() {
				_, err := run.Serve(srvCtx, run.ServerOptions{Conn: srv, Engine: eng})
				served <- err
			}()
			defer func() {
				srvStop()
				if err := <-served; err != nil {
					t.Errorf("server: %v", err)
				}
				srv.Close()
			}()

			cli, err := mqtt.Transport{}.Dial(ctx, cfg, "edge")
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			s, err := sensor.Open(ctx, sensor.Options{Type: "random-bytes", Size: "256"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			const n = 500 // 2.5 s at 200 Hz
			restarted := make(chan struct{})
			go func() {
				defer close(restarted)
				time.Sleep(800 * time.Millisecond)
				b.Restart(300 * time.Millisecond)
			}()
			res, err := run.Client(ctx, run.ClientOptions{
				Conn: cli, Sensor: s, Iterations: n, Rate: 200, Timeout: 200 * time.Millisecond,
				ClockMode: clock.Mode{Name: clock.ModeAssumeSynced},
			})
			<-restarted
			if err != nil {
				t.Fatalf("run ended with %v after %d iterations", err, res.Iterations)
			}
			t.Logf("%d iterations: %d ok, %d lost, %d errors, %d missed", res.Iterations, res.OK, res.Lost, res.Errors, res.Missed)
			if res.Iterations != n || res.Interrupted {
				t.Fatalf("run did not finish: %+v", res)
			}
			if res.Lost+res.Errors == 0 {
				t.Error("no iteration was lost while the broker was down")
			}
			// Slots that pass while the client waits for the broker are
			// missed; the run must recover well before its end.
			if res.OK < n/5 || res.OK+res.Lost+res.Errors+res.Missed != n {
				t.Errorf("%d ok, %d lost, %d errors, %d missed of %d slots: the run did not recover", res.OK, res.Lost, res.Errors, res.Missed, n)
			}
		})
	}
}
