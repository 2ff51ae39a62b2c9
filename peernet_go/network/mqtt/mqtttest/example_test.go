package mqtttest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
)

// ExampleMosquitto shows a test that runs against a real broker and
// restarts it mid-test. (Examples receive no *testing.T; a real test gets
// its own.)
func ExampleMosquitto() {
	testBrokerRestart := func(t *testing.T) {
		b := mqtttest.Mosquitto(t, "max_inflight_messages 20") // extra lines go into mosquitto.conf
		fmt.Println("mqtt:\n  broker:", b.URL())
		b.Restart(500 * time.Millisecond) // down for half a second, same port
	}
	_ = testBrokerRestart
}

func TestMosquittoRestart(t *testing.T) {
	b := mqtttest.Mosquitto(t)
	if b.Port() == 0 || b.URL() == "" {
		t.Fatalf("port %d, url %q", b.Port(), b.URL())
	}
	b.Restart(50 * time.Millisecond)
	b.Stop()
	b.Stop() // harmless
	b.Start()
}
