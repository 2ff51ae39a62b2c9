//go:build cgo

package zmq

import (
	"fmt"
	"io"
	"sync/atomic"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/peernet/peernet_go/peernet_go/internal/ratelog"
)

// zapEndpoint is where libzmq sends a context's ZAP requests (RFC 27).
const zapEndpoint = "inproc://zeromq.zap.01"

// zapHandler answers the ZAP requests of one conn's ZeroMQ context: it
// lets in the CURVE clients whose keys are allowed and refuses, counts and
// reports the others.
//
// Its REP socket belongs to its goroutine alone, which closes it: libzmq
// sockets are not thread safe. The handler must be bound before the
// ROUTER binds and closed only after the ROUTER is: libzmq lets every
// CURVE client in when a context has no ZAP handler.
type zapHandler struct {
	sock    *zmq4.Socket
	allowed map[[KeyLen]byte]bool
	log     *ratelog.Logger
	refused atomic.Uint64
	stop    atomic.Bool
	done    chan struct{}
}

// startZAP binds a ZAP handler in zctx and starts its goroutine.
func startZAP(zctx *zmq4.Context, allowed map[[KeyLen]byte]bool, notices io.Writer) (*zapHandler, error) {
	sock, err := zctx.NewSocket(zmq4.REP)
	if err != nil {
		return nil, fmt.Errorf("ZAP handler: %w", err)
	}
	err = setOptions(
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetRcvtimeo(waitSlice) },
		func() error { return sock.SetSndtimeo(waitSlice) },
		func() error { return sock.Bind(zapEndpoint) },
	)
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("ZAP handler: %w", err)
	}
	z := &zapHandler{
		sock: sock, allowed: allowed, done: make(chan struct{}),
		log: ratelog.New(notices, ratelog.Options{}),
	}
	go z.serve()
	return z, nil
}

// serve answers requests until stop is set, then closes the socket. It
// looks at stop at least every waitSlice.
func (z *zapHandler) serve() {
	defer close(z.done)
	defer z.sock.Close()
	for !z.stop.Load() {
		frames, err := z.sock.RecvMessageBytes(0)
		if err != nil {
			continue // a timeout: look at stop again
		}
		_, _ = z.sock.SendMessage(z.answer(frames)) // a lost answer fails that handshake
	}
}

// answer decides one request.
func (z *zapHandler) answer(frames [][]byte) []string {
	r, err := parseZAPRequest(frames)
	if err != nil {
		id := ""
		if len(frames) > 1 && len(frames[1]) <= zapMaxFrame {
			id = string(frames[1])
		}
		z.refused.Add(1)
		z.log.Printf("zmq-refused-client", "zmq-tcp: refused a connection: %v", err)
		return zapReply(id, "500", "malformed request", "")
	}
	code, text, user, refused := zapDecide(&r, z.allowed)
	if refused {
		z.refused.Add(1)
		what := "its CURVE public key " + keyText(&r) + " is not in client_public_keys"
		if r.mechanism != "CURVE" {
			what = "it uses mechanism " + r.mechanism + ", not CURVE"
		}
		z.log.Printf("zmq-refused-client", "zmq-tcp: refused a client from %s: %s", r.address, what)
	}
	return zapReply(r.id, code, text, user)
}

// keyText returns the Z85 key of a CURVE request.
func keyText(r *zapRequest) string {
	if len(r.credentials) == 1 && len(r.credentials[0]) == KeyLen {
		return z85Encode([]byte(r.credentials[0]))
	}
	return "(none)"
}

// close stops the goroutine, which closes the socket, and waits for it:
// at most one waitSlice.
func (z *zapHandler) close() {
	z.stop.Store(true)
	<-z.done
	z.log.Flush()
}
