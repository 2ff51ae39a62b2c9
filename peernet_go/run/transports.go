package run

import (
	"fmt"
	"slices"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/network/udp"
	"github.com/peernet/peernet_go/peernet_go/network/zmq"
)

// transports lists the transports by --network name.
var transports = map[string]network.Transport{
	zmq.Name:    zmq.Transport{},
	zmq.UDPName: zmq.UDPTransport{},
	mqtt.Name:   mqtt.Transport{},
	udp.Name:    udp.Transport{},
}

// TransportNames returns the names of the transports, sorted.
func TransportNames() []string {
	names := make([]string, 0, len(transports))
	for n := range transports {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Transport returns the transport called name.
func Transport(name string) (network.Transport, error) {
	if t, ok := transports[name]; ok {
		return t, nil
	}
	if name == "ros" || name == "ros2" {
		return nil, fmt.Errorf("network %q: ROS 2 transport runs inside the ROS 2 nodes (ros2 launch peernet_go ...)", name)
	}
	return nil, fmt.Errorf("unknown network %q (known: %s)", name, strings.Join(TransportNames(), ", "))
}
