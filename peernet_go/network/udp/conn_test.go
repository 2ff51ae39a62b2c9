package udp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/network/udp"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// testMaxFrame keeps the conformance kit's largest frames small.
const testMaxFrame = 4 << 20

// loopback returns an edge/cloud config on 127.0.0.1 whose server port is
// free, with a udp section made of the given lines.
func loopback(t testing.TB, udpLines ...string) *network.Config {
	t.Helper()
	return transporttest.LoopbackConfig(t, "udp", udpLines...)
}

func listen(t testing.TB, tr udp.Transport, cfg *network.Config) network.Conn {
	t.Helper()
	c, err := tr.Listen(context.Background(), cfg, "cloud")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dial(t testing.TB, tr udp.Transport, cfg *network.Config) network.Conn {
	t.Helper()
	c, err := tr.Dial(context.Background(), cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sendRaw sends each datagram to cfg's server from one bare UDP socket.
func sendRaw(t testing.TB, cfg *network.Config, datagrams ...[]byte) {
	t.Helper()
	c, err := net.Dial("udp", cfg.ServerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range datagrams {
		if _, err := c.Write(d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConformance(t *testing.T) {
	for _, size := range []int{1400, 60000} {
		t.Run(fmt.Sprintf("payload_size=%d", size), func(t *testing.T) {
			cfg := loopback(t, fmt.Sprintf("max_frame: %d", testMaxFrame), fmt.Sprintf("payload_size: %d", size))
			transporttest.Run(t, transporttest.Harness{
				Listen:        func(t *testing.T) network.Conn { return listen(t, udp.Transport{}, cfg) },
				Dial:          func(t *testing.T) network.Conn { return dial(t, udp.Transport{}, cfg) },
				InjectGarbage: func(t *testing.T, b []byte) { sendRaw(t, cfg, b) },
				MaxFrame:      testMaxFrame,
				Timeout:       15 * time.Second,
			})
		})
	}
}

func exchange(t *testing.T, srv, cli network.Conn, req *wire.Frame) *wire.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.Send(ctx, req); err != nil {
		t.Fatalf("client Send: %v", err)
	}
	got, err := srv.Recv(ctx)
	if err != nil {
		t.Fatalf("server Recv: %v", err)
	}
	if got.Seq != req.Seq || len(got.Payload) != len(req.Payload) {
		t.Fatalf("server got seq %d with %d bytes, want seq %d with %d", got.Seq, len(got.Payload), req.Seq, len(req.Payload))
	}
	if err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: got.Seq, Peer: got.Peer, Payload: got.Payload}); err != nil {
		t.Fatalf("server Send: %v", err)
	}
	rep, err := cli.Recv(ctx)
	if err != nil {
		t.Fatalf("client Recv: %v", err)
	}
	return rep
}

func stats(c network.Conn) udp.Stats { return c.(udp.StatsReporter).Stats() }

func TestFragmentCounts(t *testing.T) {
	cfg := loopback(t, "payload_size: 1000")
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	cli := dial(t, udp.Transport{}, cfg)
	defer cli.Close()
	for _, tc := range []struct {
		payload, fragments int
	}{
		{0, 1},
		{1000 - 93, 1}, // header 88 + "bytes" 5: exactly one datagram
		{1000 - 92, 2}, // one byte more
		{10_000, 11},   // 10 093 bytes
		{200_000, 201}, // 200 093 bytes
	} {
		s0, r0 := cli.(network.PacketCounter).Packets()
		rep := exchange(t, srv, cli, &wire.Frame{Kind: wire.Request, Seq: 7, Encoding: "bytes", Payload: make([]byte, tc.payload)})
		s1, r1 := cli.(network.PacketCounter).Packets()
		if len(rep.Payload) != tc.payload {
			t.Fatalf("reply of %d bytes", len(rep.Payload))
		}
		if s1-s0 != uint64(tc.fragments) {
			t.Errorf("payload %d: %d datagrams sent, want %d", tc.payload, s1-s0, tc.fragments)
		}
		// The reply has no encoding: 5 bytes shorter.
		want := (tc.payload + 88 + 999) / 1000
		if r1-r0 != uint64(max(1, want)) {
			t.Errorf("payload %d: %d datagrams received, want %d", tc.payload, r1-r0, max(1, want))
		}
	}
	st := stats(srv)
	if st.Lost != 0 || st.TimedOut != 0 || st.Duplicates != 0 || st.Reordered != 0 || st.Malformed != 0 {
		t.Errorf("server stats %+v: nothing should be lost on loopback", st)
	}
	if st.MessagesReceived != 5 {
		t.Errorf("server received %d messages, want 5", st.MessagesReceived)
	}
}

// frag builds datagram index of message id, split like the transport
// splits a total-byte frame into count fragments.
func frag(id uint32, index, count int, whole []byte) []byte {
	size := (len(whole) + count - 1) / count
	off := index * size
	return udp.FragmentBytes(id, index, count, whole[off:min(off+size, len(whole))], len(whole))
}

// TestDuplicateReorderAccounting feeds a server crafted datagrams from a
// bare socket: duplicated fragments, a message whose fragments arrive in
// reverse order, a message that arrives after a later one.
func TestDuplicateReorderAccounting(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	frame := func(seq uint64, n int) []byte {
		b, err := (&wire.Frame{Kind: wire.Request, Seq: seq, Payload: make([]byte, n)}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f1, f2, f3, f4 := frame(1, 10), frame(2, 3000), frame(3, 10), frame(4, 10)
	sendRaw(t, cfg,
		frag(100, 0, 1, f1),
		frag(100, 0, 1, f1), // duplicate of a whole message
		frag(101, 2, 3, f2), // reverse order
		frag(101, 1, 3, f2),
		frag(101, 1, 3, f2), // duplicate fragment
		frag(101, 0, 3, f2),
		frag(103, 0, 1, f4), // 102 skipped…
		frag(102, 0, 1, f3), // …arrives late
		frag(105, 0, 1, f4), // 104 never comes
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var seqs []uint64
	for range 5 {
		f, err := srv.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv: %v (got seqs %v)", err, seqs)
		}
		seqs = append(seqs, f.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 4 3 4]" {
		t.Errorf("frames %v, want [1 2 4 3 4]", seqs)
	}
	st := stats(srv)
	want := udp.Stats{FragmentsReceived: 9, MessagesReceived: 5, Lost: 1, Duplicates: 2, Reordered: 1,
		ReadBuffer: st.ReadBuffer, WriteBuffer: st.WriteBuffer}
	if st != want {
		t.Errorf("stats\n%+v, want\n%+v", st, want)
	}
}

// TestFloodIsCapped: a flood of first fragments of distinct messages, each
// announcing a large frame, is held to max_partial messages and
// max_partial_bytes, the oldest evicted; a real frame still gets through.
func TestFloodIsCapped(t *testing.T) {
	cfg := loopback(t, "max_frame: 1048576", "max_partial: 8", "max_partial_bytes: 2097152", "reassembly_timeout: 10s")
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	big := make([]byte, 1<<20)
	var flood [][]byte
	for id := range uint32(200) {
		flood = append(flood, frag(1000+id, 0, 800, big))
	}
	sendRaw(t, cfg, flood...)
	cli := dial(t, udp.Transport{}, cfg)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 9, Payload: make([]byte, 5000)}); err != nil {
		t.Fatal(err)
	}
	f, err := srv.Recv(ctx)
	if err != nil || f.Seq != 9 {
		t.Fatalf("Recv after the flood: %v, %v", f, err)
	}
	st := stats(srv)
	// 200 partial messages of 1 MiB each, 2 MiB allowed: all but the last
	// two are evicted, and those two are evicted by the real frame's
	// first fragment only if it does not fit (it does not: 5 KiB + 2 MiB).
	if st.Evicted < 198 || st.Evicted > 200 {
		t.Errorf("evicted %d of 200 flood messages, want 198–200", st.Evicted)
	}
	t.Logf("stats after the flood: %+v", st)
}

func TestReassemblyTimeout(t *testing.T) {
	cfg := loopback(t, "reassembly_timeout: 50ms")
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	whole, _ := (&wire.Frame{Kind: wire.Request, Seq: 1, Payload: make([]byte, 5000)}).Marshal()
	raw, err := net.Dial("udp", cfg.ServerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	recvNothing := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if f, err := srv.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Recv = %v, %v; want no frame", f, err)
		}
	}
	raw.Write(frag(1, 0, 4, whole)) // two of four…
	raw.Write(frag(1, 1, 4, whole))
	recvNothing()
	time.Sleep(60 * time.Millisecond)
	raw.Write(frag(1, 2, 4, whole)) // …and the others too late: a new partial message
	raw.Write(frag(1, 3, 4, whole))
	recvNothing()
	if st := stats(srv); st.TimedOut != 1 || st.MessagesReceived != 0 || st.FragmentsReceived != 4 {
		t.Errorf("stats %+v, want 4 fragments, 1 message timed out", st)
	}
	recvNothing() // the second partial message times out too
	if st := stats(srv); st.TimedOut != 2 {
		t.Errorf("stats %+v, want 2 timed out", st)
	}
}

func TestSendToBadPeer(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	ctx := context.Background()
	for _, peer := range []string{"", "edge", "127.0.0.1", "[::1]:x"} {
		err := srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Peer: peer})
		if err == nil || !strings.Contains(err.Error(), "no valid peer") {
			t.Errorf("Send to %q: %v", peer, err)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		line, want string
	}{
		{"payload: 1", `unknown key "payload"`},
		{"payload_size: 10", "udp: payload_size: 10 out of range [64, 65491]"},
		{"payload_size: 70000", "udp: payload_size: 70000 out of range [64, 65491]"},
		{"max_frame: 10", "udp: max_frame: 10 out of range [88, 91749000]"},
		{"{payload_size: 64, max_frame: 16777216}", "udp: max_frame: 16777216 out of range [88, 4194240] (at most 65535 fragments of payload_size 64)"},
		{"reassembly_timeout: 10us", "udp: reassembly_timeout: 10µs is shorter than 1ms"},
		{"max_partial: -1", "udp: max_partial: -1, want at least 1"},
		{"{max_frame: 1048576, max_partial_bytes: 1000}", "udp: max_partial_bytes: 1000 is less than max_frame 1048576"},
		{"read_buffer: -5", "udp: read_buffer: -5 out of range [1, 1073741824]"},
		{"write_buffer: 2147483648", "udp: write_buffer: 2147483648 out of range [1, 1073741824]"},
		{"bind: 'a b'", `udp: bind: "a b" is not an IP address or a host name`},
	} {
		section := "udp:\n  " + tc.line
		if strings.HasPrefix(tc.line, "{") {
			section = "udp: " + tc.line
		}
		cfg, err := network.ParseConfig([]byte("devices: {edge: 127.0.0.1, cloud: 127.0.0.1}\nserver: cloud\n" + section + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		_, err = udp.LoadOptions(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.line, err, tc.want)
		}
	}
}
