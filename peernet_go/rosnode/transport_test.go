package rosnode

import (
	"context"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

const testNetwork = `
devices:
  edge: 127.0.0.1
  edge-2: 127.0.0.1
  cloud: 127.0.0.1
server: cloud
ros2:
  max_frame: 4194304
  depth: 64
`

// TestTransportConformance runs the transport kit on the ros2 network over
// the in-process bus; peernet_go/ros2 runs it over DDS.
func TestTransportConformance(t *testing.T) {
	cfg, err := network.ParseConfig([]byte(testNetwork))
	if err != nil {
		t.Fatal(err)
	}
	h := newMemHost("/test")
	tr := Transport{Host: h}
	transporttest.Run(t, transporttest.Harness{
		Listen: func(t *testing.T) network.Conn {
			c, err := tr.Listen(context.Background(), cfg, "cloud")
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Dial: func(t *testing.T) network.Conn {
			c, err := tr.Dial(context.Background(), cfg, "edge")
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		InjectGarbage: func(t *testing.T, b []byte) {
			pub, err := h.Publisher("/peernet/edge/sample", msgs.TypeSample, QoS{Depth: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			if err := pub.Publish(b); err != nil {
				t.Fatal(err)
			}
		},
		MaxFrame: 4 << 20,
	})
}

func TestROS2Network(t *testing.T) {
	cfg := network.Loopback(0)
	n, err := ROS2NetworkFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s, r := n.Topics("edge-1.a"); s != "/peernet/edge_1_a/sample" || r != "/peernet/edge_1_a/reply" {
		t.Fatalf("topics %s %s", s, r)
	}
	if n.QoS != (QoS{Reliable, Volatile, DefaultNetworkQoSDepth}) || n.MaxFrame != 64<<20 {
		t.Fatalf("defaults %+v", n)
	}
	for _, c := range []struct{ section, want string }{
		{"sample_topic: /x", "must contain {device}"},
		{"sample_topic: /a/{device}\n  reply_topic: /a/{device}", "are both"},
		{"reliability: sometimes", `ros2.reliability "sometimes"`},
		{"depth: -1", "ros2.depth -1"},
		{"max_frame: 10", "ros2.max_frame 10 out of range"},
		{"colour: blue", `unknown key "colour"`},
	} {
		doc := "devices: {edge: 127.0.0.1, cloud: 127.0.0.1}\nserver: cloud\nros2:\n  " + c.section + "\n"
		cfg, err := network.ParseConfig([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", c.section, err)
		}
		if _, err := ROS2NetworkFrom(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.section, err, c.want)
		}
	}
	for in, want := range map[string]string{"edge": "edge", "9lives": "_9lives", "": "_", "a.b-c": "a_b_c"} {
		if got := TopicToken(in); got != want {
			t.Errorf("TopicToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTransportErrors(t *testing.T) {
	h := newMemHost("/test")
	tr := Transport{Host: h}
	cfg := network.Loopback(0)
	ctx := context.Background()
	if _, err := tr.Dial(ctx, cfg, "nobody"); err == nil || !strings.Contains(err.Error(), `device "nobody"`) {
		t.Errorf("Dial as an unknown device: %v", err)
	}
	only, _ := network.ParseConfig([]byte("devices: {cloud: 127.0.0.1}\nserver: cloud\n"))
	if _, err := tr.Listen(ctx, only, "cloud"); err == nil || !strings.Contains(err.Error(), "no device besides the server") {
		t.Errorf("Listen without clients: %v", err)
	}
	srv, err := tr.Listen(ctx, cfg, "cloud")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := tr.Dial(ctx, cfg, "edge")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A server cannot send to a peer it does not know, nor a client a
	// reply.
	if err := srv.Send(ctx, &wireReply); err == nil || !strings.Contains(err.Error(), `no client device for peer "stranger/1"`) {
		t.Errorf("reply to a stranger: %v", err)
	}
	if err := c.Send(ctx, &wireReply); err == nil || !strings.Contains(err.Error(), "does not travel as a sample") {
		t.Errorf("client sending a reply: %v", err)
	}
}

var wireReply = wire.Frame{Kind: wire.Reply, Seq: 1, Peer: "stranger/1"}
