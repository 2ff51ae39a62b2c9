package mqtt_test

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
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
)

// pki is a test certificate authority with a broker and a client
// certificate, written as PEM files. The certificates hold 127.0.0.1,
// localhost and the extra IP addresses newPKI was given.
type pki struct {
	ca, brokerCert, brokerKey, clientCert, clientKey string
}

func newPKI(t *testing.T, extraIPs ...string) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "peernet test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p := pki{ca: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	for _, ip := range extraIPs {
		ips = append(ips, net.ParseIP(ip))
	}
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
		writePEM(t, certFile, "CERTIFICATE", der)
		writePEM(t, keyFile, "EC PRIVATE KEY", kder)
		return certFile, keyFile
	}
	p.brokerCert, p.brokerKey = leaf("broker", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = leaf("edge", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitPort waits until something listens on 127.0.0.1:port.
func waitPort(t *testing.T, port int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on port %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMosquittoTLSAndPassword connects through a mosquitto TLS listener
// that requires a client certificate and checks a password file, and
// checks that wrong settings fail with errors that say why.
func TestMosquittoTLSAndPassword(t *testing.T) {
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("mosquitto_passwd not found: install it with `apt-get install mosquitto`")
	}
	p := newPKI(t)
	pwFile := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command(passwd, "-b", "-c", pwFile, "robot", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	tlsPort := transporttest.FreePort(t)
	b := mqtttest.Mosquitto(t,
		"password_file "+pwFile,
		fmt.Sprintf("listener %d 127.0.0.1", tlsPort),
		"cafile "+p.ca, "certfile "+p.brokerCert, "keyfile "+p.brokerKey,
		"require_certificate true",
	)
	_ = b
	waitPort(t, tlsPort)
	broker := fmt.Sprintf("ssl://127.0.0.1:%d", tlsPort)
	good := []string{
		"broker: " + broker, "username: robot", "password: s3cret",
		"tls: {ca_file: " + p.ca + ", cert_file: " + p.clientCert + ", key_file: " + p.clientKey + "}",
	}
	cfg := loopback(t, good...)
	srv := listen(t, cfg)
	defer srv.Close()
	cli := dial(t, cfg)
	defer cli.Close()
	exchange(t, srv, cli, 1)

	insecure := loopback(t, "broker: "+broker, "username: robot", "password: s3cret",
		"tls: {insecure_skip_verify: true, cert_file: "+p.clientCert+", key_file: "+p.clientKey+"}")
	c, err := mqtt.Transport{}.Dial(context.Background(), insecure, "edge")
	if err != nil {
		t.Fatalf("insecure_skip_verify: %v", err)
	}
	c.Close()

	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"wrong password", []string{"broker: " + broker, "username: robot", "password: nope",
			"tls: {ca_file: " + p.ca + ", cert_file: " + p.clientCert + ", key_file: " + p.clientKey + "}"}, "not Authorized"},
		{"unknown CA", []string{"broker: " + broker,
			"tls: {cert_file: " + p.clientCert + ", key_file: " + p.clientKey + "}"}, "certificate signed by unknown authority"},
		{"no client certificate", []string{"broker: " + broker, "connect_timeout: 1s", "tls: {ca_file: " + p.ca + "}"}, "broker not reachable"},
		{"missing CA file", []string{"broker: " + broker, "tls: {ca_file: /nonexistent/ca.pem}"}, "tls: ca_file: open /nonexistent/ca.pem"},
		{"key without cert", []string{"broker: " + broker, "tls: {key_file: " + p.clientKey + "}"}, "cert_file and key_file go together"},
		{"TLS to a plain broker URL", []string{"broker: " + b.URL(), "tls: {ca_file: " + p.ca + "}"}, "does not use TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loopback(t, tc.lines...)
			start := time.Now()
			c, err := mqtt.Transport{}.Dial(context.Background(), cfg, "edge")
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
