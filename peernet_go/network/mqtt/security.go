package mqtt

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/peernet/peernet_go/peernet_go/internal/ratelog"
	"github.com/peernet/peernet_go/peernet_go/network"
)

// serverUser is the username of the server's own MQTT clients (Listen's
// and RawServe's) at an embedded broker that enforces its access rules.
// Their password is drawn at random when the broker starts and never
// leaves the process.
const serverUser = "peernet-server"

// credentials are what an MQTT client presents to the broker.
type credentials struct {
	user, pass string
}

// secured reports whether an embedded broker listening on listen must
// require passwords and enforce its access rules: whenever it can be
// reached from another machine, i.e. listen is not a loopback address.
func secured(ctx context.Context, listen string) bool {
	return listen != "" && !network.IsLoopback(ctx, listen)
}

// passwordFile returns where the password of an embedded broker's clients
// is kept: o.PasswordFile, or mqtt-SERVER-PORT.password in the user's
// configuration directory.
func passwordFile(cfg *network.Config, o *Options, listen string) string {
	if o.PasswordFile != "" {
		return o.PasswordFile
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = os.TempDir()
	}
	_, port, _ := net.SplitHostPort(listen)
	return filepath.Join(dir, "peernet", "mqtt-"+cfg.Server+"-"+port+".password")
}

// readPassword reads a password file.
func readPassword(path string) (string, error) {
	lines, err := network.ReadKeyFile(path, true)
	if err != nil {
		return "", err
	}
	switch {
	case len(lines) == 0:
		return "", fmt.Errorf("%s: no password in it", path)
	case len(lines) > 1:
		return "", fmt.Errorf("%s: line %d: a second password; the file holds one", path, lines[1].Line)
	}
	return lines[0].Text, nil
}

// clientCredentials returns what the clients of o's broker present: o's
// username and password or password file; for an embedded broker that
// enforces its rules, DefaultUsername when o names none and the password
// file, which must be there.
func clientCredentials(ctx context.Context, cfg *network.Config, o *Options, listen string) (credentials, error) {
	c := credentials{user: o.Username, pass: o.Password}
	path := o.PasswordFile
	if o.Broker == BrokerEmbedded && secured(ctx, listen) {
		if c.user == "" {
			c.user = DefaultUsername
		}
		if c.pass != "" {
			return c, nil
		}
		path = passwordFile(cfg, o, listen)
		pass, err := readPassword(path)
		if errors.Is(err, os.ErrNotExist) {
			return c, fmt.Errorf("mqtt: the embedded broker on %s requires a password: copy the server's password file to %s, or set mqtt.password_file", listen, path)
		}
		if err != nil {
			return c, fmt.Errorf("mqtt: password_file: %w", err)
		}
		c.pass = pass
		return c, nil
	}
	if path != "" {
		pass, err := readPassword(path)
		if err != nil {
			return c, fmt.Errorf("mqtt: password_file: %w", err)
		}
		c.pass = pass
		if c.user == "" {
			c.user = DefaultUsername
		}
	}
	return c, nil
}

// brokerCredentials returns the password an embedded broker listening on
// listen requires of its clients: o's, or the one in the password file,
// generated into it (mode 0600) when it is not there yet; the notice says
// where, once.
func brokerCredentials(ctx context.Context, cfg *network.Config, o *Options, listen string) (credentials, error) {
	c, err := clientCredentials(ctx, cfg, o, listen)
	if err == nil || !secured(ctx, listen) || o.Password != "" {
		return c, err
	}
	path := passwordFile(cfg, o, listen)
	if _, serr := os.Lstat(path); serr == nil {
		return c, err // there, but unreadable or bad
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return c, fmt.Errorf("mqtt: generating a password: %w", err)
	}
	c.pass = hex.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return c, fmt.Errorf("mqtt: password_file: %w", err)
	}
	text := "# peernet mqtt password of user " + c.user + " for the embedded broker on " + listen + "; keep it private\n" + c.pass + "\n"
	if err := network.WriteKeyFile(path, []byte(text), 0o600, false); err != nil {
		return c, fmt.Errorf("mqtt: password_file: %w", err)
	}
	cfg.Notify(fmt.Sprintf("mqtt: the embedded broker on %s requires a password; generated one for user %s in %s (mode 0600): copy it to the clients and set mqtt.password_file", listen, c.user, path))
	return c, nil
}

// serverCredentials returns fresh credentials for the server's own
// clients.
func serverCredentials() (credentials, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return credentials{}, fmt.Errorf("mqtt: %w", err)
	}
	return credentials{user: serverUser, pass: hex.EncodeToString(b[:])}, nil
}

// pinnedTLS returns the TLS configuration of the server's own clients at
// an embedded broker with certificate cert: they accept exactly that
// certificate, which they hold, whatever signed it.
func pinnedTLS(cert *tls.Certificate) *tls.Config {
	leaf := cert.Certificate[0]
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // verified below: the certificate must be the broker's own
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || subtle.ConstantTimeCompare(raw[0], leaf) != 1 {
				return errors.New("mqtt: the embedded broker presented a certificate that is not its own")
			}
			return nil
		},
	}
}

// guard is the embedded broker's authentication and access rules, and
// what they refused. Refused counts connection attempts: a client that
// tries again, or falls back from MQTT 3.1.1 to 3.1 after a refusal as
// paho does, counts each time.
//
// Without rules (the broker listens on loopback only) it admits anyone
// when no username is configured, otherwise exactly the configured
// username and password, and every admitted client may use every topic,
// as before. With rules, every client must present the password, and a
// client whose identifier is ID may publish only on its request topic
// PREFIX/SERVER/ID/req (and PREFIX/SERVER/ID/ping, the raw baseline's),
// subscribe only to its reply topic PREFIX/SERVER/ID/rep (and .../pong),
// and leave no will elsewhere; only the server's own clients, which
// present the credentials drawn when the broker started, may use the
// other topics.
type guard struct {
	mochi.HookBase
	rules  bool
	client credentials
	server credentials
	base   string // PREFIX/SERVER/

	refused, denied atomic.Uint64
	// log reports refused clients and denied operations, each kind
	// rate-limited on its own.
	log *ratelog.Logger
}

// ID names the hook.
func (g *guard) ID() string { return "peernet-access" }

// Provides says which hook methods guard implements.
func (g *guard) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

// OnConnectAuthenticate checks the client's credentials, in constant time.
func (g *guard) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	user, pass := cl.Properties.Username, pk.Connect.Password
	if !g.rules {
		if g.client.user == "" {
			return true
		}
		return equal(user, g.client.user)&equal(pass, g.client.pass) == 1
	}
	if equal(user, g.server.user)&equal(pass, g.server.pass) == 1 {
		return true
	}
	var why string
	switch {
	case len(user) == 0:
		why = "anonymous (no username)"
	case equal(user, g.client.user)&equal(pass, g.client.pass) != 1:
		why = fmt.Sprintf("wrong username or password (user %.40q)", user)
	case !validPeer(cl.ID):
		why = fmt.Sprintf("client identifier %.40q cannot name a topic level", cl.ID)
	case pk.Connect.WillFlag && pk.Connect.WillTopic != g.base+cl.ID+"/req":
		why = fmt.Sprintf("a will on %.100q, which is not its own request topic", pk.Connect.WillTopic)
	default:
		return true
	}
	g.refused.Add(1)
	g.log.Printf("mqtt-refused-client", "mqtt: refused client %.40q from %s: %s", cl.ID, cl.Net.Remote, why)
	return false
}

// OnACLCheck applies the access rules to a publish (write) or to a
// subscription or delivery.
func (g *guard) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	if !g.rules || string(cl.Properties.Username) == g.server.user {
		return true
	}
	own := g.base + cl.ID + "/"
	if write && (topic == own+"req" || topic == own+"ping") || !write && (topic == own+"rep" || topic == own+"pong") {
		return true
	}
	g.denied.Add(1)
	what := "subscribing to"
	if write {
		what = "publishing on"
	}
	g.log.Printf("mqtt-denied", "mqtt: denied client %.40q from %s %s %.100q (it may use only %sreq and %srep)", cl.ID, cl.Net.Remote, what, topic, own, own)
	return false
}

func equal(b []byte, s string) int { return subtle.ConstantTimeCompare(b, []byte(s)) }

// securityMode names the protection of an end of o, for
// network.Security.Mode: "tls", "password" and "acl" (the embedded
// broker's access rules), joined by "+".
func securityMode(o *Options, rules bool, creds credentials) string {
	var parts []string
	if o.usesTLS() {
		parts = append(parts, "tls")
	}
	if creds.pass != "" {
		parts = append(parts, "password")
	}
	if rules {
		parts = append(parts, "acl")
	}
	return strings.Join(parts, "+")
}
