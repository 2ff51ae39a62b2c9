package udp_test

import (
	"context"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/udp"
	"github.com/peernet/peernet_go/peernet_go/run"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// profile runs n iterations of the profiling loop over udp, the client
// with drop as its Options.Drop, and returns the run's result and both
// Conns' stats once the server has taken the client's last frame.
func profile(t *testing.T, cfg *network.Config, size string, n int, drop func(*wire.Frame, int) bool) (run.Result, udp.Stats, udp.Stats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	srvCtx, srvStop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		_, err := run.Serve(srvCtx, run.ServerOptions{Conn: srv, Engine: inference.NewEngine(inference.Echo{}), ExitOnBye: true})
		served <- err
	}()

	o, err := udp.LoadOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o.Drop = drop
	cli := dial(t, udp.Transport{Options: o}, cfg)
	defer cli.Close()
	s, err := sensor.Open(ctx, sensor.Options{Type: "random-bytes", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := run.Client(ctx, run.ClientOptions{
		Conn: cli, Sensor: s, Iterations: n, Timeout: 300 * time.Millisecond,
		ClockMode: clock.Mode{Name: clock.ModeAssumeSynced},
	})
	if err != nil {
		t.Fatal(err)
	}
	select { // the server stops at the client's bye
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		srvStop()
		t.Fatal("server did not see the client's bye")
	}
	srvStop()
	return res, stats(cli), stats(srv)
}

// TestInjectedDrops: requests whose datagrams are withheld on the way out
// are the iterations the run reports lost, and the server counts the same
// number of frames lost from the gaps in the client's message ids.
func TestInjectedDrops(t *testing.T) {
	const n = 200
	t.Run("single datagrams", func(t *testing.T) {
		cfg := loopback(t)
		every10th := func(f *wire.Frame, _ int) bool { return f.Kind == wire.Request && f.Seq%10 == 0 }
		res, cst, sst := profile(t, cfg, "64", n, every10th)
		t.Logf("run %+v\nclient %+v\nserver %+v", res, cst, sst)
		if res.Lost != n/10 || res.OK != n-n/10 {
			t.Errorf("run: %d ok, %d lost; want %d ok, %d lost", res.OK, res.Lost, n-n/10, n/10)
		}
		if cst.Dropped != n/10 {
			t.Errorf("client dropped %d datagrams, want %d", cst.Dropped, n/10)
		}
		if sst.Lost != n/10 {
			t.Errorf("server counted %d lost frames, want %d", sst.Lost, n/10)
		}
		if sst.TimedOut != 0 || sst.Duplicates != 0 || sst.Reordered != 0 {
			t.Errorf("server stats %+v", sst)
		}
	})
	t.Run("one fragment of large frames", func(t *testing.T) {
		cfg := loopback(t, "reassembly_timeout: 20ms")
		// 5000-byte samples: frames of 5093 bytes, 4 datagrams of 1274.
		secondOfEvery5th := func(f *wire.Frame, i int) bool { return f.Kind == wire.Request && f.Seq%5 == 0 && i == 1 }
		res, cst, sst := profile(t, cfg, "5000", n, secondOfEvery5th)
		t.Logf("run %+v\nclient %+v\nserver %+v", res, cst, sst)
		if res.Lost != n/5 || res.OK != n-n/5 {
			t.Errorf("run: %d ok, %d lost; want %d ok, %d lost", res.OK, res.Lost, n-n/5, n/5)
		}
		if cst.Dropped != n/5 {
			t.Errorf("client dropped %d datagrams, want %d", cst.Dropped, n/5)
		}
		if sst.Lost != n/5 {
			t.Errorf("server counted %d lost frames, want %d", sst.Lost, n/5)
		}
		// Each incomplete frame times out or is still waiting when the
		// run ends.
		if sst.TimedOut+sst.Evicted < n/5-1 || sst.TimedOut+sst.Evicted > n/5 {
			t.Errorf("server: %d timed out, %d evicted; want %d incomplete frames dropped", sst.TimedOut, sst.Evicted, n/5)
		}
		if want := uint64(4*(n-n/5) + 3*(n/5)); sst.FragmentsReceived < want {
			t.Errorf("server received %d datagrams, want at least %d", sst.FragmentsReceived, want)
		}
	})
}
