package rosbag

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// QoS is one offered QoS profile of a recorded topic. Policies are named as
// in Jazzy's metadata ("keep_last", "reliable", "best_effort", "volatile",
// "transient_local", "automatic", "system_default", "unknown", …), whichever
// form the bag stores.
type QoS struct {
	History     string
	Depth       int
	Reliability string
	Durability  string
	// Deadline, Lifespan and LivelinessLeaseDuration are math.MaxInt64
	// when infinite (RMW_DURATION_INFINITE).
	Deadline                     time.Duration
	Lifespan                     time.Duration
	Liveliness                   string
	LivelinessLeaseDuration      time.Duration
	AvoidROSNamespaceConventions bool
}

// Policy names by the numeric values of the rmw enums, which metadata
// versions 4 to 8 store.
var (
	historyNames     = []string{"system_default", "keep_last", "keep_all", "unknown"}
	reliabilityNames = []string{"system_default", "reliable", "best_effort", "unknown", "best_available"}
	durabilityNames  = []string{"system_default", "transient_local", "volatile", "unknown", "best_available"}
	livelinessNames  = []string{"system_default", "automatic", "manual_by_node", "manual_by_topic", "unknown", "best_available"}
)

type qosYAML struct {
	History                      policyYAML  `yaml:"history"`
	Depth                        int         `yaml:"depth"`
	Reliability                  policyYAML  `yaml:"reliability"`
	Durability                   policyYAML  `yaml:"durability"`
	Deadline                     qosTimeYAML `yaml:"deadline"`
	Lifespan                     qosTimeYAML `yaml:"lifespan"`
	Liveliness                   policyYAML  `yaml:"liveliness"`
	LivelinessLeaseDuration      qosTimeYAML `yaml:"liveliness_lease_duration"`
	AvoidROSNamespaceConventions bool        `yaml:"avoid_ros_namespace_conventions"`
}

// policyYAML is a policy stored as its enum number or its name.
type policyYAML struct{ v string }

// UnmarshalYAML implements yaml.Unmarshaler.
func (p *policyYAML) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: QoS policy is not a scalar", n.Line)
	}
	p.v = n.Value
	return nil
}

func (p policyYAML) name(names []string) string {
	if i, err := strconv.Atoi(p.v); err == nil {
		if i >= 0 && i < len(names) {
			return names[i]
		}
		return "unknown"
	}
	return p.v
}

type qosTimeYAML struct {
	Sec  int64 `yaml:"sec"`
	Nsec int64 `yaml:"nsec"`
}

// duration converts a rmw duration, saturating at math.MaxInt64 (infinite).
func (t qosTimeYAML) duration() time.Duration {
	if t.Sec < 0 || t.Nsec < 0 {
		return 0
	}
	if t.Sec > (math.MaxInt64-t.Nsec)/int64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Nsec)
}

// parseQoSNode reads offered_qos_profiles: a YAML list (metadata version 9)
// or a string holding one (versions 4 to 8, and the storage files).
func parseQoSNode(n *yaml.Node) ([]QoS, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		return parseQoS(n.Value)
	case yaml.SequenceNode:
		var list []qosYAML
		if err := n.Decode(&list); err != nil {
			return nil, fmt.Errorf("offered_qos_profiles: %s", errline.First(err.Error()))
		}
		return convertQoS(list), nil
	}
	return nil, errNotQoS
}

// parseQoS reads a YAML string of QoS profiles; "" means none.
func parseQoS(s string) ([]QoS, error) {
	if s == "" {
		return nil, nil
	}
	var list []qosYAML
	if err := yaml.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("offered_qos_profiles: %s", errline.First(err.Error()))
	}
	return convertQoS(list), nil
}

func convertQoS(list []qosYAML) []QoS {
	out := make([]QoS, 0, len(list))
	for _, q := range list {
		out = append(out, QoS{
			History:                      q.History.name(historyNames),
			Depth:                        q.Depth,
			Reliability:                  q.Reliability.name(reliabilityNames),
			Durability:                   q.Durability.name(durabilityNames),
			Deadline:                     q.Deadline.duration(),
			Lifespan:                     q.Lifespan.duration(),
			Liveliness:                   q.Liveliness.name(livelinessNames),
			LivelinessLeaseDuration:      q.LivelinessLeaseDuration.duration(),
			AvoidROSNamespaceConventions: q.AvoidROSNamespaceConventions,
		})
	}
	return out
}
