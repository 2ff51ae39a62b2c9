// Package params reads a ROS 2 node's parameters from its command line as
// rcl does — the --params-file FILE and -p NAME:=VALUE rules of the
// --ros-args sections, in order, for the node's fully qualified name — and
// decodes them into a config struct whose fields carry `param:"name"` tags.
// It lets nodes built on a client library without a parameter API (rclgo)
// take their parameters from `ros2 launch` and `ros2 run ... --ros-args`,
// and it is tested without ROS.
//
// A parameter file maps node names to their parameters:
//
//	edge_node:                # or /edge_node, /ns/edge_node, /**, /ns/*
//	  ros__parameters:
//	    sensor_topic: /camera/image_raw
//	    qos:
//	      depth: 5            # the parameter "qos.depth"
//
// Usage:
//
//	p, err := params.FromArgs(os.Args[1:], node.FullyQualifiedName())
//	if err != nil { ... }
//	var cfg struct {
//		Topic string `param:"sensor_topic"`
//		QoS   struct {
//			Depth int `param:"depth"`
//		} `param:"qos"`
//	}
//	if err := p.Decode(&cfg); err != nil { ... } // "parameter qos.depth: want an integer, got "five""
package params

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// MaxFileSize bounds a parameter file.
const MaxFileSize = 4 << 20

// Params are a node's parameters by their full dotted names. Values are
// what YAML gives: bool, int, float64, string, or a []any of those.
type Params map[string]any

// Names returns the parameter names, sorted.
func (p Params) Names() []string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// rosArgsFlags take one value each (see rcl/arguments.h).
var rosArgsFlags = map[string]bool{
	"-r": true, "--remap": true, "-p": true, "--param": true, "--params-file": true,
	"-e": true, "--enclave": true, "--log-level": true, "--log-config-file": true, "--log-file-name": true,
}

// FromArgs returns the parameters a command line gives the node whose fully
// qualified name is fqn ("/edge_node", "/robot1/edge_node"): every
// --params-file and -p rule of its --ros-args sections, applied in order,
// later ones overriding earlier ones. Arguments outside --ros-args are
// ignored.
func FromArgs(args []string, fqn string) (Params, error) {
	p := Params{}
	inROS := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--ros-args":
			inROS = true
			continue
		case !inROS:
			continue
		case a == "--":
			inROS = false
			continue
		case !rosArgsFlags[a]:
			continue
		}
		if i+1 >= len(args) {
			return nil, fmt.Errorf("rosparams: %s needs a value", a)
		}
		i++
		v := args[i]
		switch a {
		case "-p", "--param":
			name, value, ok := strings.Cut(v, ":=")
			if !ok || name == "" {
				return nil, fmt.Errorf("rosparams: -p %q: want NAME:=VALUE", v)
			}
			var val any
			if err := yaml.Unmarshal([]byte(value), &val); err != nil {
				return nil, fmt.Errorf("rosparams: -p %s: value %q is not YAML: %s", name, value, errline.YAML(err))
			}
			if err := p.set(name, val); err != nil {
				return nil, fmt.Errorf("rosparams: -p %s: %w", name, err)
			}
		case "--params-file":
			b, err := readFile(v)
			if err != nil {
				return nil, err
			}
			if err := p.addFile(b, fqn); err != nil {
				return nil, fmt.Errorf("rosparams: %s: %w", v, err)
			}
		}
	}
	return p, nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("rosparams: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("rosparams: %s: %w", name, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("rosparams: %s: larger than %d bytes", name, MaxFileSize)
	}
	return b, nil
}

// ParseFile returns the parameters a parameter file document gives the
// node fqn.
func ParseFile(b []byte, fqn string) (Params, error) {
	p := Params{}
	if err := p.addFile(b, fqn); err != nil {
		return nil, fmt.Errorf("rosparams: %w", err)
	}
	return p, nil
}

// addFile applies the entries of a parameter file that match fqn, in the
// order they are written.
func (p Params) addFile(b []byte, fqn string) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("invalid YAML: %s", errline.YAML(err))
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: top level must map node names to their parameters", root.Line)
	}
	return p.walkNodes(root, "", fqn)
}

// walkNodes descends namespace levels until a ros__parameters key.
func (p Params) walkNodes(m *yaml.Node, prefix, fqn string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "ros__parameters" {
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: ros__parameters must be a mapping", v.Line)
			}
			if !Match(prefix, fqn) {
				continue
			}
			if err := p.addTree(v, ""); err != nil {
				return err
			}
			continue
		}
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %q must hold ros__parameters or nested node names", k.Line, k.Value)
		}
		if err := p.walkNodes(v, joinName(prefix, k.Value), fqn); err != nil {
			return err
		}
	}
	return nil
}

func joinName(prefix, key string) string {
	key = strings.Trim(key, "/")
	if prefix == "" {
		return "/" + key
	}
	return prefix + "/" + key
}

// addTree flattens nested mappings into dotted names.
func (p Params) addTree(m *yaml.Node, prefix string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		name := k.Value
		if prefix != "" {
			name = prefix + "." + name
		}
		if v.Kind == yaml.MappingNode {
			if err := p.addTree(v, name); err != nil {
				return err
			}
			continue
		}
		var val any
		if err := v.Decode(&val); err != nil {
			return fmt.Errorf("line %d: parameter %s: %s", v.Line, name, errline.YAML(err))
		}
		if err := p.set(name, val); err != nil {
			return fmt.Errorf("line %d: parameter %s: %w", v.Line, name, err)
		}
	}
	return nil
}

// set stores one value, refusing what ROS parameters cannot be.
func (p Params) set(name string, v any) error {
	switch x := v.(type) {
	case nil:
		return errors.New("no value (null)")
	case map[string]any:
		return errors.New("a mapping is not a parameter value")
	case []any:
		for _, e := range x {
			switch e.(type) {
			case bool, int, float64, string:
			default:
				return fmt.Errorf("array element %v is not a bool, integer, double or string", e)
			}
		}
	}
	p[name] = v
	return nil
}

// Match reports whether a node name pattern from a parameter file matches
// the fully qualified node name fqn. Tokens are separated by '/'; "**"
// matches any number of tokens, and '*' and '?' match within a token. A
// pattern without a leading '/' is relative to the root namespace.
func Match(pattern, fqn string) bool {
	pt := strings.Split(strings.Trim(pattern, "/"), "/")
	nt := strings.Split(strings.Trim(fqn, "/"), "/")
	return matchTokens(pt, nt)
}

func matchTokens(pt, nt []string) bool {
	if len(pt) == 0 {
		return len(nt) == 0
	}
	if pt[0] == "**" {
		for i := 0; i <= len(nt); i++ {
			if matchTokens(pt[1:], nt[i:]) {
				return true
			}
		}
		return false
	}
	if len(nt) == 0 {
		return false
	}
	ok, err := path.Match(pt[0], nt[0])
	return ok && err == nil && matchTokens(pt[1:], nt[1:])
}
