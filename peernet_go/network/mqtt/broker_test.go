package mqtt

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestBrokerCloseWithStalledClient checks that the embedded broker stops
// even when one of its clients has stopped reading: the broker's writes
// to it block once the socket buffers are full, and Close must not wait
// on them forever.
func TestBrokerCloseWithStalledClient(t *testing.T) {
	o := &Options{MaxFrame: 2 << 20}
	if err := o.Initialize(); err != nil {
		t.Fatal(err)
	}
	br, err := startBroker("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			br.Close()
		}
	}()

	// The stalled subscriber: a bare socket that connects, subscribes,
	// reads the acknowledgements and then never reads again.
	stalled, err := net.DialTimeout("tcp", br.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.SetDeadline(time.Now().Add(10 * time.Second))
	var buf bytes.Buffer
	buf.Write(connectPacket(t, "stalled"))
	subscribe := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Subscribe, Qos: 1},
		ProtocolVersion: 4,
		PacketID:        1,
		Filters:         packets.Subscriptions{{Filter: "stall/#"}},
	}
	if err := subscribe.SubscribeEncode(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := stalled.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	// CONNACK is 4 bytes and SUBACK 5 for one filter under MQTT 3.1.1.
	ack := make([]byte, 9)
	for got := 0; got < len(ack); {
		n, err := stalled.Read(ack[got:])
		if err != nil {
			t.Fatalf("stalled client: reading CONNACK and SUBACK: %v", err)
		}
		got += n
	}
	if ack[0]>>4 != packets.Connack || ack[3] != 0 || ack[4]>>4 != packets.Suback {
		t.Fatalf("stalled client: unexpected acknowledgements % x", ack)
	}

	// Fill the stalled client's socket with more than loopback buffers
	// hold.
	opts := paho.NewClientOptions().AddBroker("tcp://" + br.addr).SetClientID("publisher").SetConnectTimeout(5 * time.Second)
	pub := paho.NewClient(opts)
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: connect: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	payload := make([]byte, 1<<20)
	for i := range 48 {
		tok := pub.Publish(fmt.Sprintf("stall/%d", i), 1, false, payload)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publisher: message %d: %v", i, tok.Error())
		}
	}

	done := make(chan struct{})
	go func() {
		br.Close()
		close(done)
	}()
	closed = true
	limit := closeGrace + 10*time.Second
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("broker Close did not return within %v with a client that stopped reading", limit)
	}
}

// connectPacket is an MQTT 3.1.1 CONNECT of a clean session as id.
func connectPacket(t testing.TB, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	connect := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connect},
		ProtocolVersion: 4,
		Connect: packets.ConnectParams{
			ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: id,
		},
	}
	if err := connect.ConnectEncode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
