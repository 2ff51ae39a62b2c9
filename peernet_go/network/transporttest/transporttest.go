// Package transporttest checks that a network transport behaves as the
// profiler relies on. It is the conformance kit every transport passes —
// zmq-tcp, mqtt, udp and ros2 alike — modelled on testing/fstest.TestFS: the
// transport's own test supplies a [Harness] that opens its two ends, and
// [Run] exercises them on real sockets in subtests:
//
//   - RequestReply: frames go out and come back with every header field and
//     the payload intact.
//   - Ordering: pipelined requests are answered in order.
//   - TwoClients: two clients at once each get their own replies (the
//     server routes by Frame.Peer).
//   - RecvDeadline, ServerRecvDeadline, Cancel: Recv returns the context's
//     error soon after the deadline or cancellation, never hangs, and the
//     Conn stays usable; Send with an ended context fails.
//   - LargePayload: 1 MiB and the largest frame MaxFrame allows.
//   - OverMaxFrame: a frame one byte over MaxFrame is refused or dropped,
//     never delivered, and the Conn stays usable.
//   - ServerRestart: after the server closes and a new one listens on the
//     same address, the client's exchanges succeed again within
//     RestartWithin.
//   - ClientRestart: a new client reaches a server whose old client left.
//   - CloseDuringRecv: Close from another goroutine unblocks a pending Recv
//     with network.ErrClosed, on both ends.
//   - UseAfterClose: Send and Recv after Close return network.ErrClosed;
//     a second Close does not panic.
//   - Garbage: messages that are not frames reach the server as
//     *network.DecodeError, and the server keeps serving.
//   - Wake: when the serving end is a network.Waker, Wake makes a blocked
//     Recv return network.ErrWoken within milliseconds (median of ten
//     under 10 ms), a Wake with no Recv blocked ends the next one, no
//     frame is lost to a wake, and Wake after Close is harmless.
//
// Usage, in the transport's package:
//
//	func TestConformance(t *testing.T) {
//		cfg := transporttest.LoopbackConfig(t, "")
//		transporttest.Run(t, transporttest.Harness{
//			Listen: func(t *testing.T) network.Conn {
//				c, err := mytransport.Transport{}.Listen(context.Background(), cfg, cfg.Server)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return c
//			},
//			Dial: func(t *testing.T) network.Conn { ... Dial(ctx, cfg, "edge") ... },
//			InjectGarbage: func(t *testing.T, b []byte) { ... write b raw to the server ... },
//			MaxFrame: 4 << 20, // as configured for the test
//		})
//	}
//
// Every call into the transport runs under a watchdog, so a transport call
// that hangs fails its subtest instead of the whole test binary.
//
// The package also holds what the transports' benchmarks share:
// [BenchRoundTrips] times round trips through a transport's Conns,
// [BenchBaseline] its raw [network.Baseline], and [BenchConnVsRaw] sets
// the two against each other in one run; [LoopbackConfig] and [FreePort]
// give tests and benchmarks a config on free ports of 127.0.0.1.
package transporttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Defaults of the Harness bounds.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultRestartWithin = 5 * time.Second
	DefaultDeadlineSlack = time.Second
)

// Harness opens the two ends of the transport under test.
type Harness struct {
	// Listen opens the serving end. Run closes it at the end of each
	// subtest and opens a new one for the next, and the ServerRestart
	// subtest reopens it while a client is connected, so Listen must bind
	// the same address every time. Required.
	Listen func(t *testing.T) network.Conn
	// Dial opens a client end that talks to the serving end. Run holds up
	// to two clients at once. Required.
	Dial func(t *testing.T) network.Conn
	// InjectGarbage delivers b to the serving end as one raw transport
	// message that did not go through the transport's frame encoder (for
	// ZeroMQ a one-part message, for MQTT a publish on the request topic,
	// for UDP a datagram). Optional: nil skips the Garbage subtest.
	InjectGarbage func(t *testing.T, b []byte)
	// MaxFrame is the largest encoded frame the transport is configured to
	// carry. Run sends frames of exactly this size and one byte more, so
	// keep it to a few MiB in tests. Zero skips the frame-size checks.
	MaxFrame int
	// Timeout bounds one exchange. It defaults to DefaultTimeout.
	Timeout time.Duration
	// RestartWithin bounds how long a client may take to reach a restarted
	// server. It defaults to DefaultRestartWithin.
	RestartWithin time.Duration
	// DeadlineSlack is how long after its context ends a blocked call may
	// take to return. It defaults to DefaultDeadlineSlack.
	DeadlineSlack time.Duration
	// Skip names subtests (see Subtests) to skip, with the reason, for
	// transports that cannot offer a behaviour; the reason is logged. An
	// unknown name fails the test.
	Skip map[string]string
}

// Run runs the conformance subtests against h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Listen == nil || h.Dial == nil {
		t.Fatal("transporttest: Harness needs Listen and Dial")
	}
	if h.Timeout <= 0 {
		h.Timeout = DefaultTimeout
	}
	if h.RestartWithin <= 0 {
		h.RestartWithin = DefaultRestartWithin
	}
	if h.DeadlineSlack <= 0 {
		h.DeadlineSlack = DefaultDeadlineSlack
	}
	k := &kit{h: h, rng: rand.New(rand.NewPCG(1, 2))}
	tests := k.subtests()
	for name := range h.Skip {
		if !slices.ContainsFunc(tests, func(st subtest) bool { return st.name == name }) {
			t.Fatalf("transporttest: Harness.Skip names unknown subtest %q (known: %s)", name, strings.Join(Subtests(), ", "))
		}
	}
	for _, st := range tests {
		t.Run(st.name, func(t *testing.T) {
			if why, ok := h.Skip[st.name]; ok {
				t.Skip("skipped by the harness: " + why)
			}
			st.fn(t)
		})
	}
}

// Subtests returns the names of Run's subtests, in the order they run.
func Subtests() []string {
	var k kit
	var names []string
	for _, st := range k.subtests() {
		names = append(names, st.name)
	}
	return names
}

type subtest struct {
	name string
	fn   func(*testing.T)
}

func (k *kit) subtests() []subtest {
	return []subtest{
		{"RequestReply", k.testRequestReply},
		{"Ordering", k.testOrdering},
		{"TwoClients", k.testTwoClients},
		{"RecvDeadline", k.testRecvDeadline},
		{"ServerRecvDeadline", k.testServerRecvDeadline},
		{"Cancel", k.testCancel},
		{"LargePayload", k.testLargePayload},
		{"OverMaxFrame", k.testOverMaxFrame},
		{"ServerRestart", k.testServerRestart},
		{"ClientRestart", k.testClientRestart},
		{"CloseDuringRecv", k.testCloseDuringRecv},
		{"UseAfterClose", k.testUseAfterClose},
		{"Garbage", k.testGarbage},
		{"Wake", k.testWake},
	}
}

type kit struct {
	h   Harness
	mu  sync.Mutex
	rng *rand.Rand
}

func (k *kit) payload(n int) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], k.rng.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// call runs fn in a goroutine of its own and fails t if fn has not returned
// within limit.
func call(t *testing.T, what string, limit time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, limit)
	}
}

// limit is how long a call with ctx may take before the watchdog fires.
func (k *kit) limit(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl) + k.h.DeadlineSlack
	}
	return k.h.Timeout + k.h.DeadlineSlack
}

func (k *kit) send(t *testing.T, ctx context.Context, c network.Conn, f *wire.Frame) error {
	t.Helper()
	var err error
	call(t, "Send", k.limit(ctx), func() { err = c.Send(ctx, f) })
	return err
}

// recv returns a copy of the next frame.
func (k *kit) recv(t *testing.T, ctx context.Context, c network.Conn) (wire.Frame, error) {
	t.Helper()
	var (
		f   wire.Frame
		err error
	)
	call(t, "Recv", k.limit(ctx), func() {
		var p *wire.Frame
		p, err = c.Recv(ctx)
		if err == nil {
			f = clone(p)
		}
	})
	return f, err
}

func (k *kit) close(t *testing.T, c network.Conn) error {
	t.Helper()
	var err error
	call(t, "Close", k.h.Timeout, func() { err = c.Close() })
	return err
}

func clone(f *wire.Frame) wire.Frame {
	g := *f
	g.Payload = bytes.Clone(f.Payload)
	return g
}

// dial opens a client that is closed when t ends.
func (k *kit) dial(t *testing.T) network.Conn {
	t.Helper()
	c := k.h.Dial(t)
	if c == nil {
		t.Fatal("Harness.Dial returned a nil Conn")
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (k *kit) ctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// request returns a request frame the echo server answers.
func request(seq uint64, enc string, payload []byte) *wire.Frame {
	return &wire.Frame{
		Kind:     wire.Request,
		Seq:      seq,
		Times:    wire.Times{ClientSend: time.Now().UnixNano()},
		Encoding: enc,
		Payload:  payload,
	}
}

// exchange sends req and returns the reply, failing t on any error.
func (k *kit) exchange(t *testing.T, c network.Conn, req *wire.Frame) wire.Frame {
	t.Helper()
	ctx := k.ctx(t, k.h.Timeout)
	if err := k.send(t, ctx, c, req); err != nil {
		t.Fatalf("Send seq %d: %v", req.Seq, err)
	}
	rep, err := k.recv(t, ctx, c)
	if err != nil {
		t.Fatalf("Recv reply to seq %d: %v", req.Seq, err)
	}
	checkReply(t, req, &rep)
	return rep
}

// echo is the reply the test server sends to f.
func echo(f *wire.Frame) wire.Frame {
	kind := wire.Reply
	if f.Kind == wire.Probe {
		kind = wire.ProbeReply
	}
	return wire.Frame{
		Kind: kind,
		Seq:  f.Seq,
		Times: wire.Times{
			ClientSend: f.Times.ClientSend,
			ServerRecv: f.Times.ClientSend + 1,
			ServerSend: f.Times.ClientSend + 2,
		},
		Stages:   wire.Stages{Queue: 3, Preprocess: 4, Inference: 5, Postprocess: 6},
		Encoding: f.Encoding,
		Payload:  f.Payload,
		Peer:     f.Peer,
	}
}

func checkReply(t *testing.T, req, rep *wire.Frame) {
	t.Helper()
	want := echo(req)
	switch {
	case rep.Kind != want.Kind:
		t.Fatalf("reply to seq %d: kind %v, want %v", req.Seq, rep.Kind, want.Kind)
	case rep.Seq != want.Seq:
		t.Fatalf("reply to seq %d has seq %d", req.Seq, rep.Seq)
	case rep.Times != want.Times:
		t.Fatalf("reply to seq %d: times %+v, want %+v", req.Seq, rep.Times, want.Times)
	case rep.Stages != want.Stages:
		t.Fatalf("reply to seq %d: stages %+v, want %+v", req.Seq, rep.Stages, want.Stages)
	case rep.Encoding != want.Encoding:
		t.Fatalf("reply to seq %d: encoding %q, want %q", req.Seq, rep.Encoding, want.Encoding)
	case !bytes.Equal(rep.Payload, want.Payload):
		t.Fatalf("reply to seq %d: payload of %d bytes differs from the %d sent", req.Seq, len(rep.Payload), len(want.Payload))
	}
}

// server is the serving end driven by its own goroutine, which alone calls
// Recv and Send on it and closes it when stopped.
type server struct {
	t       *testing.T
	k       *kit
	conn    network.Conn
	silent  atomic.Bool // swallow requests instead of answering
	frames  atomic.Int64
	decoded chan *network.DecodeError
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool

	mu    sync.Mutex
	peers map[string]int
}

// startServer opens the serving end and answers every request with echo
// until t ends or stop is called.
func (k *kit) startServer(t *testing.T) *server {
	t.Helper()
	c := k.h.Listen(t)
	if c == nil {
		t.Fatal("Harness.Listen returned a nil Conn")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{
		t: t, k: k, conn: c, cancel: cancel,
		decoded: make(chan *network.DecodeError, 64),
		done:    make(chan struct{}),
		peers:   map[string]int{},
	}
	go s.loop(ctx)
	t.Cleanup(s.stop)
	return s
}

func (s *server) loop(ctx context.Context) {
	defer close(s.done)
	defer s.conn.Close()
	for {
		f, err := s.conn.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, network.ErrClosed) {
				return
			}
			if de := (*network.DecodeError)(nil); errors.As(err, &de) {
				select {
				case s.decoded <- de:
				default:
				}
				continue
			}
			s.t.Logf("server Recv: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.frames.Add(1)
		s.mu.Lock()
		s.peers[f.Peer]++
		s.mu.Unlock()
		if s.silent.Load() || (f.Kind != wire.Request && f.Kind != wire.Probe) {
			continue
		}
		reply := echo(f)
		sctx, cancel := context.WithTimeout(ctx, s.k.h.Timeout)
		err = s.conn.Send(sctx, &reply)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.t.Logf("server Send seq %d to %q: %v", reply.Seq, reply.Peer, err)
		}
	}
}

// stop ends the server goroutine, which closes the serving end. A Recv
// that ignores its context's cancellation is a failure; the server is then
// closed from here to unblock it.
func (s *server) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	s.cancel()
	wait := s.k.h.DeadlineSlack
	select {
	case <-s.done:
		return
	case <-time.After(wait):
	}
	s.t.Errorf("server Recv did not return within %v of its context's cancellation", wait)
	s.conn.Close()
	select {
	case <-s.done:
	case <-time.After(s.k.h.Timeout):
		s.t.Errorf("server Recv did not return within %v of Close", s.k.h.Timeout)
	}
}

func (s *server) peerCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.peers))
	for p, n := range s.peers {
		m[p] = n
	}
	return m
}

func (k *kit) testRequestReply(t *testing.T) {
	k.startServer(t)
	c := k.dial(t)
	reqs := []*wire.Frame{
		request(1, "text", []byte("hello")),
		request(2, "bytes", nil),
		{Kind: wire.Probe, Seq: 3, Times: wire.Times{ClientSend: -5}},
		request(4, "rgb8:4x2", k.payload(24)),
		request(5, "cdr:sensor_msgs/msg/Image", k.payload(64<<10)),
		request(1<<40, "json", []byte(`{"x":1}`)),
	}
	for _, req := range reqs {
		k.exchange(t, c, req)
	}
}

func (k *kit) testOrdering(t *testing.T) {
	k.startServer(t)
	c := k.dial(t)
	k.exchange(t, c, request(1, "bytes", []byte("warm-up")))
	const n = 32
	ctx := k.ctx(t, k.h.Timeout)
	reqs := make([]*wire.Frame, n)
	for i := range reqs {
		reqs[i] = request(uint64(100+i), "bytes", k.payload(1+i*37))
		if err := k.send(t, ctx, c, reqs[i]); err != nil {
			t.Fatalf("Send seq %d: %v", reqs[i].Seq, err)
		}
	}
	for _, req := range reqs {
		rep, err := k.recv(t, ctx, c)
		if err != nil {
			t.Fatalf("Recv reply to seq %d: %v", req.Seq, err)
		}
		checkReply(t, req, &rep)
	}
}

func (k *kit) testTwoClients(t *testing.T) {
	s := k.startServer(t)
	const n = 20
	clients := []network.Conn{k.dial(t), k.dial(t)}
	// Both first requests are out before either client reads a reply, so
	// that the server has both peers' requests in hand at once: a server
	// that confuses its peers then gives one of them the other's reply.
	var sent sync.WaitGroup
	sent.Add(len(clients))
	var wg sync.WaitGroup
	for ci, c := range clients {
		wg.Go(func() {
			var once sync.Once
			defer once.Do(sent.Done)
			ctx := k.ctx(t, 2*k.h.Timeout)
			for i := range n {
				req := request(uint64(1000*ci+i), "text", fmt.Appendf(nil, "client %d request %d", ci, i))
				if err := c.Send(ctx, req); err != nil {
					t.Errorf("client %d: Send seq %d: %v", ci, req.Seq, err)
					return
				}
				if i == 0 {
					once.Do(sent.Done)
					sent.Wait()
				}
				p, err := c.Recv(ctx)
				if err != nil {
					t.Errorf("client %d: Recv reply to seq %d: %v", ci, req.Seq, err)
					return
				}
				if p.Seq != req.Seq || !bytes.Equal(p.Payload, req.Payload) {
					t.Errorf("client %d got seq %d %q, want seq %d %q: replies crossed", ci, p.Seq, p.Payload, req.Seq, req.Payload)
					return
				}
			}
		})
	}
	call(t, "two clients' exchanges", 2*k.h.Timeout+k.h.DeadlineSlack, wg.Wait)
	if t.Failed() {
		return
	}
	peers := s.peerCounts()
	if len(peers) != 2 {
		t.Fatalf("server saw peers %q, want two distinct Frame.Peer values", keys(peers))
	}
	for p, c := range peers {
		if c != n {
			t.Errorf("peer %q sent %d frames, want %d", p, c, n)
		}
	}
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// expectCtxErr checks that a call ended by ctx returned want soon enough.
func (k *kit) expectCtxErr(t *testing.T, what string, err, want error, elapsed, after time.Duration) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("%s returned no error; want %v", what, want)
	case !errors.Is(err, want):
		t.Fatalf("%s: error %q is not %v (wrap ctx.Err() with %%w)", what, err, want)
	case elapsed > after+k.h.DeadlineSlack:
		t.Fatalf("%s returned %v after a context that ended at %v", what, elapsed, after)
	}
}

func (k *kit) testRecvDeadline(t *testing.T) {
	s := k.startServer(t)
	c := k.dial(t)
	k.exchange(t, c, request(1, "bytes", []byte("before")))
	s.silent.Store(true)
	sctx := k.ctx(t, k.h.Timeout)
	if err := k.send(t, sctx, c, request(2, "bytes", []byte("unanswered"))); err != nil {
		t.Fatalf("Send: %v", err)
	}
	const d = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	f, err := k.recv(t, ctx, c)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatalf("Recv with a silent peer returned seq %d", f.Seq)
	}
	k.expectCtxErr(t, "Recv with a 100ms deadline", err, context.DeadlineExceeded, elapsed, d)
	if elapsed < d-5*time.Millisecond {
		t.Fatalf("Recv returned %v before its %v deadline", elapsed, d)
	}
	// The Conn is still usable and holds no stale reply.
	s.silent.Store(false)
	k.exchange(t, c, request(3, "bytes", []byte("after")))
}

func (k *kit) testServerRecvDeadline(t *testing.T) {
	srv := k.h.Listen(t)
	t.Cleanup(func() { srv.Close() })
	const d = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	f, err := k.recv(t, ctx, srv)
	if err == nil {
		t.Fatalf("server Recv with no client returned seq %d", f.Seq)
	}
	k.expectCtxErr(t, "server Recv with a 100ms deadline", err, context.DeadlineExceeded, time.Since(start), d)
	if err := k.close(t, srv); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func (k *kit) testCancel(t *testing.T) {
	s := k.startServer(t)
	c := k.dial(t)
	k.exchange(t, c, request(1, "bytes", []byte("before")))
	s.silent.Store(true)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := k.send(t, ctx, c, request(2, "bytes", []byte("x"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a canceled context: error %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	const d = 100 * time.Millisecond
	time.AfterFunc(d, cancel)
	start := time.Now()
	_, err := k.recv(t, ctx, c)
	k.expectCtxErr(t, "Recv canceled after 100ms", err, context.Canceled, time.Since(start), d)

	s.silent.Store(false)
	k.exchange(t, c, request(3, "bytes", []byte("after")))
}

func (k *kit) testLargePayload(t *testing.T) {
	k.startServer(t)
	c := k.dial(t)
	size := 1 << 20
	if k.h.MaxFrame > 0 {
		size = min(size, k.h.MaxFrame-wire.FixedHeaderSize-len("bytes"))
	}
	k.exchange(t, c, request(1, "bytes", k.payload(size)))
	if k.h.MaxFrame <= 0 {
		t.Log("MaxFrame not set: largest-frame check skipped")
		return
	}
	req := request(2, "bytes", nil)
	req.Payload = k.payload(k.h.MaxFrame - req.HeaderLen())
	if req.Len() != k.h.MaxFrame {
		t.Fatalf("kit: frame of %d bytes, want %d", req.Len(), k.h.MaxFrame)
	}
	k.exchange(t, c, req)
}

func (k *kit) testOverMaxFrame(t *testing.T) {
	if k.h.MaxFrame <= 0 {
		t.Skip("MaxFrame not set")
	}
	k.startServer(t)
	c := k.dial(t)
	k.exchange(t, c, request(1, "bytes", []byte("before")))
	big := request(2, "bytes", nil)
	big.Payload = k.payload(k.h.MaxFrame - big.HeaderLen() + 1)
	ctx := k.ctx(t, k.h.Timeout)
	if err := k.send(t, ctx, c, big); err != nil {
		if errors.Is(err, network.ErrClosed) {
			t.Fatalf("Send of an oversized frame closed the Conn: %v", err)
		}
		t.Logf("oversized frame refused by Send: %v", err)
	}
	// Whatever happened to it, the oversized frame must not come back, and
	// the next exchange must work (a transport may need to reconnect).
	deadline := time.Now().Add(k.h.RestartWithin)
	for seq := uint64(3); ; seq++ {
		req := request(seq, "bytes", []byte("after"))
		rep, err := k.tryExchange(t, c, req, k.h.Timeout)
		if err == nil {
			checkReply(t, req, &rep)
			return
		}
		if errors.As(err, new(errDelivered)) {
			t.Fatalf("a frame over MaxFrame (%d bytes) was delivered", k.h.MaxFrame+1)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exchange succeeded within %v after an oversized frame: %v", k.h.RestartWithin, err)
		}
	}
}

// errDelivered reports that tryExchange received a reply to seq 2, the
// oversized frame of testOverMaxFrame.
type errDelivered struct{}

func (errDelivered) Error() string { return "oversized frame delivered" }

// tryExchange sends req and waits up to d for its reply, skipping replies
// to earlier requests. It reports failures as errors.
func (k *kit) tryExchange(t *testing.T, c network.Conn, req *wire.Frame, d time.Duration) (wire.Frame, error) {
	t.Helper()
	ctx := k.ctx(t, d)
	if err := k.send(t, ctx, c, req); err != nil {
		return wire.Frame{}, fmt.Errorf("send seq %d: %w", req.Seq, err)
	}
	for {
		rep, err := k.recv(t, ctx, c)
		if err != nil {
			return wire.Frame{}, fmt.Errorf("recv reply to seq %d: %w", req.Seq, err)
		}
		if rep.Seq == 2 && len(rep.Payload) > 1000 {
			return wire.Frame{}, errDelivered{}
		}
		if rep.Seq == req.Seq {
			return rep, nil
		}
		t.Logf("skipping late reply to seq %d", rep.Seq)
	}
}

func (k *kit) testServerRestart(t *testing.T) {
	s := k.startServer(t)
	c := k.dial(t)
	k.exchange(t, c, request(1, "bytes", []byte("first server")))
	s.stop()

	// No server: the exchange fails, and does not hang.
	if _, err := k.tryExchange(t, c, request(2, "bytes", []byte("nobody")), 300*time.Millisecond); err == nil {
		t.Fatal("an exchange succeeded while the server was closed")
	}

	k.startServer(t)
	start := time.Now()
	for seq := uint64(3); ; seq++ {
		req := request(seq, "bytes", []byte("second server"))
		rep, err := k.tryExchange(t, c, req, time.Second)
		if err == nil {
			checkReply(t, req, &rep)
			t.Logf("client reached the restarted server in %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if errors.Is(err, network.ErrClosed) {
			t.Fatalf("client Conn closed itself when the server went away: %v", err)
		}
		if time.Since(start) > k.h.RestartWithin {
			t.Fatalf("client did not reach the restarted server within %v: %v", k.h.RestartWithin, err)
		}
	}
}

func (k *kit) testClientRestart(t *testing.T) {
	k.startServer(t)
	c1 := k.dial(t)
	k.exchange(t, c1, request(1, "bytes", []byte("first client")))
	if err := k.close(t, c1); err != nil {
		t.Errorf("Close: %v", err)
	}
	c2 := k.dial(t)
	k.exchange(t, c2, request(2, "bytes", []byte("second client")))
}

func (k *kit) testCloseDuringRecv(t *testing.T) {
	t.Run("Server", func(t *testing.T) {
		k.closeDuringRecv(t, k.h.Listen(t))
	})
	t.Run("Client", func(t *testing.T) {
		k.startServer(t)
		c := k.dial(t)
		k.exchange(t, c, request(1, "bytes", []byte("before")))
		k.closeDuringRecv(t, c)
	})
}

func (k *kit) closeDuringRecv(t *testing.T, c network.Conn) {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	ctx := k.ctx(t, 10*k.h.Timeout)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Recv(ctx)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := k.close(t, c); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, network.ErrClosed) {
			t.Fatalf("Recv blocked during Close returned %v, want network.ErrClosed", err)
		}
	case <-time.After(k.h.DeadlineSlack):
		t.Fatalf("Recv blocked during Close did not return within %v of Close", k.h.DeadlineSlack)
	}
	t.Logf("Close and the blocked Recv returned in %v", time.Since(start).Round(time.Millisecond))
}

func (k *kit) testUseAfterClose(t *testing.T) {
	check := func(t *testing.T, c network.Conn, peer string) {
		if err := k.close(t, c); err != nil {
			t.Errorf("Close: %v", err)
		}
		ctx := k.ctx(t, k.h.Timeout)
		req := request(1, "bytes", []byte("late"))
		req.Peer = peer
		if err := k.send(t, ctx, c, req); !errors.Is(err, network.ErrClosed) {
			t.Errorf("Send after Close: %v, want network.ErrClosed", err)
		}
		if _, err := k.recv(t, ctx, c); !errors.Is(err, network.ErrClosed) {
			t.Errorf("Recv after Close: %v, want network.ErrClosed", err)
		}
		if err := k.close(t, c); err != nil && !errors.Is(err, network.ErrClosed) {
			t.Errorf("second Close: %v, want nil or network.ErrClosed", err)
		}
	}
	t.Run("Client", func(t *testing.T) {
		k.startServer(t)
		c := k.dial(t)
		k.exchange(t, c, request(1, "bytes", []byte("before")))
		check(t, c, "")
	})
	t.Run("Server", func(t *testing.T) {
		srv := k.h.Listen(t)
		check(t, srv, "someone")
	})
}

// Garbage is the list of non-frames the Garbage subtest injects.
func garbage(k *kit) map[string][]byte {
	good, err := request(1, "bytes", []byte("payload")).Marshal()
	if err != nil {
		panic(err)
	}
	mut := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	return map[string][]byte{
		"random":        append([]byte{'X'}, k.payload(63)...),
		"magic only":    []byte("PN"),
		"bad version":   mut(func(b []byte) []byte { b[2] = 99; return b }),
		"bad kind":      mut(func(b []byte) []byte { b[3] = 200; return b }),
		"truncated":     good[:len(good)-3],
		"huge length":   mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[80:], 0xffffffff); return b }),
		"trailing byte": append(bytes.Clone(good), 0),
	}
}

func (k *kit) testGarbage(t *testing.T) {
	if k.h.InjectGarbage == nil {
		t.Skip("Harness.InjectGarbage not set")
	}
	s := k.startServer(t)
	c := k.dial(t)
	k.exchange(t, c, request(1, "bytes", []byte("before")))
	frames := s.frames.Load()
	for name, b := range garbage(k) {
		k.h.InjectGarbage(t, b)
		select {
		case de := <-s.decoded:
			if de.Err == nil || de.Error() == "" {
				t.Errorf("%s: DecodeError without a cause: %#v", name, de)
			}
			t.Logf("%s: %v", name, de)
		case <-time.After(k.h.Timeout):
			t.Fatalf("%s: server reported no *network.DecodeError within %v", name, k.h.Timeout)
		}
	}
	if n := s.frames.Load(); n != frames {
		t.Errorf("garbage produced %d frames", n-frames)
	}
	k.exchange(t, c, request(2, "bytes", []byte("after")))
}

// wakeMedianLimit is the most the median wake-up of a blocked Recv may take:
// far below a polling transport's slice.
const wakeMedianLimit = 10 * time.Millisecond

func (k *kit) testWake(t *testing.T) {
	srv := k.h.Listen(t)
	t.Cleanup(func() { srv.Close() })
	w, ok := srv.(network.Waker)
	if !ok {
		t.Skip("the serving end is not a network.Waker")
	}
	ctx := k.ctx(t, 10*k.h.Timeout)

	// A blocked Recv wakes promptly.
	var lat []time.Duration
	for range 10 {
		errc := make(chan error, 1)
		started := make(chan struct{})
		go func() {
			close(started)
			_, err := srv.Recv(ctx)
			errc <- err
		}()
		<-started
		time.Sleep(20 * time.Millisecond)
		t0 := time.Now()
		w.Wake()
		select {
		case err := <-errc:
			if !errors.Is(err, network.ErrWoken) {
				t.Fatalf("Recv blocked during Wake returned %v, want network.ErrWoken", err)
			}
		case <-time.After(k.h.DeadlineSlack):
			t.Fatalf("Recv blocked during Wake did not return within %v", k.h.DeadlineSlack)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	if med := lat[len(lat)/2]; med > wakeMedianLimit {
		t.Errorf("median wake-up of a blocked Recv %v, want under %v (all: %v)", med, wakeMedianLimit, lat)
	}

	// A Wake with nothing blocked ends the next Recv, not the one after.
	w.Wake()
	w.Wake() // wakes do not pile up
	if _, err := k.recv(t, k.ctx(t, k.h.Timeout), srv); !errors.Is(err, network.ErrWoken) {
		t.Fatalf("Recv after Wake returned %v, want network.ErrWoken", err)
	}
	short := k.ctx(t, 200*time.Millisecond)
	if _, err := k.recv(t, short, srv); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Recv after one Wake returned %v, want the deadline", err)
	}

	// No frame is lost to a wake.
	c := k.dial(t)
	req := request(7, "bytes", []byte("through a wake"))
	if err := k.send(t, k.ctx(t, k.h.Timeout), c, req); err != nil {
		t.Fatalf("Send: %v", err)
	}
	w.Wake()
	got := false
	deadline := k.ctx(t, k.h.Timeout)
	for !got {
		f, err := k.recv(t, deadline, srv)
		switch {
		case errors.Is(err, network.ErrWoken):
		case err != nil:
			t.Fatalf("Recv of the frame sent around a Wake: %v", err)
		case f.Seq != 7:
			t.Fatalf("got frame seq %d, want 7", f.Seq)
		default:
			got = true
		}
	}

	if err := k.close(t, srv); err != nil {
		t.Errorf("Close: %v", err)
	}
	w.Wake() // after Close: nothing happens
}
