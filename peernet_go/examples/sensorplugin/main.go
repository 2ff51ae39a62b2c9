// Command sensorplugin is a sensor packaged as a Go plugin, the Go form of
// PEERNet's "--sensor-type external --sensor-object module::object". Build
// it with the same Go toolchain and module versions as peernet, then name
// one of its symbols:
//
//	go build -buildmode=plugin -o counter.so ./peernet_go/examples/sensorplugin
//	peernet client ... --sensor-type external --sensor-object ./counter.so::New --sensor-size 256
//	peernet client ... --sensor-type external --sensor-object ./counter.so::Clock
//
// New is a constructor that receives peernet's sensor options; Clock is a
// ready-made sensor value. Run as a program, it only explains this.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// counter produces samples of a fixed size that start with a big-endian
// sample counter; the rest of the bytes repeat the counter's low byte.
type counter struct {
	n      uint64
	buf    []byte
	closed bool
}

var _ sensor.Sensor = (*counter)(nil)

// New builds a counter sensor. Its sample size is the --sensor-size option
// (a single number, at least 8; the default is 1024).
func New(ctx context.Context, o sensor.Options) (sensor.Sensor, error) {
	lo, hi, err := sensor.ParseSize(o.Size)
	if err != nil {
		return nil, err
	}
	if lo != hi || lo < 8 {
		return nil, fmt.Errorf("counter: size %q: want one size of at least 8 bytes", o.Size)
	}
	return &counter{buf: make([]byte, lo)}, nil
}

// Sample returns the next counter value.
func (c *counter) Sample(ctx context.Context) (sensor.Sample, error) {
	if c.closed {
		return sensor.Sample{}, sensor.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return sensor.Sample{}, err
	}
	c.n++
	binary.BigEndian.PutUint64(c.buf, c.n)
	for i := 8; i < len(c.buf); i++ {
		c.buf[i] = byte(c.n)
	}
	return sensor.Sample{Data: c.buf, Encoding: media.Bytes, Time: time.Now()}, nil
}

// Close stops the sensor.
func (c *counter) Close() error {
	c.closed = true
	return nil
}

// Clock is a ready-made sensor whose samples are the current time as
// RFC 3339 text. A plugin variable is shared by every user of the plugin,
// so it keeps no state.
var Clock sensor.Sensor = sensor.Func(func(ctx context.Context) (sensor.Sample, error) {
	if err := ctx.Err(); err != nil {
		return sensor.Sample{}, err
	}
	now := time.Now()
	return sensor.Sample{Data: now.AppendFormat(nil, time.RFC3339Nano), Encoding: media.Text, Time: now}, nil
})

func main() {
	fmt.Fprintln(os.Stderr, errors.New("sensorplugin is a Go plugin: build it with go build -buildmode=plugin and load it with --sensor-type external --sensor-object ./sensorplugin.so::New"))
	os.Exit(2)
}
