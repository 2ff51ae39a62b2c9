package mqtt_test

import (
	"log"
	"os"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestMain(m *testing.M) {
	if os.Getenv("PAHO_DEBUG") != "" {
		l := log.New(os.Stderr, "", log.Lmicroseconds)
		paho.DEBUG, paho.WARN, paho.ERROR, paho.CRITICAL = l, l, l, l
	}
	os.Exit(m.Run())
}
