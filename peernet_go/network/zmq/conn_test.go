//go:build cgo

package zmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// testMaxFrame keeps the conformance kit's largest frames small.
const testMaxFrame = 4 << 20

// loopback returns an edge/cloud config on 127.0.0.1 whose server port is
// free, with a zmq section made of the given lines.
func loopback(t testing.TB, zmqLines ...string) *network.Config {
	t.Helper()
	return transporttest.LoopbackConfig(t, "zmq", zmqLines...)
}

func listen(t testing.TB, cfg *network.Config) network.Conn {
	t.Helper()
	c, err := Transport{}.Listen(context.Background(), cfg, "cloud")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dial(t testing.TB, cfg *network.Config) network.Conn {
	t.Helper()
	c, err := Transport{}.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sendRaw sends one message of the given parts from a bare DEALER, as a
// peer that does not speak the frame format would.
func sendRaw(t testing.TB, cfg *network.Config, parts ...[]byte) {
	t.Helper()
	zctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer zctx.Term() // waits for the message to leave, up to the linger
	s, err := zctx.NewSocket(zmq4.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = setOptions(
		func() error { return s.SetLinger(2 * time.Second) },
		func() error { return s.SetSndtimeo(2 * time.Second) },
		func() error { return s.Connect("tcp://" + cfg.ServerAddr()) },
	)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		flag := zmq4.SNDMORE
		if i == len(parts)-1 {
			flag = 0
		}
		if _, err := s.SendBytes(p, flag); err != nil {
			t.Fatalf("raw send: %v", err)
		}
	}
}

func TestConformance(t *testing.T) {
	cfg := loopback(t, fmt.Sprintf("max_frame: %d", testMaxFrame))
	transporttest.Run(t, transporttest.Harness{
		Listen:        func(t *testing.T) network.Conn { return listen(t, cfg) },
		Dial:          func(t *testing.T) network.Conn { return dial(t, cfg) },
		InjectGarbage: func(t *testing.T, b []byte) { sendRaw(t, cfg, b) },
		MaxFrame:      testMaxFrame,
	})
}

// recvDecodeError expects the next Recv on c to report a DecodeError.
func recvDecodeError(t *testing.T, c network.Conn) *network.DecodeError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := c.Recv(ctx)
	var de *network.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("Recv = %v, %v; want a *network.DecodeError", f, err)
	}
	return de
}

func TestMalformedMultipart(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	defer srv.Close()
	req := wire.Frame{Kind: wire.Request, Seq: 1, Encoding: "bytes", Payload: []byte("0123456789")}
	hdr, err := req.AppendHeader(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		parts [][]byte
		want  string
	}{
		{"short payload", [][]byte{hdr, []byte("01234")}, "header announces 10 payload bytes, payload part has 5"},
		{"long payload", [][]byte{hdr, []byte("0123456789x")}, "header announces 10 payload bytes, payload part has 11"},
		{"header with payload", [][]byte{append(hdr[:len(hdr):len(hdr)], "0123456789"...), nil}, "header part has 103 bytes, the header 93"},
		{"three parts", [][]byte{hdr, []byte("01234"), []byte("56789")}, "3 parts, a frame has 1 or 2"},
		{"many parts", [][]byte{hdr, {1}, {2}, {3}, {4}, {5}}, "6 parts, a frame has 1 or 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sendRaw(t, cfg, tt.parts...)
			de := recvDecodeError(t, srv)
			if !errors.Is(de, ErrMalformed) || !strings.Contains(de.Error(), tt.want) {
				t.Errorf("error %q, want ErrMalformed with %q", de, tt.want)
			}
			if de.Peer == "" {
				t.Errorf("DecodeError names no peer")
			}
		})
	}
	// The server still serves a well-formed frame, sent as one part too.
	whole, _ := req.Marshal()
	sendRaw(t, cfg, whole)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := srv.Recv(ctx)
	if err != nil || f.Seq != 1 || string(f.Payload) != "0123456789" {
		t.Fatalf("Recv = %+v, %v", f, err)
	}
}

// TestReceiverMaxFrame: a peer that allows itself larger frames than the
// server is cut off by libzmq (ZMQ_MAXMSGSIZE), reconnects, and its later
// frames get through; an announced length over the maximum is a
// DecodeError.
func TestReceiverMaxFrame(t *testing.T) {
	cfg := loopback(t, "max_frame: 65536")
	srv := listen(t, cfg)
	defer srv.Close()
	big := &Options{MaxFrame: 1 << 20}
	if err := big.Initialize(); err != nil {
		t.Fatal(err)
	}
	cli, err := Transport{Options: big}.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1, Payload: make([]byte, 100_000)}); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	f, err := srv.Recv(rctx)
	rcancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("oversized frame: Recv = %v, %v; want it dropped", f, err)
	}
	// The client reconnects; small frames pass again.
	for seq := uint64(2); ; seq++ {
		if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: seq, Payload: []byte("small")}); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		f, err := srv.Recv(rctx)
		rcancel()
		if err == nil {
			if f.Seq != seq {
				t.Fatalf("got seq %d, want %d", f.Seq, seq)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no frame after the oversized one: %v", err)
		}
	}

	hdr, _ := (&wire.Frame{Kind: wire.Request, Payload: make([]byte, 70_000)}).AppendHeader(nil)
	sendRaw(t, cfg, hdr, []byte("short"))
	if de := recvDecodeError(t, srv); !errors.Is(de, wire.ErrTooLarge) {
		t.Errorf("announced oversize: %v, want wire.ErrTooLarge", de)
	}
}

func TestSendTooLarge(t *testing.T) {
	cfg := loopback(t, "max_frame: 2048")
	cli := dial(t, cfg)
	defer cli.Close()
	err := cli.Send(context.Background(), &wire.Frame{Kind: wire.Request, Payload: make([]byte, 2048)})
	if !errors.Is(err, wire.ErrTooLarge) || !strings.Contains(err.Error(), "frame of 2136 bytes, max_frame is 2048") {
		t.Fatalf("Send = %v", err)
	}
}

// TestSendWithoutServer: with ZMQ_IMMEDIATE nothing is queued for a server
// that is not there; Send waits until its deadline and says why.
func TestSendWithoutServer(t *testing.T) {
	cfg := loopback(t)
	cli := dial(t, cfg)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "server not connected") {
		t.Fatalf("Send = %v", err)
	}
	if d := time.Since(start); d < 190*time.Millisecond || d > 3*time.Second {
		t.Errorf("Send returned after %v, deadline 200ms", d)
	}
	// Nothing was queued: a server started now receives nothing.
	srv := listen(t, cfg)
	defer srv.Close()
	rctx, rcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer rcancel()
	if f, err := srv.Recv(rctx); err == nil {
		t.Fatalf("server received seq %d that was sent while it was down", f.Seq)
	}
}

func TestServerSendErrors(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	defer srv.Close()
	ctx := context.Background()
	err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply})
	if err == nil || !strings.Contains(err.Error(), "frame names no valid peer") {
		t.Errorf("Send without peer = %v", err)
	}
	err = srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Peer: "edge-gone"})
	if err == nil || !strings.Contains(err.Error(), `peer "edge-gone" is not connected`) {
		t.Errorf("Send to unknown peer = %v", err)
	}
	err = srv.Send(ctx, &wire.Frame{Kind: 0, Peer: "x"})
	if !errors.Is(err, wire.ErrKind) {
		t.Errorf("Send of kind 0 = %v", err)
	}
}

func TestPeerName(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	defer srv.Close()
	cli := dial(t, cfg)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 7}); err != nil {
		t.Fatal(err)
	}
	f, err := srv.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Peer, "edge-") || len(f.Peer) != len("edge-")+8 {
		t.Errorf("server sees peer %q, want edge-XXXXXXXX", f.Peer)
	}
	if err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: 7, Peer: f.Peer}); err != nil {
		t.Fatal(err)
	}
	r, err := cli.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Peer != "cloud" || r.Seq != 7 {
		t.Errorf("client got seq %d from %q", r.Seq, r.Peer)
	}
}

func TestBindOptions(t *testing.T) {
	cfg := loopback(t, "bind: '*'")
	srv := listen(t, cfg)
	defer srv.Close()
	if !strings.Contains(fmt.Sprint(srv.(*conn).endpoint), "tcp://*:") {
		t.Errorf("endpoint %s", srv.(*conn).endpoint)
	}
	cli := dial(t, cfg)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Recv(ctx); err != nil {
		t.Fatal(err)
	}

	// A host name is resolved before binding.
	named := loopback(t)
	named.Devices[1].Host = "localhost"
	srv2 := listen(t, named)
	srv2.Close()
}

func TestListenDialErrors(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	defer srv.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"port in use", func() error { _, err := Transport{}.Listen(ctx, cfg, "cloud"); return err }, "zmq-tcp: listen: bind tcp://127.0.0.1:"},
		{"client listens", func() error { _, err := Transport{}.Listen(ctx, cfg, "edge"); return err }, `zmq-tcp: listen: device "edge" cannot listen: the network config's server is "cloud"`},
		{"unknown device", func() error { _, err := Transport{}.Dial(ctx, cfg, "robot"); return err }, `zmq-tcp: dial: device "robot" is not in the network config (devices: edge, cloud)`},
		{"nil config", func() error { _, err := Transport{}.Dial(ctx, nil, "edge"); return err }, "zmq-tcp: dial: no network config"},
		{"bad section", func() error {
			bad := loopback(t, "max_frames: 1")
			_, err := Transport{}.Dial(ctx, bad, "edge")
			return err
		}, `zmq: line 7: unknown key "max_frames"`},
		{"bad host", func() error {
			bad := loopback(t)
			bad.Devices[1].Host = "no-such-host.invalid"
			_, err := Transport{}.Listen(ctx, bad, "cloud")
			return err
		}, `"no-such-host.invalid" does not resolve`},
		{"zmq-udp", func() error { _, err := UDPTransport{}.Dial(ctx, cfg, "edge"); return err }, "zmq-udp: needs libzmq built with the draft API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (Transport{}).Dial(canceled, cfg, "edge"); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a canceled context: %v", err)
	}
}

// TestCloseFromAnotherGoroutine closes Conns while other goroutines are
// inside Send and Recv on them, many times, under the race detector: no
// crash, no hang, and the blocked calls return ErrClosed.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	var wg sync.WaitGroup
	wg.Go(func() { transporttest.EchoUntilClosed(srv) })
	for round := range 8 {
		cli := dial(t, cfg)
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			payload := make([]byte, 4096)
			for seq := uint64(0); ; seq++ {
				if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: seq, Payload: payload}); err != nil {
					done <- err
					return
				}
				if _, err := cli.Recv(ctx); err != nil {
					done <- err
					return
				}
			}
		}()
		time.Sleep(time.Duration(10+round*15) * time.Millisecond)
		if err := cli.Close(); err != nil {
			t.Errorf("round %d: Close: %v", round, err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, network.ErrClosed) {
				t.Errorf("round %d: exchange loop ended with %v, want ErrClosed", round, err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: exchange loop still running 2s after Close", round)
		}
	}
	start := time.Now()
	if err := srv.Close(); err != nil { // while the echo goroutine is in Recv
		t.Error(err)
	}
	wg.Wait()
	if d := time.Since(start); d > time.Second {
		t.Errorf("server Close took %v", d)
	}
}

// TestAnonymousPeer: a bare DEALER without an identity gets a binary one
// from libzmq; Frame.Peer names it in hex and Send routes the reply to it.
func TestAnonymousPeer(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, cfg)
	defer srv.Close()
	zctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer zctx.Term()
	s, err := zctx.NewSocket(zmq4.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = setOptions(
		func() error { return s.SetLinger(0) },
		func() error { return s.SetRcvtimeo(5 * time.Second) },
		func() error { return s.Connect("tcp://" + cfg.ServerAddr()) },
	)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := (&wire.Frame{Kind: wire.Request, Seq: 9, Payload: []byte("hi")}).Marshal()
	if _, err := s.SendBytes(whole, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := srv.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.Peer, "%00") || len(f.Peer) != 11 {
		t.Errorf("peer %q, want %%00 and 4 hex bytes", f.Peer)
	}
	if err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: 9, Payload: []byte("ho"), Peer: f.Peer}); err != nil {
		t.Fatal(err)
	}
	parts, err := s.RecvMessageBytes(0)
	if err != nil {
		t.Fatal(err)
	}
	var r wire.Frame
	if err := decodeParts(&r, parts, 0); err != nil || r.Seq != 9 || string(r.Payload) != "ho" {
		t.Fatalf("reply %+v, %v", r, err)
	}
}
