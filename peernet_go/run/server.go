package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// ServerOptions configure a server run.
type ServerOptions struct {
	// Conn is the serving end, from a network.Transport's Listen. Serve
	// uses it from the calling goroutine only.
	Conn network.Conn
	// Engine runs the model on each request.
	Engine *inference.Engine
	// Workers are further engines, each with its own model instance, that
	// serve requests concurrently with Engine (throughput mode). Requests
	// then wait in a queue, and the time each waited is its queue stage.
	Workers []*inference.Engine
	// MaxBatch is the most queued requests a worker takes at once (a model
	// implementing inference.Batcher infers them in one call). It defaults
	// to 1; above 1 it turns on throughput mode even with one engine.
	MaxBatch int
	// Iterations stops the server after answering that many requests; 0
	// serves until ctx ends.
	Iterations int
	// ExitOnBye stops the server when a client says its run is over.
	ExitOnBye bool
	// Clock stamps the server's side of each exchange. It defaults to
	// clock.New(0); give it a skew to pretend the server's clock is off.
	Clock *clock.Clock
	// Log receives one line per notable event (bad frames, model errors,
	// clients finishing). It defaults to io.Discard.
	Log io.Writer
}

// ServerStats count what a server run did.
type ServerStats struct {
	// Requests answered, Errors among them (model failures), Probes
	// answered, BadFrames received, Clients that said bye.
	Requests, Errors, Probes, BadFrames, Byes int
}

// Serve answers requests until the iterations are done, a client says bye
// (with ExitOnBye), or ctx ends. A cancelled ctx is not an error.
func Serve(ctx context.Context, o ServerOptions) (ServerStats, error) {
	var st ServerStats
	if o.Conn == nil || o.Engine == nil {
		return st, errors.New("run: server needs a connection and an engine")
	}
	if o.Clock == nil {
		o.Clock = clock.New(0)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if len(o.Workers) > 0 || o.MaxBatch > 1 {
		return serveQueued(ctx, o)
	}
	rep := wire.Frame{}
	// Deadlines for receiving (the idle wake-up) and replying, without a
	// timer per request.
	idle, replies := newDeadlines(ctx, time.Second), newDeadlines(ctx, DefaultTimeout)
	defer idle.stop()
	defer replies.stop()
	for ctx.Err() == nil && (o.Iterations == 0 || st.Requests < o.Iterations) {
		req, t1, _, err := receive(ctx, idle.get(), o, &st)
		if err != nil {
			return st, err
		}
		if req == nil {
			continue
		}
		rep = wire.Frame{Seq: req.Seq, Peer: req.Peer, Times: req.Times}
		rep.Times.ServerRecv = t1
		switch req.Kind {
		case wire.Request:
			st.Requests++
			out, t, err := o.Engine.Run(ctx, inference.Input{Data: req.Payload, Encoding: req.Encoding})
			rep.Stages = wire.Stages{Preprocess: t.Preprocess, Inference: t.Inference, Postprocess: t.Postprocess}
			if err != nil {
				st.Errors++
				rep.Kind, rep.Encoding, rep.Payload = wire.Error, "text", []byte(err.Error())
			} else {
				rep.Kind, rep.Encoding, rep.Payload = wire.Reply, out.Encoding, out.Data
			}
		case wire.Probe:
			st.Probes++
			rep.Kind = wire.ProbeReply
			rep.Encoding, rep.Payload = probeAnswer(ctx, req.Encoding, o.Clock)
		case wire.Bye:
			st.Byes++
			fmt.Fprintf(o.Log, "server: client %q finished its run\n", req.Peer)
			if o.ExitOnBye {
				return st, nil
			}
			continue
		default:
			st.BadFrames++
			fmt.Fprintf(o.Log, "server: unexpected %v frame\n", req.Kind)
			continue
		}
		rep.Times.ServerSend = o.Clock.Now()
		err = o.Conn.Send(replies.get(), &rep)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(o.Log, "server: replying to %v %d: %v\n", req.Kind, req.Seq, err)
		}
	}
	return st, nil
}

// receive waits for the next frame until rctx ends, and stamps its arrival
// on the server's clock and on the monotonic clock. It returns a nil frame,
// and no error, when nothing usable arrived (idle, a bad frame, ctx ended:
// the caller checks its loop condition); an error only when the connection
// failed.
func receive(ctx, rctx context.Context, o ServerOptions, st *ServerStats) (*wire.Frame, int64, time.Time, error) {
	req, err := o.Conn.Recv(rctx)
	t1, received := o.Clock.Now(), time.Now()
	if err == nil {
		return req, t1, received, nil
	}
	var de *network.DecodeError
	switch {
	case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded):
		return nil, 0, received, nil
	case errors.As(err, &de):
		st.BadFrames++
		fmt.Fprintf(o.Log, "server: %v\n", err)
		return nil, 0, received, nil
	}
	return nil, 0, received, fmt.Errorf("server: receiving: %w", err)
}

// probeAnswer answers what a probe asks beyond timestamps: the server's
// offset to an NTP server, or its host name and time-sync state.
func probeAnswer(ctx context.Context, ask string, clk *clock.Clock) (encoding string, payload []byte) {
	if server, ok := strings.CutPrefix(ask, ntpEncoding); ok {
		return "json", ntpReply(ctx, server, clk.Skew())
	}
	if ask == hostEncoding {
		host, _ := os.Hostname()
		b, _ := json.Marshal(hostAnswer{Host: host, SyncState: clock.SyncState()})
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
