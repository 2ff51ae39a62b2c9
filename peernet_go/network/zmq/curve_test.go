//go:build cgo

package zmq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// testKeys are key pairs written by WriteKeypair into a test's directory.
type testKeys struct {
	dir                  string
	server, edge, rogue  Keypair
	serverKey, serverPub string // files
	edgeKey, edgePub     string
	rogueKey             string
}

func newTestKeys(t testing.TB) *testKeys {
	t.Helper()
	k := &testKeys{dir: t.TempDir()}
	for _, p := range []struct {
		kp        *Keypair
		name      string
		key, pub  *string
		keepFiles bool
	}{
		{&k.server, "cloud", &k.serverKey, &k.serverPub, true},
		{&k.edge, "edge", &k.edgeKey, &k.edgePub, true},
		{&k.rogue, "rogue", &k.rogueKey, new(string), true},
	} {
		kp, err := NewKeypair()
		if err != nil {
			t.Fatal(err)
		}
		*p.kp = kp
		*p.key, *p.pub, err = WriteKeypair(filepath.Join(k.dir, p.name), kp, false)
		if err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// curveLines returns the zmq section lines of a CURVE config in which
// client (a secret key file) dials a server that allows the edge key.
func (k *testKeys) curveLines(client string, extra ...string) []string {
	return append([]string{
		fmt.Sprintf("max_frame: %d", testMaxFrame),
		"curve:",
		"  server_public_key: " + k.serverPub,
		"  server_secret_key: " + k.serverKey,
		"  client_secret_key: " + client,
		"  client_public_keys: [" + k.edgePub + "]",
	}, extra...)
}

// sendRawCurve sends one message of parts from a bare CURVE DEALER with
// the client key pair kp.
func sendRawCurve(t testing.TB, cfg *network.Config, server string, kp Keypair, parts ...[]byte) {
	t.Helper()
	zctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer zctx.Term()
	s, err := zctx.NewSocket(zmq4.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = setOptions(
		func() error { return s.SetLinger(2 * time.Second) },
		func() error { return s.SetSndtimeo(2 * time.Second) },
		func() error { return s.SetImmediate(true) },
		func() error { return s.ClientAuthCurve(server, kp.Public, kp.Secret) },
		func() error { return s.Connect("tcp://" + cfg.ServerAddr()) },
	)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		flag := zmq4.SNDMORE
		if i == len(parts)-1 {
			flag = 0
		}
		if _, err := s.SendBytes(p, flag); err != nil {
			t.Fatalf("raw CURVE send: %v", err)
		}
	}
}

// TestConformanceCurve: with CURVE the transport passes the whole kit.
func TestConformanceCurve(t *testing.T) {
	if !zmq4.HasCurve() {
		t.Skip("libzmq built without CURVE")
	}
	k := newTestKeys(t)
	cfg := loopback(t, k.curveLines(k.edgeKey)...)
	transporttest.Run(t, transporttest.Harness{
		Listen:        func(t *testing.T) network.Conn { return listen(t, cfg) },
		Dial:          func(t *testing.T) network.Conn { return dial(t, cfg) },
		InjectGarbage: func(t *testing.T, b []byte) { sendRawCurve(t, cfg, k.server.Public, k.edge, b) },
		MaxFrame:      testMaxFrame,
	})
}

// noticeLog collects a config's notices.
type noticeLog struct {
	mu sync.Mutex
	l  []string
}

func (n *noticeLog) add(s string) { n.mu.Lock(); n.l = append(n.l, s); n.mu.Unlock() }

func (n *noticeLog) get() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.l...)
}

// TestCurveRefusesUnknownKey: a client whose key is not on the server's
// allow-list gets no reply, its Send fails at once saying why, and the
// server counts and reports it; a listed key then works.
func TestCurveRefusesUnknownKey(t *testing.T) {
	k := newTestKeys(t)
	cfg := loopback(t, k.curveLines(k.edgeKey)...)
	var notices noticeLog
	cfg.Notice = notices.add
	srv := listen(t, cfg)
	defer srv.Close()
	srvCtx, stop := context.WithCancel(context.Background())
	defer stop()
	got := make(chan uint64, 16)
	go func() {
		for {
			f, err := srv.Recv(srvCtx)
			if err != nil {
				if srvCtx.Err() != nil {
					return
				}
				continue
			}
			got <- f.Seq
			srv.Send(srvCtx, &wire.Frame{Kind: wire.Reply, Seq: f.Seq, Peer: f.Peer})
		}
	}()

	rogueCfg := loopback(t, k.curveLines(k.rogueKey)...)
	rogueCfg.StartPort = cfg.StartPort
	rogue := dial(t, rogueCfg)
	defer rogue.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := rogue.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1})
	if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "CURVE handshake failed: the server refused this client's key (ZAP status 400)") {
		t.Fatalf("Send with an unlisted key: %v", err)
	}
	t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
	sec := srv.(network.SecurityReporter).Security()
	if sec.Mode != "curve" || sec.Refused < 1 {
		t.Errorf("server Security() = %+v, want mode curve and a refusal", sec)
	}
	if n := notices.get(); len(n) == 0 || !strings.Contains(n[0], "its CURVE public key "+k.rogue.Public+" is not in client_public_keys") {
		t.Errorf("notices %q", n)
	}

	edge := dial(t, cfg)
	defer edge.Close()
	if err := edge.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 2}); err != nil {
		t.Fatalf("Send with a listed key: %v", err)
	}
	rep, err := edge.Recv(ctx)
	if err != nil || rep.Seq != 2 {
		t.Fatalf("Recv with a listed key: %v, %v", rep, err)
	}
	select {
	case seq := <-got:
		if seq != 2 {
			t.Errorf("server received seq %d, want only 2", seq)
		}
	default:
		t.Error("server received nothing")
	}
	select {
	case seq := <-got:
		t.Errorf("server also received seq %d", seq)
	default:
	}
	if sec := edge.(network.SecurityReporter).Security(); sec != (network.Security{Mode: "curve"}) {
		t.Errorf("client Security() = %+v", sec)
	}
}

// TestCurveWrongServerKey: a client given another server public key
// fails with a clear error within its timeout.
func TestCurveWrongServerKey(t *testing.T) {
	k := newTestKeys(t)
	cfg := loopback(t, k.curveLines(k.edgeKey)...)
	srv := listen(t, cfg)
	defer srv.Close()
	lines := k.curveLines(k.edgeKey)
	lines[2] = "  server_public_key: '" + k.rogue.Public + "'"
	wrong := loopback(t, lines...)
	wrong.StartPort = cfg.StartPort
	cli := dial(t, wrong)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1})
	if err == nil {
		t.Fatal("Send to a server with another key succeeded")
	}
	if d := time.Since(start); d > 3*time.Second+time.Second {
		t.Errorf("took %v", d)
	}
	if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "is server_public_key the server's") {
		t.Errorf("error %v, want a handshake error naming server_public_key", err)
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// TestCurvePlainClient: a client without CURVE never reaches a CURVE
// server, and a CURVE client never reaches a plain server.
func TestCurvePlainMismatch(t *testing.T) {
	k := newTestKeys(t)
	cfg := loopback(t, k.curveLines(k.edgeKey)...)
	srv := listen(t, cfg)
	defer srv.Close()
	plain := loopback(t)
	plain.StartPort = cfg.StartPort
	cli := dial(t, plain)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("plain client to a CURVE server: %v", err)
	}
	srv.Close()

	psrv := listen(t, plain)
	defer psrv.Close()
	ccli := dial(t, cfg)
	defer ccli.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	err := ccli.Send(ctx2, &wire.Frame{Kind: wire.Request, Seq: 1})
	if err == nil {
		t.Fatal("CURVE client reached a plain server")
	}
	t.Logf("CURVE client to a plain server: %v", err)
}

func TestCurveOptionsErrors(t *testing.T) {
	k := newTestKeys(t)
	open := filepath.Join(k.dir, "open.key")
	if err := os.WriteFile(open, FormatKeyFile("x", k.edge.Secret), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(k.dir, "list")
	if err := os.WriteFile(list, []byte(k.edge.Public+"\nnot-a-key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		lines []string
		want  string // of Listen
	}{
		{"no server key", []string{"curve: {server_secret_key: " + k.serverKey + "}"},
			"zmq: curve: server_public_key: missing (both ends need the server's public key; peernet keygen NAME writes NAME.pub)"},
		{"no secret", []string{"curve: {server_public_key: " + k.serverPub + ", client_public_keys: [" + k.edgePub + "]}"},
			"zmq: curve: server_secret_key: missing (Listen needs the server's secret key; peernet keygen NAME writes NAME.key)"},
		{"mismatch", []string{"curve: {server_public_key: '" + k.edge.Public + "', server_secret_key: " + k.serverKey + ", client_public_keys: [" + k.edgePub + "]}"},
			"zmq: curve: server_public_key " + k.edge.Public + " does not belong to server_secret_key (whose public key is " + k.server.Public + ")"},
		{"empty allow-list", []string{"curve: {server_public_key: " + k.serverPub + ", server_secret_key: " + k.serverKey + "}"},
			"zmq: curve: client_public_keys: empty (list the public key of every client the server lets in, e.g. edge.pub)"},
		{"open secret", []string{"curve: {server_public_key: '" + k.edge.Public + "', server_secret_key: " + open + ", client_public_keys: [" + k.edgePub + "]}"},
			"zmq: curve: server_secret_key: bad key file: " + open + " holds a secret but other users may read it (mode 0644); chmod 600 " + open},
		{"bad list", []string{"curve: {server_public_key: " + k.serverPub + ", server_secret_key: " + k.serverKey + ", client_public_keys: [" + k.edgePub + ", " + list + "]}"},
			"zmq: curve: client_public_keys[1]: " + list + ": line 2: zmq: not a CURVE key (40 Z85 characters): 9 characters"},
		{"missing file", []string{"curve: {server_public_key: " + filepath.Join(k.dir, "nope.pub") + "}"},
			"zmq: curve: server_public_key: open " + filepath.Join(k.dir, "nope.pub") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loopback(t, tc.lines...)
			_, err := Transport{}.Listen(context.Background(), cfg, "cloud")
			if err == nil || err.Error() != tc.want {
				t.Errorf("Listen:\n got %v\nwant %s", err, tc.want)
			}
		})
	}
	cfg := loopback(t, "curve: {server_public_key: "+k.serverPub+"}")
	_, err := Transport{}.Dial(context.Background(), cfg, "edge")
	want := "zmq: curve: client_secret_key: missing (Dial needs this client's secret key; peernet keygen NAME writes NAME.key)"
	if err == nil || err.Error() != want {
		t.Errorf("Dial without a client key:\n got %v\nwant %s", err, want)
	}
}

// TestUnauthenticatedNotice: Listen on a non-loopback address without
// CURVE says so, once; on loopback it says nothing.
func TestUnauthenticatedNotice(t *testing.T) {
	var notices noticeLog
	cfg := loopback(t)
	cfg.Notice = notices.add
	srv := listen(t, cfg)
	srv.Close()
	if n := notices.get(); len(n) != 0 {
		t.Errorf("loopback listener: notices %q", n)
	}
	wild := loopback(t, `bind: "*"`)
	wild.Notice = notices.add
	srv = listen(t, wild)
	srv.Close()
	n := notices.get()
	if len(n) != 1 || !strings.HasPrefix(n[0], "zmq-tcp: listening on tcp://*:") || !strings.Contains(n[0], "without CURVE") {
		t.Errorf("wildcard listener: notices %q", n)
	}
}

// TestKeysMatchLibzmq: keys made in Go are the keys libzmq derives.
func TestKeysMatchLibzmq(t *testing.T) {
	kp, err := NewKeypair()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := zmq4.AuthCurvePublic(kp.Secret)
	if err != nil || pub != kp.Public {
		t.Errorf("libzmq's public key of our secret: %q, %v; ours %q", pub, err, kp.Public)
	}
	zpub, zsec, err := zmq4.NewCurveKeypair()
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := PublicKey(zsec); err != nil || pub != zpub {
		t.Errorf("our public key of libzmq's secret: %q, %v; libzmq's %q", pub, err, zpub)
	}
	raw := zmq4.Z85decode(zpub)
	if z85Encode([]byte(raw)) != zpub {
		t.Errorf("Z85 of libzmq's key differs")
	}
}
