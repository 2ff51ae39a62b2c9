package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/internal/ratelog"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Defaults and limits of ServerOptions.
const (
	// DefaultQueueBytes bounds the payload bytes of the requests waiting
	// for a worker: 256 MiB.
	DefaultQueueBytes = 256 << 20
	// maxQueue bounds the number of requests waiting for a worker.
	maxQueue = 4096
	// replyPoll is how long the I/O loop waits for a request while replies
	// may be coming from the workers, on a Conn that cannot be woken.
	replyPoll = 200 * time.Microsecond
	// maxPeers bounds the peers the statistics keep apart; later ones are
	// counted together under OtherPeers.
	maxPeers = 1024
)

// OtherPeers is the name under which ServerStats count the peers beyond the
// first thousand.
const OtherPeers = "(other peers)"

// ServerOptions configure a server run.
type ServerOptions struct {
	// Conn is the serving end, from a network.Transport's Listen. Serve
	// uses it from the calling goroutine only (and calls Wake, when the
	// Conn is a network.Waker, from the workers).
	Conn network.Conn
	// Engines run the model, one worker per engine, each with its own
	// model instance: requests wait in a queue for a free worker, and the
	// time each waited is its queue stage.
	Engines []*inference.Engine
	// Engine is a shorthand for Engines with one engine; it is used when
	// Engines is empty.
	Engine *inference.Engine
	// MaxBatch is the most queued requests a worker takes at once (a model
	// implementing inference.Batcher infers them in one call). It defaults
	// to 1.
	MaxBatch int
	// QueueBytes bounds the payload bytes of the requests waiting for a
	// worker; when it is reached the server stops reading until a worker
	// frees room, and the clients see the wait as upload. It defaults to
	// DefaultQueueBytes.
	QueueBytes int
	// MaxFrame, when positive, is the largest request frame answered by
	// the model: a larger one gets an error reply that says so.
	MaxFrame int
	// Iterations stops the server after answering that many requests; 0
	// serves until ctx ends.
	Iterations int
	// ExitOnBye stops the server when a client says its run is over.
	ExitOnBye bool
	// Clock stamps the server's side of each exchange. It defaults to
	// clock.New(0); give it a skew to pretend the server's clock is off.
	Clock *clock.Clock
	// Log receives one line per notable event (bad frames, model errors,
	// clients finishing), bad frames rate-limited. It defaults to
	// io.Discard.
	Log io.Writer
	// OnAnswer, if set, is told of every request answered, as it is sent,
	// for live statistics; it runs in the I/O goroutine and must not block.
	OnAnswer func(Answer)
	// Gauges, if set, are kept up to date while Serve runs, for live
	// metrics (see ServerGauges).
	Gauges *ServerGauges
}

// ServerGauges are a running server's live state, safe to read from any
// goroutine while Serve updates them.
type ServerGauges struct {
	// Workers is the number of inference workers.
	Workers atomic.Int64
	// Depth is the number of requests received and not yet answered
	// (waiting for a worker, being inferred, or waiting to be sent).
	Depth atomic.Int64
	// Busy is the workers' summed busy time in nanoseconds: its rate over
	// Workers is their utilisation.
	Busy atomic.Int64
	// BadFrames counts the frames that did not decode or were unexpected.
	BadFrames atomic.Int64
}

// Answer is one answered request, as ServerOptions.OnAnswer sees it.
type Answer struct {
	// Peer sent the request; Failed is true when the model failed.
	Peer   string
	Failed bool
	// Stages are the server's stage times, Held its whole hold (receive
	// to send).
	Stages wire.Stages
	Held   time.Duration
	// RequestBytes and ReplyBytes are the frames' encoded sizes.
	RequestBytes, ReplyBytes int
}

// ServerStats count what a server run did.
type ServerStats struct {
	// Requests answered, Errors among them (model failures), Probes
	// answered, BadFrames received, Clients that said bye.
	Requests, Errors, Probes, BadFrames, Byes int
	// Peers has the counts of each peer, by the name the transport gives
	// it (one per connection), at most about a thousand of them: the rest
	// are counted under OtherPeers.
	Peers map[string]*PeerStats
	// Workers is the number of inference workers, Busy their summed busy
	// time and Elapsed the run's length: Busy / (Workers × Elapsed) is the
	// workers' utilisation.
	Workers int
	Busy    time.Duration
	Elapsed time.Duration
	// QueueMax is the longest queue an arriving request found ahead of it,
	// and QueueMean the mean.
	QueueMax  int
	QueueMean float64
	// Security is what the transport refused, when it authenticates its
	// peers (see network.SecurityReporter).
	Security network.Security
}

// Utilisation returns the share of the run the workers spent inferring, in
// [0, 1].
func (s ServerStats) Utilisation() float64 {
	if s.Workers == 0 || s.Elapsed <= 0 {
		return 0
	}
	return min(1, float64(s.Busy)/(float64(s.Workers)*float64(s.Elapsed)))
}

// PeerStats count what one peer sent.
type PeerStats struct {
	// Requests answered, Errors among them, Probes answered, BadFrames
	// received from the peer.
	Requests, Errors, Probes, BadFrames int
	// Queue sums the time its requests waited for a worker, QueueMax is
	// the longest wait.
	Queue, QueueMax time.Duration
}

// QueueMean returns the mean time the peer's requests waited for a worker.
func (p *PeerStats) QueueMean() time.Duration {
	if p.Requests == 0 {
		return 0
	}
	return p.Queue / time.Duration(p.Requests)
}

// job is one request on its way through a worker.
type job struct {
	req      wire.Frame // header and Peer; Payload is owned by the job
	received time.Time  // monotonic, for the queue stage
	rep      wire.Frame
	out      []byte // reply payload buffer, reused
	queue    time.Duration
}

// server is one Serve run.
type server struct {
	ServerOptions
	st      ServerStats
	waker   network.Waker
	log     *ratelog.Logger
	queue   chan *job
	replies chan *job
	pool    sync.Pool

	inflight      int // requests received and not yet answered
	inflightBytes int // their payload bytes
	depthSum      int64
}

// Serve answers requests until the iterations are done, a client says bye
// (with ExitOnBye), or ctx ends. A cancelled ctx is not an error.
//
// One goroutine, the caller's, owns the connection: it receives every frame
// as soon as it reaches the process and stamps its arrival (t1) there, so
// that the time a request then waits for a worker is its queue stage and
// never part of its upload; it answers clock probes at once; and it sends
// the replies the workers finish (woken by them when the Conn is a
// network.Waker, else polling every 200 µs while replies are due).
func Serve(ctx context.Context, o ServerOptions) (ServerStats, error) {
	if len(o.Engines) == 0 && o.Engine != nil {
		o.Engines = []*inference.Engine{o.Engine}
	}
	if o.Conn == nil || len(o.Engines) == 0 {
		return ServerStats{}, errors.New("run: server needs a connection and an engine")
	}
	if o.Clock == nil {
		o.Clock = clock.New(0)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	o.MaxBatch = max(o.MaxBatch, 1)
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	s := &server{
		ServerOptions: o,
		log:           ratelog.New(o.Log, ratelog.Options{}),
		queue:         make(chan *job, maxQueue),
		replies:       make(chan *job, maxQueue+len(o.Engines)*o.MaxBatch),
	}
	s.st.Workers = len(o.Engines)
	s.st.Peers = map[string]*PeerStats{}
	s.pool.New = func() any { return new(job) }
	s.waker, _ = o.Conn.(network.Waker)
	if s.Gauges == nil {
		s.Gauges = new(ServerGauges)
	}
	s.Gauges.Workers.Store(int64(len(o.Engines)))
	start := time.Now()
	err := s.run(ctx)
	s.st.Elapsed = time.Since(start)
	s.st.Busy = time.Duration(s.Gauges.Busy.Load())
	if s.st.Requests > 0 {
		s.st.QueueMean = float64(s.depthSum) / float64(s.st.Requests)
	}
	if sr, ok := o.Conn.(network.SecurityReporter); ok {
		s.st.Security = sr.Security()
	}
	s.log.Flush()
	return s.st, err
}

func (s *server) run(ctx context.Context) error {
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, e := range s.Engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(wctx, e)
		}()
	}
	defer func() {
		close(s.queue)
		stopWorkers()
		wg.Wait()
	}()

	// Deadlines for receiving (the idle wake-up) without a timer per
	// request.
	idle, poll := newDeadlines(ctx, time.Second), newDeadlines(ctx, replyPoll)
	defer idle.stop()
	defer poll.stop()
	for ctx.Err() == nil {
		s.sendFinished(ctx, false)
		doneReceiving := s.Iterations > 0 && s.st.Requests >= s.Iterations
		if doneReceiving && s.inflight == 0 {
			return nil
		}
		if doneReceiving || s.inflight >= maxQueue || s.inflightBytes > s.QueueBytes {
			// Done, or the queue is full: wait for a worker.
			if !s.sendFinished(ctx, true) {
				return nil
			}
			continue
		}
		rctx := idle.get()
		if s.inflight > 0 && s.waker == nil {
			rctx = poll.get()
		}
		req, t1, received, err := s.receive(ctx, rctx)
		if err != nil {
			return err
		}
		if req == nil {
			continue
		}
		peer := s.peer(req.Peer)
		switch req.Kind {
		case wire.Request:
			s.st.Requests++
			peer.Requests++
			if s.MaxFrame > 0 && req.Len() > s.MaxFrame {
				s.refuse(ctx, req, t1, peer)
				continue
			}
			j := s.pool.Get().(*job)
			payload := append(j.req.Payload[:0], req.Payload...)
			j.req = *req
			j.req.Payload = payload
			j.req.Times.ServerRecv = t1
			j.received = received
			depth := len(s.queue)
			s.depthSum += int64(depth)
			s.st.QueueMax = max(s.st.QueueMax, depth)
			s.inflight++
			s.Gauges.Depth.Add(1)
			s.inflightBytes += len(payload)
			s.queue <- j // never blocks: at most cap(queue) are in flight
			// Let a worker have this P now: this goroutine is about to wait
			// in the transport (inside libzmq, holding its thread), and a
			// worker left in its run queue would wait for the scheduler to
			// take the P back.
			runtime.Gosched()
		case wire.Probe:
			s.st.Probes++
			peer.Probes++
			rep := wire.Frame{Kind: wire.ProbeReply, Seq: req.Seq, Peer: req.Peer, Times: req.Times}
			rep.Times.ServerRecv = t1
			rep.Encoding, rep.Payload = probeAnswer(ctx, req.Encoding, s.Clock)
			rep.Times.ServerSend = s.Clock.Now()
			sctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
			if err := s.Conn.Send(sctx, &rep); err != nil && ctx.Err() == nil {
				s.log.Printf("reply", "server: answering probe %d: %v", req.Seq, err)
			}
			cancel()
		case wire.Bye:
			s.st.Byes++
			fmt.Fprintf(s.Log, "server: client %q finished its run\n", req.Peer)
			if s.ExitOnBye {
				for s.inflight > 0 && s.sendFinished(ctx, true) {
				}
				return nil
			}
		default:
			s.st.BadFrames++
			s.Gauges.BadFrames.Add(1)
			peer.BadFrames++
			s.log.Printf("bad-frame", "server: unexpected %v frame from %s", req.Kind, req.Peer)
		}
	}
	return nil
}

// refuse answers a request that is too large with an error reply.
func (s *server) refuse(ctx context.Context, req *wire.Frame, t1 int64, peer *PeerStats) {
	s.st.Errors++
	peer.Errors++
	rep := wire.Frame{Kind: wire.Error, Seq: req.Seq, Peer: req.Peer, Times: req.Times, Encoding: "text"}
	rep.Times.ServerRecv = t1
	rep.Payload = fmt.Appendf(nil, "request of %d bytes exceeds the server's max-frame of %d", req.Len(), s.MaxFrame)
	rep.Times.ServerSend = s.Clock.Now()
	sctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	if err := s.Conn.Send(sctx, &rep); err != nil && ctx.Err() == nil {
		s.log.Printf("reply", "server: refusing request %d: %v", req.Seq, err)
	}
}

// receive waits for the next frame until rctx ends, and stamps its arrival
// on the server's clock and on the monotonic clock. It returns a nil frame,
// and no error, when nothing usable arrived (idle, a wake-up, a bad frame,
// ctx ended: the caller checks its loop condition); an error only when the
// connection failed.
func (s *server) receive(ctx, rctx context.Context) (*wire.Frame, int64, time.Time, error) {
	req, err := s.Conn.Recv(rctx)
	t1, received := s.Clock.Now(), time.Now()
	if err == nil {
		return req, t1, received, nil
	}
	var de *network.DecodeError
	switch {
	case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, network.ErrWoken):
		return nil, 0, received, nil
	case errors.As(err, &de):
		s.st.BadFrames++
		s.Gauges.BadFrames.Add(1)
		s.peer(de.Peer).BadFrames++
		s.log.Printf("bad-frame", "server: %v", err)
		return nil, 0, received, nil
	}
	return nil, 0, received, fmt.Errorf("server: receiving: %w", err)
}

// peer returns the statistics of the named peer.
func (s *server) peer(name string) *PeerStats {
	if name == "" {
		name = "(unknown)"
	}
	p := s.st.Peers[name]
	if p == nil {
		if len(s.st.Peers) >= maxPeers {
			name = OtherPeers
			if p = s.st.Peers[name]; p != nil {
				return p
			}
		}
		p = &PeerStats{}
		s.st.Peers[name] = p
	}
	return p
}

// sendFinished sends the replies the workers have finished: those ready now,
// or, with wait, at least one (waiting for it). It returns false when ctx
// ended first.
func (s *server) sendFinished(ctx context.Context, wait bool) bool {
	if wait {
		select {
		case j := <-s.replies:
			s.send(ctx, j)
		case <-ctx.Done():
			return false
		}
	}
	for {
		select {
		case j := <-s.replies:
			s.send(ctx, j)
		default:
			return true
		}
	}
}

func (s *server) send(ctx context.Context, j *job) {
	s.inflight--
	s.Gauges.Depth.Add(-1)
	j.rep.Times.ServerSend = s.Clock.Now()
	sctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	if err := s.Conn.Send(sctx, &j.rep); err != nil && ctx.Err() == nil {
		s.log.Printf("reply", "server: replying to request %d: %v", j.req.Seq, err)
	}
	cancel()
	p := s.peer(j.req.Peer)
	if j.rep.Kind == wire.Error {
		s.st.Errors++
		p.Errors++
	}
	if s.OnAnswer != nil {
		s.OnAnswer(Answer{
			Peer: j.req.Peer, Failed: j.rep.Kind == wire.Error, Stages: j.rep.Stages,
			Held:         time.Duration(j.rep.Times.ServerSend - j.rep.Times.ServerRecv),
			RequestBytes: j.req.Len(), ReplyBytes: j.rep.Len(),
		})
	}
	p.Queue += j.queue
	p.QueueMax = max(p.QueueMax, j.queue)
	s.inflightBytes -= len(j.req.Payload)
	j.req.Payload = j.req.Payload[:0]
	s.pool.Put(j)
}

// work serves batches from the queue until it is closed.
func (s *server) work(ctx context.Context, e *inference.Engine) {
	jobs := make([]*job, 0, s.MaxBatch)
	ins := make([]inference.Input, 0, s.MaxBatch)
	for first := range s.queue {
		jobs = append(jobs[:0], first)
	fill:
		for len(jobs) < s.MaxBatch {
			select {
			case j, ok := <-s.queue:
				if !ok {
					break fill
				}
				jobs = append(jobs, j)
			default:
				break fill
			}
		}
		start := time.Now()
		if _, batched := e.Model().(inference.Batcher); len(jobs) == 1 || !batched {
			// One at a time: each request waits in the queue until its
			// own turn comes.
			for _, j := range jobs {
				t := time.Now()
				out, ts, err := e.Run(ctx, inference.Input{Data: j.req.Payload, Encoding: j.req.Encoding})
				s.finish(j, t, out, ts, err)
			}
		} else {
			ins = ins[:0]
			for _, j := range jobs {
				ins = append(ins, inference.Input{Data: j.req.Payload, Encoding: j.req.Encoding})
			}
			outs, ts, errs := e.RunBatch(ctx, ins)
			for i, j := range jobs {
				s.finish(j, start, outs[i], ts[i], errs[i])
			}
		}
		s.Gauges.Busy.Add(int64(time.Since(start)))
	}
}

// finish makes j's reply from the model's answer and hands it to the I/O
// loop.
func (s *server) finish(j *job, start time.Time, out inference.Output, ts inference.Timings, err error) {
	j.queue = start.Sub(j.received)
	j.rep = wire.Frame{Seq: j.req.Seq, Peer: j.req.Peer, Times: j.req.Times}
	j.rep.Stages = wire.Stages{
		Queue: j.queue, Preprocess: ts.Preprocess, Inference: ts.Inference, Postprocess: ts.Postprocess,
	}
	if err != nil {
		j.rep.Kind, j.rep.Encoding = wire.Error, "text"
		j.out = append(j.out[:0], err.Error()...)
	} else {
		// The model may reuse its output buffer: the reply keeps a copy.
		j.rep.Kind, j.rep.Encoding = wire.Reply, out.Encoding
		j.out = append(j.out[:0], out.Data...)
	}
	j.rep.Payload = j.out
	s.replies <- j
	if s.waker != nil {
		s.waker.Wake()
	}
}

// probeAnswer answers what a probe asks beyond timestamps: the server's
// offset to an NTP server, or its host name and time-sync state.
func probeAnswer(ctx context.Context, ask string, clk *clock.Clock) (encoding string, payload []byte) {
	if server, ok := strings.CutPrefix(ask, ntpEncoding); ok {
		return "json", ntpReply(ctx, server, clk.Skew())
	}
	if ask == hostEncoding {
		host, _ := os.Hostname()
		b, _ := json.Marshal(hostAnswer{Host: host, SyncState: clock.SyncState(), CPU: int64(processCPU()), MaxRSS: maxRSS()})
		return "json", b
	}
	return "", nil
}

// ntpReply queries an NTP server for this machine's offset, corrected for an
// artificial skew, as a probe reply payload.
func ntpReply(ctx context.Context, server string, skew time.Duration) []byte {
	var a ntpAnswer
	off, bound, err := clock.QueryNTP(ctx, server, clock.NTPTimeout)
	if err != nil {
		a.Err = err.Error()
	} else {
		a.Offset, a.Bound = off-skew, bound
	}
	b, _ := json.Marshal(a)
	return b
}
