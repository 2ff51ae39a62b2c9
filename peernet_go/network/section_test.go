package network

import (
	"errors"
	"testing"
)

// sectionOpts is a transport's options struct in miniature.
type sectionOpts struct {
	Size int `yaml:"size"`
}

func (o *sectionOpts) Initialize() error {
	if o.Size == 0 {
		o.Size = 7
	}
	if o.Size < 0 {
		return errors.New("udp: size: negative")
	}
	return nil
}

func TestLoadSection(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"", ""},
		{"udp: {size: 3}\n", ""},
		{"udp: {sise: 3}\n", `udp: line 3: unknown key "sise"`},
		{"udp: {size: -1}\n", "udp: size: negative"},
	} {
		cfg, err := ParseConfig([]byte("devices: {a: h}\nserver: a\n" + tc.doc))
		if err != nil {
			t.Fatal(err)
		}
		o, err := LoadSection[sectionOpts](cfg, "udp")
		switch {
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%q: error %v, want %q", tc.doc, err, tc.want)
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.doc, err)
		case tc.want == "" && tc.doc == "" && o.Size != 7:
			t.Errorf("defaults: size %d", o.Size)
		case tc.want == "" && tc.doc != "" && o.Size != 3:
			t.Errorf("%q: size %d", tc.doc, o.Size)
		}
	}
	if o, err := LoadSection[sectionOpts](nil, "udp"); err != nil || o.Size != 7 {
		t.Errorf("nil config: %+v, %v", o, err)
	}
}

func TestServerClientDevice(t *testing.T) {
	cfg := Loopback(0)
	if d, err := ServerDevice(cfg, "cloud"); err != nil || d.Name != "cloud" {
		t.Errorf("ServerDevice(cloud) = %+v, %v", d, err)
	}
	for _, tc := range []struct {
		fn   func(*Config, string) (Device, error)
		cfg  *Config
		self string
		want string
	}{
		{ServerDevice, cfg, "edge", `device "edge" cannot listen: the network config's server is "cloud"`},
		{ServerDevice, cfg, "robot", `device "robot" is not in the network config (devices: edge, cloud)`},
		{ServerDevice, nil, "cloud", "no network config"},
		{ClientDevice, cfg, "robot", `device "robot" is not in the network config (devices: edge, cloud)`},
		{ClientDevice, nil, "edge", "no network config"},
	} {
		if _, err := tc.fn(tc.cfg, tc.self); err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.self, err, tc.want)
		}
	}
	if d, err := ClientDevice(cfg, "edge"); err != nil || d.Name != "edge" {
		t.Errorf("ClientDevice(edge) = %+v, %v", d, err)
	}
}
