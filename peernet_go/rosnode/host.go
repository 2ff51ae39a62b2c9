// Package rosnode is the ROS 2 side of peernet, independent of the ROS 2
// client library: the edge node, the cloud node, the topic profiler and the
// ros2 network, written against a three-method [Host] that moves
// serialized messages. Package peernet_go/ros2 implements the Host with
// rclgo and builds the node binaries; everything a node decides —
// parameters, sensors, networks, sinks, statistics windows, routing over
// DDS topics — is here, and tested without ROS.
//
// The pieces map onto the core packages:
//
//   - a topic subscription is a sensor.Sensor (package sensorqueue): the
//     edge node profiles any topic, of any type, as its sensor;
//   - the metrics publishers are metrics.Sinks: peernet_msgs/IterationMetrics
//     per iteration on ~/metrics, statistics_msgs/MetricsMessage windows
//     (package windowstats) on ~/statistics;
//   - DDS is a network.Transport ([Transport]): frames travel as
//     peernet_msgs/Sample and Reply (package rosmsgs) on per-device topics.
//
// Usage, in a node's main (package ros2 provides host):
//
//	var cfg rosnode.EdgeConfig
//	if err := params.Decode(&cfg); err != nil { ... }
//	env := rosnode.Env{Host: host, Node: "/edge_node", Logf: log.Printf}
//	res, err := rosnode.RunEdge(ctx, env, cfg)
package rosnode

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/run"
)

// Host is what the nodes need from a ROS 2 client library: serialized
// publish and subscribe on topics of any type, and the graph's topic types.
// Topic names follow ROS rules: "~/x" is private to the node, relative
// names resolve in its namespace.
type Host interface {
	// Subscribe calls fn with every message on topic, taken serialized
	// (CDR). typeName is the full ROS type, "pkg/msg/Type". fn runs on a
	// goroutine of the host's, one message at a time per subscription;
	// it owns Message.Data. Closing the returned Closer unsubscribes; no
	// call of fn starts after Close returns.
	Subscribe(topic, typeName string, q QoS, fn func(Message)) (io.Closer, error)
	// Publisher returns a publisher of serialized messages of typeName on
	// topic.
	Publisher(topic, typeName string, q QoS) (Publisher, error)
	// TopicType returns the type of topic as the ROS graph knows it now,
	// and false when no publisher or subscription of it has been seen.
	TopicType(topic string) (typeName string, ok bool, err error)
}

// Publisher publishes serialized messages on one topic. Its methods may be
// called from any goroutine, Close also while another call runs.
type Publisher interface {
	// Publish sends one serialized message.
	Publish(msg []byte) error
	// Matched returns the number of subscriptions currently matched.
	Matched() (int, error)
	// Close releases the publisher.
	Close() error
}

// Message is one message taken from a topic, still serialized.
type Message struct {
	// Data is the serialized message (CDR, with its encapsulation header).
	Data []byte
	// Received is when the host took it, on the local clock.
	Received time.Time
	// Published is the publisher's source timestamp; zero when the
	// middleware does not report it.
	Published time.Time
}

// Env is what a node is given besides its parameters.
type Env struct {
	// Host is the ROS 2 client library. Required.
	Host Host
	// Node is the node's fully qualified name, e.g. "/edge_node". It names
	// the source of the statistics the node publishes.
	Node string
	// Logf receives one line per notable event. It defaults to discarding.
	Logf func(format string, args ...any)
	// Version is peernet_go's version, for run.yaml.
	Version string
	// Args is the command line, for run.yaml.
	Args []string
}

func (e *Env) init() error {
	if e.Host == nil {
		return fmt.Errorf("rosnode: Env.Host is required")
	}
	if e.Logf == nil {
		e.Logf = func(string, ...any) {}
	}
	if e.Node == "" {
		e.Node = "/peernet"
	}
	return nil
}

// transport returns the transport called name: the ros2 network over the
// host, or one of package run's.
func (e *Env) transport(name string) (network.Transport, error) {
	if name == TransportName {
		return Transport{Host: e.Host}, nil
	}
	return run.Transport(name)
}

// QoS is a subset of the ROS 2 quality of service a subscription or
// publisher asks for; the other policies keep their defaults (keep last,
// automatic liveliness, no deadline or lifespan).
type QoS struct {
	// Reliability is "best_effort", "reliable" or "system_default".
	Reliability string `param:"reliability" yaml:"reliability"`
	// Durability is "volatile", "transient_local" or "system_default".
	Durability string `param:"durability" yaml:"durability"`
	// Depth is the history depth (keep last), 1 to MaxDepth.
	Depth int `param:"depth" yaml:"depth"`
}

// Values of QoS's policies.
const (
	BestEffort     = "best_effort"
	Reliable       = "reliable"
	Volatile       = "volatile"
	TransientLocal = "transient_local"
	SystemDefault  = "system_default"
)

// MaxDepth bounds QoS.Depth.
const MaxDepth = 1 << 16

// SensorDataQoS is ROS 2's profile for sensor streams, the default of topic
// subscriptions: best effort, volatile, depth 5. A best-effort subscription
// matches reliable and best-effort publishers alike.
func SensorDataQoS() QoS { return QoS{Reliability: BestEffort, Durability: Volatile, Depth: 5} }

// DefaultQoS is ROS 2's default profile: reliable, volatile, depth 10.
func DefaultQoS() QoS { return QoS{Reliability: Reliable, Durability: Volatile, Depth: 10} }

// StatisticsQoS is the profile of the statistics topics: reliable,
// volatile, and deep enough (depth 100) to hold a window's burst, one
// message per stage or per topic and quantity, until it is delivered.
func StatisticsQoS() QoS { return QoS{Reliability: Reliable, Durability: Volatile, Depth: 100} }

// orDefault fills q's empty fields from def.
func (q QoS) orDefault(def QoS) QoS {
	if q.Reliability == "" {
		q.Reliability = def.Reliability
	}
	if q.Durability == "" {
		q.Durability = def.Durability
	}
	if q.Depth == 0 {
		q.Depth = def.Depth
	}
	return q
}

// Validate checks q; errors name the parameter, prefixed by name.
func (q QoS) Validate(name string) error {
	switch q.Reliability {
	case BestEffort, Reliable, SystemDefault:
	default:
		return fmt.Errorf("%s.reliability %q: want %s, %s or %s", name, q.Reliability, BestEffort, Reliable, SystemDefault)
	}
	switch q.Durability {
	case Volatile, TransientLocal, SystemDefault:
	default:
		return fmt.Errorf("%s.durability %q: want %s, %s or %s", name, q.Durability, Volatile, TransientLocal, SystemDefault)
	}
	if q.Depth < 1 || q.Depth > MaxDepth {
		return fmt.Errorf("%s.depth %d: want 1–%d", name, q.Depth, MaxDepth)
	}
	return nil
}

// SplitType splits a full message type name "pkg/msg/Type" (or the short
// "pkg/Type") into its package and type.
func SplitType(typeName string) (pkg, name string, err error) {
	parts := strings.Split(typeName, "/")
	switch {
	case len(parts) == 3 && parts[1] == "msg" && parts[0] != "" && parts[2] != "":
		return parts[0], parts[2], nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("message type %q: want pkg/msg/Type", typeName)
}
