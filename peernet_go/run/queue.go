package run

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// replyPoll is how long the queued server's I/O loop waits for a request
// while replies may be coming from the workers: the most a reply waits
// for the loop to send it.
const replyPoll = 200 * time.Microsecond

// job is one queued request.
type job struct {
	req      wire.Frame // header and Peer; Payload is owned by the job
	received time.Time  // monotonic, for the queue stage
	rep      wire.Frame
}

// serveQueued is Serve in throughput mode: one goroutine owns the
// connection (receiving, answering probes, sending replies) and a pool of
// workers, one per engine, take requests from a bounded queue. When the
// queue is full the loop stops reading, so the transport's own buffers
// absorb the burst and the clients see the queueing.
func serveQueued(ctx context.Context, o ServerOptions) (ServerStats, error) {
	var st ServerStats
	engines := append([]*inference.Engine{o.Engine}, o.Workers...)
	batch := max(o.MaxBatch, 1)
	queue := make(chan *job, 2*len(engines)*batch)
	replies := make(chan *job, cap(queue)+len(engines)*batch)
	pool := sync.Pool{New: func() any { return new(job) }}

	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(wctx, e, batch, queue, replies)
		}()
	}
	defer func() {
		close(queue)
		stopWorkers()
		wg.Wait()
	}()

	send := func(j *job) {
		j.rep.Times.ServerSend = o.Clock.Now()
		sctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		if err := o.Conn.Send(sctx, &j.rep); err != nil && ctx.Err() == nil {
			fmt.Fprintf(o.Log, "server: replying to request %d: %v\n", j.req.Seq, err)
		}
		cancel()
		if j.rep.Kind == wire.Error {
			st.Errors++
		}
		j.req.Payload = j.req.Payload[:0]
		pool.Put(j)
	}
	inflight := 0
	for ctx.Err() == nil && (o.Iterations == 0 || st.Requests < o.Iterations || inflight > 0) {
		for drained := false; !drained; { // send what the workers finished
			select {
			case j := <-replies:
				inflight--
				send(j)
			default:
				drained = true
			}
		}
		if len(queue) == cap(queue) || (o.Iterations > 0 && st.Requests >= o.Iterations) {
			select { // full, or done receiving: wait for a worker
			case j := <-replies:
				inflight--
				send(j)
			case <-ctx.Done():
				return st, nil
			}
			continue
		}
		wait := time.Second
		if inflight > 0 {
			wait = replyPoll
		}
		rctx, cancel := context.WithTimeout(ctx, wait)
		req, t1, received, err := receive(ctx, rctx, o, &st)
		cancel()
		if err != nil {
			return st, err
		}
		if req == nil {
			continue
		}
		switch req.Kind {
		case wire.Request:
			st.Requests++
			j := pool.Get().(*job)
			payload := append(j.req.Payload[:0], req.Payload...)
			j.req = *req
			j.req.Payload = payload
			j.req.Times.ServerRecv = t1
			j.received = received
			inflight++
			queue <- j
		case wire.Probe:
			st.Probes++
			rep := wire.Frame{Kind: wire.ProbeReply, Seq: req.Seq, Peer: req.Peer, Times: req.Times}
			rep.Times.ServerRecv = t1
			rep.Encoding, rep.Payload = probeAnswer(ctx, req.Encoding, o.Clock)
			rep.Times.ServerSend = o.Clock.Now()
			sctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
			_ = o.Conn.Send(sctx, &rep)
			cancel()
		case wire.Bye:
			st.Byes++
			fmt.Fprintf(o.Log, "server: client %q finished its run\n", req.Peer)
			if o.ExitOnBye && inflight == 0 {
				return st, nil
			}
		default:
			st.BadFrames++
		}
	}
	return st, nil
}

// work serves batches from the queue until it is closed.
func work(ctx context.Context, e *inference.Engine, batch int, queue <-chan *job, replies chan<- *job) {
	jobs := make([]*job, 0, batch)
	ins := make([]inference.Input, 0, batch)
	for first := range queue {
		jobs = append(jobs[:0], first)
	fill:
		for len(jobs) < batch {
			select {
			case j, ok := <-queue:
				if !ok {
					break fill
				}
				jobs = append(jobs, j)
			default:
				break fill
			}
		}
		start := time.Now()
		ins = ins[:0]
		for _, j := range jobs {
			ins = append(ins, inference.Input{Data: j.req.Payload, Encoding: j.req.Encoding})
		}
		outs, ts, errs := e.RunBatch(ctx, ins)
		for i, j := range jobs {
			j.rep = wire.Frame{Seq: j.req.Seq, Peer: j.req.Peer, Times: j.req.Times}
			j.rep.Stages = wire.Stages{
				Queue: start.Sub(j.received), Preprocess: ts[i].Preprocess,
				Inference: ts[i].Inference, Postprocess: ts[i].Postprocess,
			}
			if errs[i] != nil {
				j.rep.Kind, j.rep.Encoding, j.rep.Payload = wire.Error, "text", []byte(errs[i].Error())
			} else {
				// The model may reuse its output buffer: the reply keeps a copy.
				j.rep.Kind, j.rep.Encoding = wire.Reply, outs[i].Encoding
				j.rep.Payload = append([]byte(nil), outs[i].Data...)
			}
			replies <- j
		}
	}
}
