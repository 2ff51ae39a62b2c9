// Package udp is the udp transport: frames travel in plain UDP datagrams
// (Go's net.UDPConn), split into fragments when they are larger than a
// datagram should be, for studies of lossy links. Nothing is retransmitted:
// a frame missing a datagram is lost, and every loss is counted.
//
// # Usage
//
//	cfg, _ := network.LoadConfig("net.yaml")
//	srv, err := udp.Transport{}.Listen(ctx, cfg, "cloud") // bound to cloud's port
//	cli, err := udp.Transport{}.Dial(ctx, cfg, "edge")    // connected to it
//
//	err = cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1, Payload: sample})
//	req, err := srv.Recv(ctx)               // req.Peer is the client's address
//	reply := wire.Frame{Kind: wire.Reply, Seq: req.Seq, Peer: req.Peer}
//	err = srv.Send(ctx, &reply)             // sent back to that address
//	rep, err := cli.Recv(ctx)
//
//	st := cli.(udp.StatsReporter).Stats()  // fragments, losses, duplicates, …
//
// # Datagrams
//
// The server binds the server device's host (or bind) at the server
// device's port, and learns each client's address from the datagrams it
// receives: Recv sets Frame.Peer to it ("127.0.0.1:40312"), and Send sends
// to the address Frame.Peer names. A client's socket is connected to the
// server, so it receives nothing from anyone else; its Recv reports the
// server's device name as Frame.Peer.
//
// Each datagram is a 16-byte fragment header — magic "PU", version, flags,
// the sender's message id, fragment index, fragment count, the frame's
// total length — then up to payload_size bytes of the encoded frame (wire
// header and payload). A frame of T bytes takes C = ceil(T/payload_size)
// datagrams of ceil(T/C) bytes each, the last one shorter, so the receiver
// knows where each fragment goes and how long it must be from its header
// alone, in any order of arrival. A datagram whose header does not add up
// is reported as a *network.DecodeError and the Conn stays usable.
//
// # Reassembly, memory and loss accounting
//
// Fragments are copied into a buffer per frame; the frame is delivered
// when its last fragment arrives. A frame still incomplete
// reassembly_timeout after its first fragment arrived is dropped
// (Stats.TimedOut). At most max_partial frames, of at most
// max_partial_bytes in all, are reassembled at once: beyond that the
// oldest is dropped (Stats.Evicted), so a flood of fragments — even of
// forged headers announcing huge frames — cannot grow memory without
// bound. Frames longer than max_frame are refused by Send and their
// fragments dropped on receipt.
//
// Message ids number each sender's frames. The receiver keeps, per sender,
// the highest id received and a window of the 1024 before it: an id
// skipped counts as lost (Stats.Lost) until it arrives late, when it
// counts as reordered instead (Stats.Reordered); a frame or fragment
// received twice is dropped and counted (Stats.Duplicates).
//
// Packets reports the datagrams sent and received so far; a run loop reads
// it around each exchange to record each iteration's fragments each way.
//
// # Deadlines and buffers
//
// Send hands each datagram to the kernel; it waits only when the socket
// buffer is full, until ctx ends, and checks ctx between fragments. Recv
// waits until ctx ends; it sleeps in the kernel for at most 50 ms at a
// time, so a cancelled context is noticed within 50 ms without a watcher
// per call, and Close (from any goroutine) ends the wait at once with
// network.ErrClosed. A client whose server is not there gets ICMP port
// unreachable reports, which are counted (Stats.Unreachable); its
// exchanges time out, and succeed again once a server listens.
//
// A burst of fragments larger than the receiver's socket buffer is lost.
// read_buffer and write_buffer set SO_RCVBUF and SO_SNDBUF (4 MiB by
// default); the kernel caps them at net.core.rmem_max and wmem_max unless
// the process has CAP_NET_ADMIN, in which case the caps are overridden.
// Stats reports the sizes granted. On loopback, 1 MiB frames (750
// datagrams each) crossed without loss with a 1 MiB receive buffer and were
// mostly lost with 256 KiB; a stock Linux caps unprivileged buffers at
// 208 KiB, so raise net.core.rmem_max for large frames.
//
// # Configuration
//
// The optional udp section of the network YAML sets [Options]; unknown
// keys are an error naming the key:
//
//	udp:
//	  bind: 0.0.0.0             # server's listen address; default: the server device's host
//	  payload_size: 1400        # frame bytes per datagram; default 1400
//	  max_frame: 16777216       # largest frame in bytes, both ways; default 16 MiB
//	  reassembly_timeout: 1s    # a partly received frame is dropped after this; default 1s
//	  max_partial: 64           # frames being reassembled at once; default 64
//	  max_partial_bytes: 33554432  # their buffers' total size; default 2 × max_frame
//	  read_buffer: 4194304      # SO_RCVBUF in bytes; default 4 MiB
//	  write_buffer: 4194304     # SO_SNDBUF in bytes; default 4 MiB
//
// The default payload_size keeps each datagram (1400 bytes, 16 of header,
// 28 of UDP and IPv4) within a 1500-byte Ethernet MTU, so the IP layer
// never fragments. Options.Drop withholds chosen datagrams, as a lossy link
// would, for experiments and tests.
//
// # Authentication
//
// Without a key anyone who can reach the server's port can send it
// frames, and Listen on an address other than loopback says so, once,
// through cfg.Notify. With a pre-shared key (key_file, or key) on both
// ends, as in OWAMP's authenticated mode, every datagram carries an
// HMAC-SHA-256 tag, truncated to 16 bytes, over its header, its bytes and
// the sender's session; a datagram whose tag is missing or wrong is
// dropped before reassembly and counted (Stats.BadTags), and the first
// few are reported, then a count every 10 s. A datagram of a frame
// already delivered that comes from another address, or of a frame older
// than the last 1024 of its sender, is a replay: dropped and counted
// (Stats.Replays). A receiver that restarts forgets what it delivered, so
// datagrams recorded before the restart pass once more. Frames are not
// encrypted. `peernet keygen --psk FILE` writes a random key. Conns
// implement network.SecurityReporter.
//
// # Raw baseline
//
// Transport also implements network.Baseline: RawServe and RawPing run a
// bare Go UDP ping-pong — no fragment header, no frame, no reassembly —
// which is what the transport's overhead is measured against. Payloads
// larger than payload_size travel as consecutive datagrams of payload_size
// bytes and the server answers once it has received as many bytes as a
// request holds; there is no loss recovery, so a lost datagram ends the
// raw run with a timeout.
//
// ZeroMQ's own UDP (--network zmq-udp) needs a libzmq with the draft API;
// this transport is the alternative.
package udp
