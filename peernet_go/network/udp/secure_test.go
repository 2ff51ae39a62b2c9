package udp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/network/udp"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

const psk = "correct horse battery staple 42"

// keyFile writes psk to a 0600 file and returns its path.
func keyFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "udp.key")
	if err := os.WriteFile(p, []byte("# peernet udp pre-shared key\n"+psk+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sealed builds a one-fragment authenticated datagram holding frame seq.
func sealed(t *testing.T, key string, session uint64, id uint32, seq uint64) []byte {
	t.Helper()
	b, err := (&wire.Frame{Kind: wire.Request, Seq: seq, Payload: []byte("x")}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return udp.SealedFragmentBytes([]byte(key), session, id, 0, 1, b, len(b))
}

// TestConformanceWithKey: with a pre-shared key the transport passes the
// whole kit; its garbage is authenticated with the key, so that it
// reaches the frame decoder as garbage would without one.
func TestConformanceWithKey(t *testing.T) {
	for _, size := range []int{1400, 60000} {
		t.Run(fmt.Sprintf("payload_size=%d", size), func(t *testing.T) {
			cfg := loopback(t, fmt.Sprintf("max_frame: %d", testMaxFrame), fmt.Sprintf("payload_size: %d", size), "key_file: "+keyFile(t))
			var id atomic.Uint32 // each injection is a new message, never a replay
			transporttest.Run(t, transporttest.Harness{
				Listen: func(t *testing.T) network.Conn { return listen(t, udp.Transport{}, cfg) },
				Dial:   func(t *testing.T) network.Conn { return dial(t, udp.Transport{}, cfg) },
				InjectGarbage: func(t *testing.T, b []byte) {
					sendRaw(t, cfg, udp.SealedFragmentBytes([]byte(psk), 5, id.Add(1), 0, 1, b, len(b)))
				},
				MaxFrame: testMaxFrame,
				Timeout:  15 * time.Second,
			})
		})
	}
}

// TestBadTagsDropped: datagrams without a tag, with a tag of another key
// or with a byte changed are dropped before reassembly and counted; the
// frame that follows, with the right key, gets through.
func TestBadTagsDropped(t *testing.T) {
	var notices []string
	var mu sync.Mutex
	cfg := loopback(t, "key: "+psk)
	cfg.Notice = func(s string) { mu.Lock(); notices = append(notices, s); mu.Unlock() }
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()

	good := sealed(t, psk, 1, 10, 1)
	flipped := sealed(t, psk, 1, 11, 2)
	flipped[udp.HeaderSize+3] ^= 1
	sendRaw(t, cfg,
		frag(12, 0, 1, good[udp.HeaderSize:len(good)-udp.TrailerSize]), // no tag at all
		sealed(t, "a different key, long enough", 1, 13, 3),
		flipped,
		[]byte("short"),
		good,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := srv.Recv(ctx)
	if err != nil || f.Seq != 1 {
		t.Fatalf("Recv = %v, %v; want the good frame, seq 1", f, err)
	}
	st := stats(srv)
	if st.BadTags != 4 || st.MessagesReceived != 1 || st.Malformed != 0 {
		t.Errorf("stats %+v: want 4 bad tags, 1 message, nothing malformed", st)
	}
	sec := srv.(network.SecurityReporter).Security()
	if sec != (network.Security{Mode: "hmac-sha256", BadTags: 4}) {
		t.Errorf("Security() = %+v", sec)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notices) != 4 || !strings.Contains(notices[0], "bad authentication tag (do both ends have the same key?)") {
		t.Errorf("notices %q", notices)
	}
}

// TestReplayRefused: an authenticated datagram sent again from another
// address after its frame was delivered is dropped as a replay; sent
// again from its own address it is a duplicate, as without a key.
func TestReplayRefused(t *testing.T) {
	cfg := loopback(t, "key: "+psk)
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	d := sealed(t, psk, 99, 500, 7)
	sendRaw(t, cfg, d)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if f, err := srv.Recv(ctx); err != nil || f.Seq != 7 {
		t.Fatalf("Recv = %v, %v", f, err)
	}
	sendRaw(t, cfg, d) // a new socket: another address
	from, err := net.Dial("udp", cfg.ServerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	next := sealed(t, psk, 99, 501, 8)
	from.Write(next)
	from.Write(next) // same address: a duplicate
	if f, err := srv.Recv(ctx); err != nil || f.Seq != 8 {
		t.Fatalf("Recv after the replay = %v, %v; want seq 8", f, err)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer rcancel()
	if f, err := srv.Recv(rctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a copy was delivered: %v, %v", f, err)
	}
	st := stats(srv)
	if st.Replays != 1 || st.Duplicates != 1 || st.MessagesReceived != 2 {
		t.Errorf("stats %+v: want 1 replay, 1 duplicate, 2 messages", st)
	}
}

// TestKeyMismatch: a client with a key and a server without one, and the
// other way round, say what is wrong or count it.
func TestKeyMismatch(t *testing.T) {
	cfg := loopback(t)
	srv := listen(t, udp.Transport{}, cfg)
	defer srv.Close()
	sendRaw(t, cfg, sealed(t, psk, 1, 1, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := srv.Recv(ctx)
	var de *network.DecodeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "an authenticated datagram (flags 0x1), but no key is configured here") {
		t.Errorf("keyed datagram at a server without a key: %v", err)
	}
	if sec := srv.(network.SecurityReporter).Security(); sec != (network.Security{}) {
		t.Errorf("Security() without a key = %+v", sec)
	}

	keyed := loopback(t, "key: "+psk)
	ksrv := listen(t, udp.Transport{}, keyed)
	defer ksrv.Close()
	plain := *keyed
	plain.Sections = nil
	cli := dial(t, udp.Transport{}, &plain)
	defer cli.Close()
	if err := cli.Send(ctx, &wire.Frame{Kind: wire.Request, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for stats(ksrv).FragmentsReceived == 0 && time.Now().Before(deadline) {
		rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		ksrv.Recv(rctx)
		rcancel()
	}
	if st := stats(ksrv); st.BadTags != 1 {
		t.Errorf("unkeyed datagram at a keyed server: stats %+v, want 1 bad tag", st)
	}
}

func TestKeyOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.key")
	two := filepath.Join(dir, "two.key")
	empty := filepath.Join(dir, "empty.key")
	os.WriteFile(open, []byte(psk+"\n"), 0o644)
	os.WriteFile(two, []byte(psk+"\n"+psk+"\n"), 0o600)
	os.WriteFile(empty, []byte("# nothing\n"), 0o600)
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"key: short"}, "udp: key: 5 bytes, shorter than 16 (peernet keygen --psk FILE writes a good one)"},
		{[]string{"key: " + psk, "key_file: x"}, "udp: key, key_file: give one of them, not both"},
		{[]string{"key: " + psk, "payload_size: 65480"}, "udp: payload_size: 65480 out of range [64, 65467] (with a key every datagram carries a 24-byte trailer too)"},
		{[]string{"key_file: " + open}, "udp: key_file: bad key file: " + open + " holds a secret but other users may read it (mode 0644); chmod 600 " + open},
		{[]string{"key_file: " + two}, "udp: key_file: " + two + ": line 2: a second key; a key file holds one"},
		{[]string{"key_file: " + empty}, "udp: key_file: " + empty + ": no key in it"},
		{[]string{"key_file: " + filepath.Join(dir, "missing")}, "udp: key_file: open " + filepath.Join(dir, "missing") + ": no such file or directory"},
	} {
		cfg := loopback(t, tc.lines...)
		_, err := udp.Transport{}.Listen(context.Background(), cfg, "cloud")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.lines, err, tc.want)
		}
		if _, err := (udp.Transport{}).Dial(context.Background(), cfg, "edge"); err == nil || err.Error() != tc.want {
			t.Errorf("%q: Dial:\n got %v\nwant %s", tc.lines, err, tc.want)
		}
	}
}
