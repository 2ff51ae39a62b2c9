package mqtt

import (
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := LoadOptions(network.Loopback(0))
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Broker: BrokerEmbedded, Prefix: DefaultPrefix, MaxFrame: wire.DefaultMaxSize, Queue: DefaultQueue,
		ConnectTimeout: DefaultConnectTimeout, KeepAlive: DefaultKeepAlive, ReconnectMax: DefaultReconnectMax,
	}
	if *o != want {
		t.Errorf("defaults %+v, want %+v", *o, want)
	}
}

func TestLoadOptions(t *testing.T) {
	cfg, err := network.ParseConfig([]byte(`
devices: {edge: 10.0.0.1, cloud: 10.0.0.2}
server: cloud
mqtt:
  broker: ssl://broker.lan:8883
  prefix: lab/robots
  qos: 2
  username: robot
  password: secret
  tls: {ca_file: ca.pem, cert_file: c.pem, key_file: c.key, server_name: broker}
  max_frame: 1048576
  queue: 16
  connect_timeout: 2s
  keepalive: 5s
  reconnect_max: 1s
`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := LoadOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Broker: "ssl://broker.lan:8883", Prefix: "lab/robots", QoS: 2, Username: "robot", Password: "secret",
		TLS:      TLSOptions{CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "c.key", ServerName: "broker"},
		MaxFrame: 1 << 20, Queue: 16, ConnectTimeout: 2 * time.Second, KeepAlive: 5 * time.Second, ReconnectMax: time.Second,
	}
	if *o != want {
		t.Errorf("got %+v\nwant %+v", *o, want)
	}
	url, listen, err := endpoints(cfg, o)
	if url != "ssl://broker.lan:8883" || listen != "" || err != nil {
		t.Errorf("endpoints = %q, %q, %v", url, listen, err)
	}
}

func TestEmbeddedEndpoints(t *testing.T) {
	cfg := network.Loopback(6000)
	for _, tc := range []struct {
		o           Options
		url, listen string
	}{
		{Options{}, "tcp://127.0.0.1:6001", "127.0.0.1:6001"},
		{Options{Port: 1883}, "tcp://127.0.0.1:1883", "127.0.0.1:1883"},
		{Options{Bind: "0.0.0.0"}, "tcp://127.0.0.1:6001", "0.0.0.0:6001"},
		{Options{Bind: "::", Port: 1883}, "tcp://127.0.0.1:1883", "[::]:1883"},
	} {
		if err := tc.o.Initialize(); err != nil {
			t.Fatal(err)
		}
		url, listen, err := endpoints(cfg, &tc.o)
		if url != tc.url || listen != tc.listen || err != nil {
			t.Errorf("%+v: endpoints = %q, %q, %v; want %q, %q", tc.o, url, listen, err, tc.url, tc.listen)
		}
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		section string
		want    string
	}{
		{"brokr: x", `mqtt: line 4: unknown key "brokr"`},
		{"tls: {cafile: x}", `unknown key "cafile"`},
		{"broker: localhost:1883", `mqtt: broker: "localhost:1883": scheme "localhost", want embedded or tcp://`},
		{"broker: tcp://localhost", `mqtt: broker: "tcp://localhost": want SCHEME://HOST:PORT`},
		{"broker: http://h:80", `scheme "http"`},
		{"{broker: tcp://h:1883, port: 1884}", "mqtt: bind, port: only for broker: embedded (the broker is tcp://h:1883)"},
		{"tls: {ca_file: ca.pem}", "mqtt: tls: the embedded broker speaks plain TCP"},
		{"bind: 'a b'", `mqtt: bind: "a b" is not an IP address or a host name`},
		{"port: 70000", "mqtt: port: 70000 out of range [1, 65535]"},
		{"qos: 3", "mqtt: qos: 3, want 0, 1 or 2"},
		{"qos: -1", "mqtt: qos: -1, want 0, 1 or 2"},
		{"password: x", "mqtt: password: given without a username"},
		{"{broker: 'ssl://h:8883', tls: {cert_file: c.pem}}", "mqtt: tls: cert_file and key_file go together"},
		{"max_frame: 100", "mqtt: max_frame: 100 out of range [1024, 268369920]"},
		{"queue: -1", "mqtt: queue: -1 out of range [1, 1048576]"},
		{"connect_timeout: 1us", "mqtt: connect_timeout: 1µs is shorter than 1ms"},
		{"keepalive: 100ms", "mqtt: keepalive: 100ms is shorter than 1s"},
		{"reconnect_max: -1s", "mqtt: reconnect_max: -1s is shorter than 1ms"},
		{"prefix: /a", `mqtt: prefix: "/a" has an empty level`},
		{"prefix: a//b", `mqtt: prefix: "a//b" has an empty level`},
		{"prefix: a/+", `mqtt: prefix: "a/+" holds '+', '#' or '$'`},
		{"prefix: '#'", `holds '+', '#' or '$'`},
		{"prefix: \"a\\tb\"", `mqtt: prefix: "a\tb" holds a control character`},
	} {
		section := "\n  " + tc.section
		if strings.HasPrefix(tc.section, "{") {
			section = " " + tc.section
		}
		doc := "devices: {edge: 127.0.0.1, cloud: 127.0.0.1}\nserver: cloud\nmqtt:" + section + "\n"
		cfg, err := network.ParseConfig([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.section, err)
		}
		_, err = LoadOptions(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.section, err, tc.want)
		}
	}
}

// peerCases drive TestPeerOf and seed FuzzPeerOf.
var peerCases = []struct {
	topic, base string
	peer        string
	ok          bool
}{
	{"peernet/cloud/edge-1234abcd/req", "peernet/cloud/", "edge-1234abcd", true},
	{"lab/a/cloud/x/req", "lab/a/cloud/", "x", true},
	{"peernet/cloud//req", "peernet/cloud/", "", false},
	{"peernet/cloud/a/b/req", "peernet/cloud/", "", false},
	{"peernet/cloud/edge/rep", "peernet/cloud/", "", false},
	{"peernet/other/edge/req", "peernet/cloud/", "", false},
	{"peernet/cloud/req", "peernet/cloud/", "", false},
	{"peernet/cloud/+/req", "peernet/cloud/", "", false},
}

func TestPeerOf(t *testing.T) {
	for _, tc := range peerCases {
		peer, ok := peerOf(tc.topic, tc.base)
		if peer != tc.peer && tc.ok || ok != tc.ok {
			t.Errorf("peerOf(%q, %q) = %q, %v; want %q, %v", tc.topic, tc.base, peer, ok, tc.peer, tc.ok)
		}
	}
}

// FuzzPeerOf: a peer read from a topic is valid, and the reply topic built
// from it leads back to the same peer.
func FuzzPeerOf(f *testing.F) {
	for _, tc := range peerCases {
		f.Add(tc.topic, tc.base)
	}
	f.Fuzz(func(t *testing.T, topic, base string) {
		peer, ok := peerOf(topic, base)
		if !ok {
			return
		}
		if !validPeer(peer) {
			t.Fatalf("peerOf(%q, %q) accepted invalid peer %q", topic, base, peer)
		}
		if base+peer+"/req" != topic {
			t.Fatalf("peer %q does not rebuild topic %q", peer, topic)
		}
		again, ok := peerOf(base+peer+"/req", base)
		if !ok || again != peer {
			t.Fatalf("round trip of %q gave %q, %v", peer, again, ok)
		}
	})
}
