package network

import (
	"errors"
	"fmt"
)

// LoadSection decodes the transport section name of cfg (such as "zmq")
// into a new T and initializes it: keys T does not know are an error
// naming the key and its line, and T's Initialize fills in the defaults
// and validates, with errors that name the field. A nil cfg, or one
// without the section, gives T's defaults. It is the LoadOptions of every
// transport:
//
//	func LoadOptions(cfg *network.Config) (*Options, error) {
//		return network.LoadSection[Options](cfg, "zmq")
//	}
func LoadSection[T any, P interface {
	*T
	Initialize() error
}](cfg *Config, name string) (*T, error) {
	o := P(new(T))
	if cfg != nil {
		if err := cfg.Section(name, o); err != nil {
			return nil, err
		}
	}
	if err := o.Initialize(); err != nil {
		return nil, err
	}
	return (*T)(o), nil
}

// ServerDevice returns device self of cfg and checks that it is cfg's
// server, as every transport's Listen and RawServe do first.
func ServerDevice(cfg *Config, self string) (Device, error) {
	if cfg == nil {
		return Device{}, errNoConfig
	}
	d, err := cfg.Device(self)
	if err != nil {
		return Device{}, err
	}
	if d.Name != cfg.Server {
		return Device{}, fmt.Errorf("device %q cannot listen: the network config's server is %q", self, cfg.Server)
	}
	return d, nil
}

// ClientDevice returns device self of cfg, as every transport's Dial and
// RawPing check first.
func ClientDevice(cfg *Config, self string) (Device, error) {
	if cfg == nil {
		return Device{}, errNoConfig
	}
	return cfg.Device(self)
}

var errNoConfig = errors.New("no network config")
