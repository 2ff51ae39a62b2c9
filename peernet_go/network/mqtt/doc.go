// Package mqtt is the mqtt transport: frames travel as MQTT messages
// (eclipse/paho.mqtt.golang, MQTT 3.1.1) through a broker — one the server
// starts in its own process (mochi-mqtt), or an existing one such as
// mosquitto.
//
// # Usage
//
//	cfg, _ := network.LoadConfig("net.yaml")
//	srv, err := mqtt.Transport{}.Listen(ctx, cfg, "cloud") // starts the embedded broker
//	cli, err := mqtt.Transport{}.Dial(ctx, cfg, "edge")    // connects to it
//
//	err = cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1, Payload: sample})
//	req, err := srv.Recv(ctx)               // req.Peer names the client
//	reply := wire.Frame{Kind: wire.Reply, Seq: req.Seq, Peer: req.Peer}
//	err = srv.Send(ctx, &reply)             // published on that client's reply topic
//	rep, err := cli.Recv(ctx)
//
// # Topics
//
// Every client has its own pair of topics under the configured prefix:
//
//	PREFIX/SERVER/CLIENT/req   requests, client → server
//	PREFIX/SERVER/CLIENT/rep   replies, server → client
//
// SERVER is the server's device name and CLIENT the client's MQTT client
// identifier: its device name and a random suffix, such as
// "edge-5f2c09ab", so that one device may run several clients. The server
// subscribes to PREFIX/SERVER/+/req; Recv sets Frame.Peer to the CLIENT
// level of the request's topic, and Send publishes on the reply topic of
// the client Frame.Peer names. A client's Recv reports the server's device
// name as Frame.Peer. Requests and replies use the configured QoS, and so
// do the subscriptions. Sessions are clean and nothing is retained.
//
// A message holds one whole encoded frame (wire header and payload). A
// message that is not a valid frame, is larger than max_frame, or arrives
// on a topic the end does not expect is reported as a *network.DecodeError
// and the Conn stays usable.
//
// # Broker
//
// With broker: embedded (the default) Listen starts a broker in the
// server's process, listening on the server device's host (or bind) at the
// server device's port (start_port + its index, or port), and every end —
// the server itself included — connects to that host and port. Close stops
// the broker. With broker_tls it listens with TLS, and every end connects
// with ssl://, checking the broker's certificate against tls.ca_file. With
// broker: tcp://HOST:PORT (or ssl://, tls://, mqtt://, mqtts://, ws://,
// wss://) every end connects to that broker instead, with the configured
// credentials and TLS settings.
//
// # Security
//
// An embedded broker that listens on loopback only admits, as mosquitto
// 2.0 does on localhost, anyone when no username is configured, otherwise
// exactly the configured username and password. One that other machines
// can reach — listening on any other address, such as the server device's
// LAN address or 0.0.0.0 — is locked down, as mosquitto is once a listener
// is configured:
//
//   - Every client must present a password: the configured password or
//     password_file, or else one the broker generates at start into
//     password_file (by default mqtt-SERVER-PORT.password in the user's
//     configuration directory, ~/.config/peernet) with mode 0600, saying
//     where once through cfg.Notify. Copy that file to the clients; a
//     client on the same machine finds it by itself. The username defaults
//     to "peernet".
//   - A client whose identifier is ID may publish only on its request
//     topic PREFIX/SERVER/ID/req, subscribe only to its reply topic
//     PREFIX/SERVER/ID/rep (and the raw baseline's .../ping and .../pong),
//     and leave no will elsewhere. Only the server's own clients, which
//     present credentials drawn at random when the broker starts, may use
//     the other topics: no one else can subscribe to "#" and read every
//     request and reply.
//
// Anonymous clients, wrong passwords and forged wills are refused at
// connection, and publishes and subscriptions outside a client's own
// topics are denied; both are counted (network.Security Refused and
// Denied, which the server's Conn reports as a
// network.SecurityReporter) and reported through cfg.Notify, the first
// five of each kind and then a count every 10 s. Clients with the
// password can still take each other's identifiers (MQTT gives the
// newer connection the session): the password is shared, so it is the
// boundary.
//
// TLS errors say what to fix in one line: a broker certificate not signed
// by the CA in tls.ca_file, or for another name; a broker that requires a
// client certificate, or refused this client's. Those, and refused
// credentials, fail Dial at once instead of being retried.
//
// # Deadlines, queue and reconnection
//
// Dial and Listen wait for the broker, retrying every 50 ms and backing off
// to reconnect_max, until their context ends or connect_timeout passes;
// refused credentials and certificates that do not verify fail at once.
// Send waits for the connection and for the MQTT client to take the message
// (and, at QoS 1 and 2, for the broker's acknowledgement) until its context
// ends. Recv waits for a message until its context ends.
//
// Received messages wait for Recv in a queue of queue messages. When it is
// full the oldest message is dropped and counted (Stats.Dropped): a flood
// cannot grow memory, and a profiler prefers the freshest reply.
//
// When the broker goes away, paho reconnects by itself, every reconnect_max
// at most, and each end subscribes again as soon as it is connected; a Send
// meanwhile waits for the connection until its context ends. Messages in
// flight while the broker is down are lost, which the profiler counts as
// lost iterations; the run goes on.
//
// Close may be called from any goroutine, also while another is blocked in
// Send or Recv, which then return network.ErrClosed.
//
// # Configuration
//
// The optional mqtt section of the network YAML sets [Options]; unknown
// keys are an error naming the key:
//
//	mqtt:
//	  broker: embedded        # or tcp://host:1883, ssl://host:8883; default embedded
//	  bind: 0.0.0.0           # embedded broker's listen address; default: the server device's host
//	  port: 1883              # embedded broker's port; default: the server device's port
//	  prefix: peernet         # topic prefix; default peernet
//	  qos: 0                  # 0, 1 or 2, for requests and replies; default 0
//	  username: robot         # default none
//	  password: secret        # default none
//	  tls:                    # for ssl:// and tls:// brokers; default none
//	    ca_file: ca.pem       # CA that signed the broker's certificate; default the system roots
//	    cert_file: edge.pem   # client certificate, with key_file; default none
//	    key_file: edge.key
//	    server_name: broker   # name checked in the broker's certificate; default the broker's host
//	    insecure_skip_verify: false  # accept any broker certificate; default false
//	  max_frame: 67108864     # largest frame in bytes, both ways; default 64 MiB
//	  queue: 256              # messages held between the MQTT client and Recv; default 256
//	  connect_timeout: 10s    # how long Dial and Listen wait for the broker; default 10s
//	  keepalive: 30s          # MQTT keep-alive; default 30s
//	  reconnect_max: 500ms    # ceiling of the reconnection back-off; default 500ms
//
// # Raw baseline
//
// Transport also implements network.Baseline: RawServe and RawPing run a
// bare paho ping-pong through the same kind of broker, at the same QoS —
// the client publishes the payload on PREFIX/SERVER/ID/ping and waits for
// paho's confirmation and for the reply, which the server's message handler
// publishes on PREFIX/SERVER/ID/pong — without frame headers, timestamps or
// queue. That is what the transport's overhead is measured against. With
// broker: embedded, RawServe runs its own embedded broker, like Listen.
//
// Package mqtttest starts a real mosquitto for tests.
package mqtt
