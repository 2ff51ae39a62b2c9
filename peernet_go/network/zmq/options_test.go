package zmq

import (
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

const base = "devices: {edge: 127.0.0.1, cloud: 127.0.0.1}\nserver: cloud\n"

func TestLoadOptionsDefaults(t *testing.T) {
	cfg, err := network.ParseConfig([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	o, err := LoadOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		MaxFrame: wire.DefaultMaxSize, Heartbeat: time.Second, HeartbeatTimeout: 3 * time.Second,
		SndHWM: 1000, RcvHWM: 1000, Reconnect: 100 * time.Millisecond, ReconnectMax: time.Second,
	}
	if *o != want {
		t.Errorf("defaults %+v, want %+v", *o, want)
	}
}

func TestLoadOptions(t *testing.T) {
	cfg, err := network.ParseConfig([]byte(base + `zmq:
  bind: "*"
  max_frame: 1048576
  heartbeat: 500ms
  sndhwm: 10
  rcvhwm: 20
  reconnect: 50ms
  reconnect_max: 2s
`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := LoadOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Bind: "*", MaxFrame: 1 << 20, Heartbeat: 500 * time.Millisecond, HeartbeatTimeout: 1500 * time.Millisecond,
		SndHWM: 10, RcvHWM: 20, Reconnect: 50 * time.Millisecond, ReconnectMax: 2 * time.Second,
	}
	if *o != want {
		t.Errorf("got %+v, want %+v", *o, want)
	}
}

func TestLoadOptionsErrors(t *testing.T) {
	tests := []struct{ section, want string }{
		{"{max_frames: 1}", `zmq: line 3: unknown key "max_frames"`},
		{"{max_frame: big}", "zmq: line 3: cannot unmarshal !!str `big` into int"},
		{"{heartbeat: soon}", `zmq: line 3: cannot unmarshal !!str ` + "`soon`" + ` into time.Duration`},
		{"{bind: 'tcp://x'}", `zmq: bind: "tcp://x" is not "*", an IP address or an interface name`},
		{"{max_frame: 100}", "zmq: max_frame: 100 out of range [1024, 4294967295]"},
		{"{max_frame: 5000000000}", "zmq: max_frame: 5000000000 out of range [1024, 4294967295]"},
		{"{heartbeat: 1us}", "zmq: heartbeat: 1µs is shorter than 1ms"},
		{"{heartbeat: 2s, heartbeat_timeout: 1s}", "zmq: heartbeat_timeout: 1s is shorter than heartbeat 2s"},
		{"{sndhwm: -1}", "zmq: sndhwm: -1 is negative"},
		{"{rcvhwm: -1}", "zmq: rcvhwm: -1 is negative"},
		{"{reconnect: -1s}", "zmq: reconnect: -1s is shorter than 1ms"},
		{"{reconnect: 2s, reconnect_max: 1s}", "zmq: reconnect_max: 1s is shorter than reconnect 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			cfg, err := network.ParseConfig([]byte(base + "zmq: " + tt.section + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = LoadOptions(cfg)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestHeartbeatOff(t *testing.T) {
	o := Options{Heartbeat: -1}
	if err := o.Initialize(); err != nil {
		t.Fatal(err)
	}
	if o.HeartbeatTimeout != 0 {
		t.Errorf("heartbeat timeout %v with heartbeats off", o.HeartbeatTimeout)
	}
}
