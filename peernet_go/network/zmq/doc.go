// Package zmq is the zmq-tcp transport: frames travel over ZeroMQ
// (pebbe/zmq4 on libzmq 4.3) between a DEALER on each client and one
// ROUTER on the server.
//
// # Usage
//
//	cfg, _ := network.LoadConfig("net.yaml")
//	srv, err := zmq.Transport{}.Listen(ctx, cfg, "cloud") // ROUTER bound to cloud's port
//	cli, err := zmq.Transport{}.Dial(ctx, cfg, "edge")    // DEALER connected to cfg.ServerAddr()
//
//	err = cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1, Payload: sample})
//	req, err := srv.Recv(ctx)               // req.Peer identifies the client
//	reply := wire.Frame{Kind: wire.Reply, Seq: req.Seq, Peer: req.Peer}
//	err = srv.Send(ctx, &reply)             // routed back to that client
//	rep, err := cli.Recv(ctx)
//
// # Socket pattern
//
// The server binds a ROUTER to tcp://HOST:PORT, where HOST is the server
// device's host (or the zmq section's bind address, e.g. "*") and PORT is
// cfg.Port of the server device. Each client connects a DEALER to
// cfg.ServerAddr(). One server therefore serves any number of clients: Recv
// sets Frame.Peer to the sending client's ZeroMQ identity — its device name
// and a random suffix, such as "edge-5f2c09ab"; an identity with
// unprintable bytes, as libzmq gives peers that set none, reads "%" and hex —
// and Send routes a frame to the client its Peer names; a Peer that is not
// connected is an error.
//
// A frame is one ZeroMQ message. A payload larger than 16 KiB travels in a
// part of its own after the wire header, so it is handed to libzmq as it is
// and never copied into a joined buffer; a smaller frame is one part (the
// copy costs less than the libzmq calls of a second part). Recv accepts
// both. A message that is not a frame — wrong number of parts,
// lengths that disagree, a bad header — is reported as a
// *network.DecodeError and the Conn stays usable. Frames larger than
// max_frame are refused by Send, and libzmq drops the connection of a peer
// that sends a larger message part (ZMQ_MAXMSGSIZE), so a hostile peer
// cannot make the receiver allocate more than max_frame per part.
//
// # Deadlines
//
// Send and Recv never block inside libzmq for more than 50 ms: they wait in
// slices (ZMQ_SNDTIMEO and ZMQ_RCVTIMEO, shortened to the context's
// deadline), return as soon as a message moves, and between slices return
// the context's error once it has ended. This is the same blocking call the
// raw baseline makes, so waiting costs no extra system calls. A client's
// DEALER sets ZMQ_IMMEDIATE, so no frame is queued for a server that is not
// there: a Send while the server is down waits until its context ends,
// then fails.
//
// # Threading rule
//
// libzmq sockets are not thread safe, and libzmq aborts the process when a
// socket is closed while another thread is using it. Each Conn has its own
// ZeroMQ context and socket, and a mutex held across every call on them. A
// Conn is meant to be used by one goroutine at a time, but Close may be
// called from any goroutine at any moment: it marks the Conn closed, a Send
// or Recv blocked in another goroutine notices within one 50 ms slice and
// returns network.ErrClosed, and only then is the socket closed (LINGER 0)
// and the context terminated, which therefore never hangs. Every call after
// Close returns network.ErrClosed.
//
// # Reconnection
//
// libzmq reconnects by itself. A client whose server goes away retries
// every 100 ms, backing off to 1 s (reconnect, reconnect_max), and its next
// exchange after the server is back succeeds; frames in flight when the
// server went down are lost, which the profiler counts as lost iterations.
// ZMTP heartbeats (1 s, timeout 3 s) notice peers that vanish without
// closing their TCP connection. A restarted client gets a new identity; the
// server's ROUTER forgets the old one when its connection drops.
//
// # Configuration
//
// The optional zmq section of the network YAML sets [Options]; unknown keys
// are an error:
//
//	zmq:
//	  bind: "*"              # server bind address; default: the server device's host
//	  max_frame: 67108864    # largest frame in bytes, both ways; default 64 MiB
//	  heartbeat: 1s          # ZMTP heartbeat interval; default 1s; negative turns heartbeats off
//	  heartbeat_timeout: 3s  # drop a peer that answers no heartbeat this long; default 3 × heartbeat
//	  sndhwm: 1000           # messages queued per peer for sending; default 1000
//	  rcvhwm: 1000           # messages queued per peer on receipt; default 1000
//	  reconnect: 100ms       # first reconnection delay of a client; default 100ms
//	  reconnect_max: 1s      # ceiling of the reconnection back-off; default 1s
//
// # CURVE
//
// Without the curve section zmq-tcp carries frames in the clear and
// accepts every client that can reach the port; Listen on an address
// other than loopback says so, once, through cfg.Notify. With it, every
// connection uses ZeroMQ's CURVE mechanism (CurveZMQ, RFC 26): the client
// knows the server by its public key, the link is encrypted, and the
// server lets in only clients whose public keys are on its allow-list. A
// ZAP handler (RFC 27) in the server's own ZeroMQ context checks each
// handshake; a refused client is counted (network.Security.Refused) and
// reported, the first few then a count every 10 s. On the client, libzmq
// reports a failed handshake on a monitor socket, and Send or Recv then
// fails at once with [ErrHandshake], saying whether the server refused
// the key or the server's key is not the one configured. `peernet keygen
// NAME` writes a key pair, NAME.key and NAME.pub. Inline keys must be
// quoted in the YAML: Z85 uses YAML's special characters. Conns
// implement network.SecurityReporter.
//
// The ZAP handler runs in a goroutine of its own that alone uses and
// closes its socket (the threading rule below); it is bound before the
// ROUTER and closed after it, because libzmq lets every CURVE client in
// while a context has no handler.
//
// # Raw baseline
//
// Transport also implements network.Baseline: RawServe and RawPing run a
// bare PAIR ping-pong with pebbe/zmq4 — no header, no timestamps — which is
// what the profiler's overhead is measured against.
//
// # zmq-udp
//
// ZeroMQ speaks UDP only through the RADIO/DISH sockets of its draft API,
// and Debian's libzmq is built without it. [UDPTransport] stands for
// --network zmq-udp and says so; the udp transport is the alternative.
//
// The package needs cgo and libzmq (Debian: libzmq3-dev). Built without
// cgo, Transport's methods return [ErrNoCgo].
package zmq
