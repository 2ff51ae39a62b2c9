package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const peernetExample = `devices:
  edge: 192.168.1.10
  cloud: 192.168.1.20
server: cloud
start_port: 5551
verbose: 0
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(peernetExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Devices) != 2 || c.Devices[0].Name != "edge" || c.Devices[1].Host != "192.168.1.20" {
		t.Fatalf("devices %+v", c.Devices)
	}
	if got := c.ServerAddr(); got != "192.168.1.20:5552" {
		t.Errorf("ServerAddr = %q", got)
	}
	edge, _ := c.Device("edge")
	cloud, _ := c.Device("cloud")
	if c.Port(edge) == c.Port(cloud) {
		t.Error("two devices share a port")
	}
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte("devices: {a: localhost}\nserver: a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.StartPort != DefaultStartPort || c.ServerAddr() != "localhost:5551" {
		t.Errorf("start port %d, addr %s", c.StartPort, c.ServerAddr())
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty document"},
		{"- a\n", "line 1: top level must be a mapping"},
		{"devices: {a: h}\nserver: a\nport: 1\n", `line 3: unknown key "port" (known: devices, server, start_port, verbose, zmq, mqtt, udp, ros2)`},
		{"server: a\n", "devices: at least one device is required"},
		{"devices: {a: h}\n", "server: missing (name the device that runs the server)"},
		{"devices: {a: h}\nserver: b\n", `server: "b" is not one of the devices`},
		{"devices: [a, b]\nserver: a\n", "line 1: devices must map names to hosts"},
		{"devices: {a: h}\nserver: a\nstart_port: x\n", "line 3: start_port must be an integer"},
		{"devices: {a: h}\nserver: a\nstart_port: 70000\n", "start_port: 70000 out of range"},
		{"devices: {a: h}\nserver: a\nserver: a\n", `line 3: duplicate key "server"`},
		{"devices: {a: h, a: g}\nserver: a\n", `devices: duplicate device "a"`},
		{"devices: {'a b': h}\nserver: a\n", `devices: bad device name "a b" (letters, digits, '_', '.', '-')`},
		{"devices: {a: 'h h'}\nserver: a\n", `devices: a: bad host "h h"`},
		{"devices: {a: {x: 1}}\nserver: a\n", `line 1: device "a": host must be a string`},
		{"devices: {a: h}\nserver: a\nmqtt: 3\n", "line 3: mqtt must be a mapping"},
		{"devices: {a: h\n", "invalid YAML: line 1: did not find expected ',' or '}'"},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.in))
		if err == nil {
			t.Errorf("%q: no error", tt.in)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, err.Error(), tt.want)
		}
	}
}

func TestSection(t *testing.T) {
	c, err := ParseConfig([]byte("devices: {a: h}\nserver: a\nmqtt:\n  qos: 1\n  prefix: p\n"))
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		QoS    int    `yaml:"qos"`
		Prefix string `yaml:"prefix"`
	}
	if err := c.Section("mqtt", &opts); err != nil {
		t.Fatal(err)
	}
	if opts.QoS != 1 || opts.Prefix != "p" {
		t.Errorf("%+v", opts)
	}
	c2, _ := ParseConfig([]byte("devices: {a: h}\nserver: a\nmqtt:\n  qos: 1\n  brokr: x\n"))
	err = c2.Section("mqtt", &opts)
	if err == nil || !strings.Contains(err.Error(), `unknown key "brokr"`) {
		t.Errorf("unknown key in section: %v", err)
	}
	if err := c.Section("udp", &opts); err != nil {
		t.Errorf("missing section: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	_, err := LoadConfig("/nonexistent/net.yaml")
	if err == nil || err.Error() != "network config: open /nonexistent/net.yaml: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "net.yaml")
	if err := os.WriteFile(p, []byte(peernetExample), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("devices: {a: h}\nserver: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); err == nil || !strings.HasPrefix(err.Error(), "network config "+p+": server:") {
		t.Errorf("bad file: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(peernetExample))
	f.Add([]byte("devices: {a: h}\nserver: a\nmqtt: {qos: 1}\n"))
	f.Add([]byte("devices: {a: h, b: g}\nserver: b\nstart_port: 6000\nverbose: 2\nudp: {mtu: 1400}\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if len(c.Devices) == 0 || c.Server == "" {
			t.Fatalf("accepted an invalid config: %+v", c)
		}
		if _, err := c.Device(c.Server); err != nil {
			t.Fatal(err)
		}
		_ = c.ServerAddr()
	})
}
