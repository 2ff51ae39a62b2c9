package mqtt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
)

var benchSizes = []struct {
	name string
	size int
}{
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// benchQoS are the QoS levels every benchmark runs at.
var benchQoS = []int{0, 1}

// benchBroker starts one embedded broker for a benchmark and returns a
// config whose ends all use it as an existing broker at qos.
func benchBroker(b *testing.B, qos int) *network.Config {
	b.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", transporttest.FreePort(b))
	o := &Options{}
	if err := o.Initialize(); err != nil {
		b.Fatal(err)
	}
	br, err := startBroker(addr, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close() })
	return transporttest.LoopbackConfig(b, "mqtt", "broker: tcp://"+addr, fmt.Sprintf("qos: %d", qos))
}

// benchEach runs bench as a sub-benchmark QoS<q>/<size> for every QoS
// level and payload size, each with a broker of its own.
func benchEach(b *testing.B, bench func(b *testing.B, cfg *network.Config, size int)) {
	for _, qos := range benchQoS {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("QoS%d/%s", qos, sz.name), func(b *testing.B) {
				bench(b, benchBroker(b, qos), sz.size)
			})
		}
	}
}

// BenchmarkMQTTRoundTrip times request/reply round trips through mqtt
// Conns and an embedded broker on loopback, at QoS 0 and 1.
func BenchmarkMQTTRoundTrip(b *testing.B) {
	benchEach(b, func(b *testing.B, cfg *network.Config, size int) {
		transporttest.BenchRoundTrips(b, Transport{}, cfg, "edge", size)
	})
}

// BenchmarkRawPaho times the bare paho ping-pong of the same payloads: the
// baseline of BenchmarkMQTTRoundTrip.
func BenchmarkRawPaho(b *testing.B) {
	benchEach(b, func(b *testing.B, cfg *network.Config, size int) {
		transporttest.BenchBaseline(b, Transport{}, cfg, "edge", size)
	})
}

// BenchmarkConnVsRaw alternates batches of Conn round trips and bare paho
// round trips of the same payload through one embedded broker, so that
// both see the same broker and the same machine load, and reports the
// Conn's overhead as ratios of p50 and mean.
func BenchmarkConnVsRaw(b *testing.B) {
	benchEach(b, func(b *testing.B, cfg *network.Config, size int) {
		transporttest.ServeBaseline(b, Transport{}, cfg)
		payload := make([]byte, size)
		raw, err := Transport{}.dialRaw(context.Background(), cfg, "edge", network.Ping{Payload: payload, ReplySize: size})
		if err != nil {
			b.Fatal(err)
		}
		defer raw.close()
		transporttest.BenchConnVsRaw(b, Transport{}, cfg, "edge", payload, raw.roundTrip)
	})
}

// BenchmarkTLSVsPlain measures what TLS costs: it alternates batches of
// bare paho round trips through a plain embedded broker, mqtt Conn round
// trips through a plain embedded broker, and mqtt Conn round trips through
// an embedded broker with a TLS listener (broker_tls), of the same
// payload at QoS 0, in one run, and reports plain/raw-p50, tls/raw-p50
// and tls/plain-p50, TLS's cost over plain MQTT.
func BenchmarkTLSVsPlain(b *testing.B) {
	for _, sz := range benchSizes {
		if sz.name != "1KiB" && sz.name != "1MiB" {
			continue
		}
		b.Run(sz.name, func(b *testing.B) {
			ca, cert, key := benchPKI(b)
			rawCfg := benchBroker(b, 0)
			transporttest.ServeBaseline(b, Transport{}, rawCfg)
			payload := make([]byte, sz.size)
			raw, err := Transport{}.dialRaw(context.Background(), rawCfg, "edge", network.Ping{Payload: payload, ReplySize: sz.size})
			if err != nil {
				b.Fatal(err)
			}
			defer raw.close()
			tlsCfg := transporttest.LoopbackConfig(b, "mqtt", "broker_tls: {cert_file: "+cert+", key_file: "+key+"}", "tls: {ca_file: "+ca+"}")
			transporttest.BenchSides(b,
				transporttest.BenchSide{Name: "raw", RoundTrip: raw.roundTrip},
				transporttest.BenchSide{Name: "plain", RoundTrip: transporttest.ConnRoundTrip(b, Transport{}, transporttest.LoopbackConfig(b, ""), "edge", payload)},
				transporttest.BenchSide{Name: "tls", RoundTrip: transporttest.ConnRoundTrip(b, Transport{}, tlsCfg, "edge", payload)},
			)
		})
	}
}

// benchPKI writes a CA and a broker certificate for 127.0.0.1 signed by
// it, and returns the CA's, the certificate's and the key's files.
func benchPKI(b *testing.B) (ca, cert, key string) {
	b.Helper()
	dir := b.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		b.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		b.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(leafKey)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "broker.pem"), filepath.Join(dir, "broker.key")
	for path, blk := range map[string]*pem.Block{ca: {Type: "CERTIFICATE", Bytes: caDER}, cert: {Type: "CERTIFICATE", Bytes: der}, key: {Type: "EC PRIVATE KEY", Bytes: kder}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return ca, cert, key
}
