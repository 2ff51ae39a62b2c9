package network

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// DefaultStartPort is the first port used when the config names none.
const DefaultStartPort = 5551

// MaxConfigSize bounds the network YAML read from disk.
const MaxConfigSize = 1 << 20

// Device is one named machine of the network config.
type Device struct {
	// Name is the device's name, e.g. "edge" or "cloud".
	Name string
	// Host is its address (IP or host name) as written in the config.
	Host string
	// Index is the device's position in the devices map, from 0. Port
	// assignments derive from it so that devices sharing a host never
	// collide.
	Index int
}

// Config is the PEERNet network YAML:
//
//	devices:            # name -> host, in order
//	  edge: 127.0.0.1
//	  cloud: 127.0.0.1
//	server: cloud       # the device clients talk to
//	start_port: 5551    # optional; device i listens on start_port + i
//	verbose: 0          # optional, accepted for PEERNet compatibility
//	mqtt: {...}         # optional section per transport
//
// Unknown keys are an error naming the key.
type Config struct {
	// Devices in the order they were written.
	Devices []Device
	// Server is the name of the serving device.
	Server string
	// StartPort is the base of the port table. It defaults to DefaultStartPort.
	StartPort int
	// Verbose is PEERNet's verbosity level; kept for compatibility.
	Verbose int
	// Sections holds each transport's own section (mqtt, udp, zmq, ros2),
	// undecoded; transports read theirs with [Config.Section].
	Sections map[string]*yaml.Node

	// Notice, when set, receives the transports' notices (see
	// [Config.Notify]): one line each, such as a warning that a link is
	// not authenticated. It is not read from the YAML. When nil, notices
	// go to standard error.
	Notice func(msg string)
}

// SectionNames are the transport sections a network config may contain.
var SectionNames = []string{"zmq", "mqtt", "udp", "ros2"}

var deviceName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// LoadConfig reads and validates a network config file.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("network config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("network config %s: %w", path, err)
	}
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("network config %s: larger than %d bytes", path, MaxConfigSize)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("network config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses and validates a network config document.
func ParseConfig(b []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %s", errline.YAML(err))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, errors.New("empty document")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: top level must be a mapping", root.Line)
	}
	c := &Config{StartPort: DefaultStartPort, Sections: map[string]*yaml.Node{}}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if seen[key] {
			return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, key)
		}
		seen[key] = true
		switch key {
		case "devices":
			if err := c.decodeDevices(v); err != nil {
				return nil, err
			}
		case "server":
			if err := v.Decode(&c.Server); err != nil || v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: server must be a device name", v.Line)
			}
		case "start_port":
			if err := v.Decode(&c.StartPort); err != nil {
				return nil, fmt.Errorf("line %d: start_port must be an integer", v.Line)
			}
		case "verbose":
			if err := v.Decode(&c.Verbose); err != nil {
				return nil, fmt.Errorf("line %d: verbose must be an integer", v.Line)
			}
		default:
			if !isSection(key) {
				return nil, fmt.Errorf("line %d: unknown key %q (known: devices, server, start_port, verbose, %s)", k.Line, key, strings.Join(SectionNames, ", "))
			}
			if v.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("line %d: %s must be a mapping", v.Line, key)
			}
			c.Sections[key] = v
		}
	}
	return c, c.validate()
}

func isSection(key string) bool {
	for _, s := range SectionNames {
		if s == key {
			return true
		}
	}
	return false
}

func (c *Config) decodeDevices(v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: devices must map names to hosts", v.Line)
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, h := v.Content[i], v.Content[i+1]
		if h.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: device %q: host must be a string", h.Line, k.Value)
		}
		c.Devices = append(c.Devices, Device{Name: k.Value, Host: h.Value, Index: i / 2})
	}
	return nil
}

func (c *Config) validate() error {
	if len(c.Devices) == 0 {
		return errors.New("devices: at least one device is required")
	}
	names := map[string]bool{}
	for _, d := range c.Devices {
		if !deviceName.MatchString(d.Name) {
			return fmt.Errorf("devices: bad device name %q (letters, digits, '_', '.', '-')", d.Name)
		}
		if names[d.Name] {
			return fmt.Errorf("devices: duplicate device %q", d.Name)
		}
		names[d.Name] = true
		if d.Host == "" || strings.ContainsAny(d.Host, " /\t") {
			return fmt.Errorf("devices: %s: bad host %q", d.Name, d.Host)
		}
	}
	if c.Server == "" {
		return errors.New("server: missing (name the device that runs the server)")
	}
	if !names[c.Server] {
		return fmt.Errorf("server: %q is not one of the devices", c.Server)
	}
	if c.StartPort < 1 || c.StartPort+len(c.Devices) > 65535 {
		return fmt.Errorf("start_port: %d out of range", c.StartPort)
	}
	return nil
}

// Device returns the device called name.
func (c *Config) Device(name string) (Device, error) {
	for _, d := range c.Devices {
		if d.Name == name {
			return d, nil
		}
	}
	known := make([]string, len(c.Devices))
	for i, d := range c.Devices {
		known[i] = d.Name
	}
	return Device{}, fmt.Errorf("device %q is not in the network config (devices: %s)", name, strings.Join(known, ", "))
}

// WithEdges returns a copy of c with a device for each of names that c
// lacks, on host, after c's own devices: the indexes, and so the ports, of
// c's devices stay what they were. A fleet of edges run from one machine
// uses it to give each its own name.
func (c *Config) WithEdges(host string, names ...string) *Config {
	n := *c
	n.Devices = append([]Device(nil), c.Devices...)
	for _, name := range names {
		if _, err := n.Device(name); err == nil {
			continue
		}
		n.Devices = append(n.Devices, Device{Name: name, Host: host, Index: len(n.Devices)})
	}
	return &n
}

// Port returns the port device d listens on: start_port + its index. Each
// device has its own port, so two devices on one host never collide.
func (c *Config) Port(d Device) int { return c.StartPort + d.Index }

// ServerAddr returns host:port of the server device.
func (c *Config) ServerAddr() string {
	d, _ := c.Device(c.Server)
	return net.JoinHostPort(d.Host, fmt.Sprint(c.Port(d)))
}

// Section decodes the transport section name into out, rejecting unknown
// keys. A missing section leaves out untouched.
func (c *Config) Section(name string, out any) error {
	n := c.Sections[name]
	if n == nil {
		return nil
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		msg := strings.TrimPrefix(errline.First(cleanYAMLError(err.Error())), "yaml: ")
		return fmt.Errorf("%s: %s", name, fileLines(msg, n.Line-1))
	}
	return nil
}

var lineNumber = regexp.MustCompile(`\bline (\d+)\b`)

// fileLines shifts the "line N" of an error about a re-encoded section by
// the section's place in the file, so that the error names the file's line.
func fileLines(msg string, shift int) string {
	return lineNumber.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(m, "line ")) // the pattern holds digits only
		return fmt.Sprintf("line %d", n+shift)
	})
}

// SetSection sets the transport section name to v, any value that encodes
// as a YAML mapping (a map, or a struct with yaml tags), as if it had been
// written in the file.
func (c *Config) SetSection(name string, v any) error {
	if !isSection(name) {
		return fmt.Errorf("unknown section %q (known: %s)", name, strings.Join(SectionNames, ", "))
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s must be a mapping", name)
	}
	if c.Sections == nil {
		c.Sections = map[string]*yaml.Node{}
	}
	c.Sections[name] = &n
	return nil
}

// Loopback returns a config with an edge and a cloud device on 127.0.0.1,
// the server being the cloud, on the given start port.
func Loopback(startPort int) *Config {
	if startPort == 0 {
		startPort = DefaultStartPort
	}
	return &Config{
		Devices: []Device{
			{Name: "edge", Host: "127.0.0.1", Index: 0},
			{Name: "cloud", Host: "127.0.0.1", Index: 1},
		},
		Server:    "cloud",
		StartPort: startPort,
		Sections:  map[string]*yaml.Node{},
	}
}

var fieldNotFound = regexp.MustCompile(`field (\S+) not found in type \S+`)

func cleanYAMLError(s string) string {
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n  ")
	return fieldNotFound.ReplaceAllString(s, `unknown key "$1"`)
}
