// Package mqtttest runs a real MQTT broker, Debian's mosquitto, for tests
// of code that speaks MQTT: the mqtt transport's own tests, the CLI's
// two-process tests, and any program built on them.
//
//	func TestAgainstMosquitto(t *testing.T) {
//		b := mqtttest.Mosquitto(t) // skipped when mosquitto is not installed
//		cfg := ... "mqtt:\n  broker: " + b.URL() ...
//		b.Restart(time.Second)     // a broker crash and restart, mid-test
//	}
//
// The broker listens on 127.0.0.1 at a free port, with anonymous access,
// TCP_NODELAY (without it small QoS 1 messages wait ~40 ms for delayed
// acknowledgements) and no persistence, and is killed when the test ends.
package mqtttest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
)

// Binary is where Debian installs mosquitto (apt-get install mosquitto).
const Binary = "/usr/sbin/mosquitto"

// StartTimeout bounds how long Start waits for the broker's port.
const StartTimeout = 10 * time.Second

// Broker is a mosquitto process run by a test.
type Broker struct {
	t    testing.TB
	port int
	conf string

	mu        sync.Mutex
	cmd       *exec.Cmd
	cmdExited chan struct{}
	out       *bytes.Buffer
}

// Mosquitto writes a broker config into a temporary directory — the
// listener, anonymous access, set_tcp_nodelay, no persistence, then the
// extra lines, which therefore apply to the listener (e.g. "cafile ...",
// "require_certificate true") — starts the broker and waits until it
// accepts connections. The broker runs as the test's user and is killed
// when t ends. When the binary
// is missing the test is skipped, naming the package to install.
func Mosquitto(t testing.TB, extra ...string) *Broker {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Skipf("%s not found: install it with `apt-get install mosquitto` (scripts/install-deps --test does)", Binary)
	}
	b := &Broker{t: t, port: transporttest.FreePort(t)}
	lines := append([]string{
		fmt.Sprintf("listener %d 127.0.0.1", b.port),
		"allow_anonymous true",
		"set_tcp_nodelay true",
		"persistence false",
		"log_dest stderr",
		"log_type error",
	}, extra...)
	if os.Geteuid() == 0 {
		// mosquitto started as root drops to user "mosquitto", which
		// could not read the test's files (certificates, password file).
		lines = append(lines, "user root")
	}
	b.conf = filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(b.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Start()
	t.Cleanup(b.Stop)
	return b
}

// Port returns the broker's TCP port on 127.0.0.1.
func (b *Broker) Port() int { return b.port }

// URL returns the broker's address as the mqtt section's broker takes it,
// tcp://127.0.0.1:PORT (use ssl:// with a TLS listener).
func (b *Broker) URL() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.port) }

// Start runs the broker, if it is not running, and waits until it accepts
// connections; it fails the test after StartTimeout.
func (b *Broker) Start() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		return
	}
	b.out = new(bytes.Buffer)
	cmd := exec.Command(Binary, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("starting mosquitto: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	addr := fmt.Sprintf("127.0.0.1:%d", b.port)
	deadline := time.Now().Add(StartTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			b.cmd = cmd
			b.cmdExited = exited
			return
		}
		select {
		case <-exited:
			b.t.Fatalf("mosquitto exited: %v\n%s", cmd.ProcessState, b.out)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			b.t.Fatalf("mosquitto did not listen on %s within %v: %v\n%s", addr, StartTimeout, err, b.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the broker, as a crash would, and waits for it to exit.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Kill()
	<-b.cmdExited
	b.cmd = nil
}

// Restart kills the broker and starts it again on the same port after
// down.
func (b *Broker) Restart(down time.Duration) {
	b.t.Helper()
	b.Stop()
	time.Sleep(down)
	b.Start()
}
