package mqtt_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt/mqtttest"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// notices collects a config's notices.
type notices struct {
	mu sync.Mutex
	l  []string
}

func (n *notices) add(s string) { n.mu.Lock(); n.l = append(n.l, s); n.mu.Unlock() }

func (n *notices) all() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.l, "\n")
}

// lanConfig returns an edge/cloud config whose server, cloud, is lan's
// address at a port free there, with an mqtt section of lines. Generated
// password files go to a temporary configuration directory.
func lanConfig(t *testing.T, lan transporttest.LAN, lines ...string) *network.Config {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	l, err := net.Listen("tcp", net.JoinHostPort(lan.IP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	doc := fmt.Sprintf("devices:\n  cloud: %s\n  edge: 127.0.0.1\nserver: cloud\nstart_port: %d\n", lan.IP, port)
	if len(lines) > 0 {
		doc += "mqtt:\n  " + strings.Join(lines, "\n  ") + "\n"
	}
	cfg, err := network.ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// rawClient is a bare paho client of an attacker or a test, connected
// through dial (nil: this machine's network).
type rawClient struct {
	user, pass string
	id         string
	tls        *tls.Config
	dial       func(ctx context.Context, network, address string) (net.Conn, error)
	will       string // will topic, if any
}

// connect connects c to url and returns the client, or the error.
func (c rawClient) connect(t *testing.T, broker string) (paho.Client, error) {
	t.Helper()
	if c.id == "" {
		c.id = fmt.Sprintf("raw-%d", time.Now().UnixNano())
	}
	opts := paho.NewClientOptions().AddBroker(broker).SetClientID(c.id).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false).
		SetProtocolVersion(4) // no second try with MQTT 3.1 after a refusal
	if c.user != "" {
		opts.SetUsername(c.user).SetPassword(c.pass)
	}
	if c.tls != nil {
		opts.SetTLSConfig(c.tls)
	}
	if c.will != "" {
		opts.SetWill(c.will, "forged", 0, false)
	}
	if c.dial != nil {
		dial := c.dial
		opts.SetCustomOpenConnectionFn(func(u *url.URL, o paho.ClientOptions) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			nc, err := dial(ctx, "tcp", u.Host)
			if err != nil || o.TLSConfig == nil {
				return nc, err
			}
			tcfg := o.TLSConfig.Clone()
			tcfg.ServerName = u.Hostname()
			tc := tls.Client(nc, tcfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				nc.Close()
				return nil, err
			}
			return tc, nil
		})
	}
	cli := paho.NewClient(opts)
	tok := cli.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, fmt.Errorf("no CONNACK within 5s")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { cli.Disconnect(50) })
	return cli, nil
}

// subscribe subscribes cli to filter and returns the broker's answer
// (0x80 is a refusal) and a channel of the topics of the messages
// delivered.
func subscribe(t *testing.T, cli paho.Client, filter string) (byte, <-chan string) {
	t.Helper()
	got := make(chan string, 64)
	tok := cli.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
		select {
		case got <- m.Topic():
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return tok.(*paho.SubscribeToken).Result()[filter], got
}

// serve answers every request of srv until the test ends, and reports
// the peer of each.
func serve(t *testing.T, srv network.Conn) <-chan string {
	t.Helper()
	peers := make(chan string, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			f, err := srv.Recv(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue
			}
			select {
			case peers <- f.Peer:
			default:
			}
			srv.Send(ctx, &wire.Frame{Kind: wire.Reply, Seq: f.Seq, Peer: f.Peer, Payload: f.Payload})
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return peers
}

// TestEmbeddedBrokerOnLAN: an embedded broker that other machines can
// reach generates a password and writes it 0600 where it says, refuses
// anonymous clients (also one subscribing to "#" from another network
// namespace), wrong passwords and forged wills, denies a client another
// client's topics, counts and reports all of it, and still serves
// clients with the password.
func TestEmbeddedBrokerOnLAN(t *testing.T) {
	lan := transporttest.LANAddr(t)
	cfg := lanConfig(t, lan)
	var log notices
	cfg.Notice = log.add
	srv := listen(t, cfg)
	defer srv.Close()
	peers := serve(t, srv)
	url := brokerURL(t, cfg)

	pwFile := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "peernet", fmt.Sprintf("mqtt-cloud-%d.password", cfg.Port(cfg.Devices[0])))
	if !strings.Contains(log.all(), "generated one for user peernet in "+pwFile+" (mode 0600)") {
		t.Errorf("notices %q do not say where the password went (%s)", log.all(), pwFile)
	}
	st, err := os.Stat(pwFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file %s: %v, %v", pwFile, st, err)
	}
	pw, err := network.ReadKeyFile(pwFile, true)
	if err != nil || len(pw) != 1 {
		t.Fatalf("password file: %v, %v", pw, err)
	}
	pass := pw[0].Text

	// A client with the password file (same machine, default path) works.
	cli := dial(t, cfg)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Recv(ctx); err != nil {
		t.Fatalf("a client with the password got no reply: %v", err)
	}
	<-peers
	if sec := cli.(network.SecurityReporter).Security(); sec.Mode != "password+acl" {
		t.Errorf("client Security() = %+v", sec)
	}

	// Anonymous, from the other namespace: refused before any subscribe.
	_, err = rawClient{dial: lan.Dial}.connect(t, url)
	if err == nil || !strings.Contains(err.Error(), "not Authorized") {
		t.Errorf("anonymous client from %s: %v", lan.Far, err)
	}
	if _, err := (rawClient{user: "peernet", pass: "guess", dial: lan.Dial}).connect(t, url); err == nil {
		t.Error("wrong password admitted")
	}
	if _, err := (rawClient{user: mqtt.DefaultUsername, pass: pass, id: "edge-w", will: "peernet/cloud/victim-1/req"}).connect(t, url); err == nil {
		t.Error("a will on another client's topic admitted")
	}

	// With the password: "#" and another client's topics are denied.
	spy, err := rawClient{user: mqtt.DefaultUsername, pass: pass, id: "spy-1", dial: lan.Dial}.connect(t, url)
	if err != nil {
		t.Fatalf("client with the password from %s: %v", lan.Far, err)
	}
	if code, _ := subscribe(t, spy, "#"); code != 0x80 {
		t.Errorf(`subscribe to "#": answer %#x, want 0x80 (refused)`, code)
	}
	if code, _ := subscribe(t, spy, "peernet/cloud/victim-1/rep"); code != 0x80 {
		t.Errorf("subscribe to another client's replies: answer %#x, want 0x80", code)
	}
	code, own := subscribe(t, spy, "peernet/cloud/spy-1/rep")
	if code == 0x80 {
		t.Fatal("subscribe to its own reply topic refused")
	}
	spy.Publish("peernet/cloud/victim-1/req", 0, false, mustFrame(t, 7)).WaitTimeout(time.Second)
	spy.Publish("peernet/cloud/spy-1/req", 0, false, mustFrame(t, 8)).WaitTimeout(time.Second)
	select {
	case p := <-peers:
		if p != "spy-1" {
			t.Errorf("server received a request of %q; only spy-1's own may pass", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request on its own topic did not reach the server")
	}
	select {
	case topic := <-own:
		if topic != "peernet/cloud/spy-1/rep" {
			t.Errorf("spy got a message on %s", topic)
		}
	case <-time.After(5 * time.Second):
		t.Error("no reply on its own topic")
	}
	select {
	case p := <-peers:
		t.Errorf("server also received a request of %q", p)
	case <-time.After(200 * time.Millisecond):
	}

	sec := srv.(network.SecurityReporter).Security()
	if sec.Mode != "password+acl" || sec.Refused != 3 || sec.Denied != 3 {
		t.Errorf("server Security() = %+v; want mode password+acl, 3 refused, 3 denied", sec)
	}
	all := log.all()
	for _, want := range []string{
		`mqtt: refused client "raw-`, "anonymous (no username)", "wrong username or password",
		`a will on "peernet/cloud/victim-1/req"`, `mqtt: denied client "spy-1" from ` + lan.Far, `subscribing to "#"`,
		`publishing on "peernet/cloud/victim-1/req"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("notices lack %q:\n%s", want, all)
		}
	}
}

func mustFrame(t *testing.T, seq uint64) []byte {
	t.Helper()
	b, err := (&wire.Frame{Kind: wire.Request, Seq: seq}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEmbeddedPasswordFile: a password file named in the config is used
// as it is; a client without it is told where it goes.
func TestEmbeddedPasswordFile(t *testing.T) {
	lan := transporttest.LANAddr(t)
	pw := filepath.Join(t.TempDir(), "mqtt.password")
	if err := os.WriteFile(pw, []byte("# test\nopen sesame, but longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := lanConfig(t, lan, "username: robot", "password_file: "+pw)
	var log notices
	cfg.Notice = log.add
	srv := listen(t, cfg)
	defer srv.Close()
	if log.all() != "" {
		t.Errorf("notices with a given password file: %q", log.all())
	}
	cli := dial(t, cfg)
	defer cli.Close()
	exchange(t, srv, cli, 1)
	if _, err := (rawClient{user: "robot", pass: "open sesame, but longer", id: "edge-2"}).connect(t, brokerURL(t, cfg)); err != nil {
		t.Errorf("the file's password: %v", err)
	}

	other := lanConfig(t, lan) // another XDG_CONFIG_HOME: no password file there
	other.StartPort = cfg.StartPort
	_, err := mqtt.Transport{}.Dial(context.Background(), other, "edge")
	if err == nil || !strings.Contains(err.Error(), "requires a password: copy the server's password file to ") {
		t.Errorf("client without the password file: %v", err)
	}
}

// tlsConfig returns a client TLS configuration trusting caFile.
func tlsConfig(t *testing.T, caFile string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// TestConformanceEmbeddedTLS runs the conformance kit through an embedded
// broker with a TLS listener, on loopback and, with passwords and access
// rules, on a LAN address; garbage comes from a client with the password
// on its own request topic.
func TestConformanceEmbeddedTLS(t *testing.T) {
	t.Run("loopback", func(t *testing.T) {
		p := newPKI(t)
		cfg := loopback(t, fmt.Sprintf("max_frame: %d", testMaxFrame),
			"broker_tls: {cert_file: "+p.brokerCert+", key_file: "+p.brokerKey+"}", "tls: {ca_file: "+p.ca+"}")
		h := harness(cfg)
		var n atomic.Int64
		h.InjectGarbage = func(t *testing.T, b []byte) {
			id := fmt.Sprintf("garbage-%d", n.Add(1))
			cli, err := rawClient{id: id, tls: tlsConfig(t, p.ca)}.connect(t, "ssl://"+cfg.ServerAddr())
			if err != nil {
				t.Fatal(err)
			}
			cli.Publish("peernet/cloud/"+id+"/req", 1, false, b).WaitTimeout(5 * time.Second)
		}
		transporttest.Run(t, h)
	})
	t.Run("LAN", func(t *testing.T) {
		lan := transporttest.LANAddr(t)
		p := newPKI(t, lan.IP)
		pw := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pw, []byte("correct horse battery\n"), 0o600)
		cfg := lanConfig(t, lan, fmt.Sprintf("max_frame: %d", testMaxFrame), "password_file: "+pw,
			"broker_tls: {cert_file: "+p.brokerCert+", key_file: "+p.brokerKey+"}", "tls: {ca_file: "+p.ca+"}")
		h := harness(cfg)
		var n atomic.Int64
		h.InjectGarbage = func(t *testing.T, b []byte) {
			id := fmt.Sprintf("garbage-%d", n.Add(1))
			cli, err := rawClient{user: mqtt.DefaultUsername, pass: "correct horse battery", id: id, tls: tlsConfig(t, p.ca), dial: lan.Dial}.connect(t, "ssl://"+cfg.ServerAddr())
			if err != nil {
				t.Fatal(err)
			}
			cli.Publish("peernet/cloud/"+id+"/req", 1, false, b).WaitTimeout(5 * time.Second)
		}
		transporttest.Run(t, h)
		srv := listen(t, cfg)
		defer srv.Close()
		if sec := srv.(network.SecurityReporter).Security(); sec.Mode != "tls+password+acl" {
			t.Errorf("Security() = %+v", sec)
		}
	})
}

// TestEmbeddedTLSErrors: a client of an embedded TLS broker without the
// CA, or with another CA, fails at once saying so in one line.
func TestEmbeddedTLSErrors(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	cfg := loopback(t, "broker_tls: {cert_file: "+p.brokerCert+", key_file: "+p.brokerKey+"}", "tls: {ca_file: "+p.ca+"}")
	srv := listen(t, cfg)
	defer srv.Close()
	if sec := srv.(network.SecurityReporter).Security(); sec.Mode != "tls" {
		t.Errorf("Security() = %+v", sec)
	}
	for _, tc := range []struct{ name, tls, want string }{
		{"no CA", "tls: {server_name: localhost}", "the broker's certificate is not signed by a CA this system trusts; set mqtt.tls.ca_file"},
		{"other CA", "tls: {ca_file: " + other.ca + "}", "the broker's certificate is not signed by the CA in mqtt.tls.ca_file " + other.ca},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loopback(t, "broker_tls: {cert_file: "+p.brokerCert+", key_file: "+p.brokerKey+"}", tc.tls)
			c.StartPort = cfg.StartPort
			start := time.Now()
			_, err := mqtt.Transport{}.Dial(context.Background(), c, "edge")
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line with %q", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestMosquittoTLSErrors: against a mosquitto TLS listener that requires
// client certificates, the right CA and certificate work, and a client
// with another CA or without a certificate fails with one line that says
// which.
func TestMosquittoTLSErrors(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	tlsPort := transporttest.FreePort(t)
	mqtttest.Mosquitto(t,
		fmt.Sprintf("listener %d 127.0.0.1", tlsPort),
		"cafile "+p.ca, "certfile "+p.brokerCert, "keyfile "+p.brokerKey,
		"require_certificate true",
	)
	waitPort(t, tlsPort)
	broker := fmt.Sprintf("broker: ssl://127.0.0.1:%d", tlsPort)
	cert := "cert_file: " + p.clientCert + ", key_file: " + p.clientKey
	good := loopback(t, broker, "tls: {ca_file: "+p.ca+", "+cert+"}")
	srv := listen(t, good)
	defer srv.Close()
	cli := dial(t, good)
	defer cli.Close()
	exchange(t, srv, cli, 1)
	if sec := cli.(network.SecurityReporter).Security(); sec.Mode != "tls" {
		t.Errorf("Security() = %+v", sec)
	}
	for _, tc := range []struct{ name, tls, want string }{
		{"other CA", "tls: {ca_file: " + other.ca + ", " + cert + "}", "the broker's certificate is not signed by the CA in mqtt.tls.ca_file " + other.ca},
		{"no client certificate", "tls: {ca_file: " + p.ca + "}", "the broker requires a client certificate; set mqtt.tls.cert_file and key_file"},
		{"certificate of another CA", "tls: {ca_file: " + p.ca + ", cert_file: " + other.clientCert + ", key_file: " + other.clientKey + "}",
			"the broker refused this client's certificate (mqtt.tls.cert_file)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loopback(t, broker, "connect_timeout: 2s", tc.tls)
			start := time.Now()
			c, err := mqtt.Transport{}.Dial(context.Background(), cfg, "edge")
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line with %q", err, tc.want)
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("took %v: TLS refusals are not retried", d)
			}
		})
	}
}
