package transporttest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

const refMaxFrame = 2 << 20

// refHarness opens the reference transport; wrap, if set, alters the Conns
// it returns.
func refHarness(t *testing.T, wrap func(c network.Conn, server bool) network.Conn) transporttest.Harness {
	tr := refTransport{addr: fmt.Sprintf("127.0.0.1:%d", transporttest.FreePort(t)), maxFrame: refMaxFrame}
	if wrap == nil {
		wrap = func(c network.Conn, _ bool) network.Conn { return c }
	}
	return transporttest.Harness{
		Listen: func(t *testing.T) network.Conn {
			c, err := tr.listen()
			if err != nil {
				t.Fatal(err)
			}
			return wrap(c, true)
		},
		Dial: func(t *testing.T) network.Conn { return wrap(tr.dial(), false) },
		InjectGarbage: func(t *testing.T, b []byte) {
			if err := injectRaw(tr.addr, b); err != nil {
				t.Fatal(err)
			}
		},
		MaxFrame: refMaxFrame,
	}
}

// TestReference: a correct transport passes the kit.
func TestReference(t *testing.T) {
	transporttest.Run(t, refHarness(t, nil))
}

// broken are transports with one defect each, the subtest that must catch
// it and the failure message it must give.
var broken = map[string]struct {
	wrap    func(c network.Conn, server bool) network.Conn
	subtest string
	want    string
}{
	"ignores-deadline": {
		wrap: func(c network.Conn, server bool) network.Conn {
			if server {
				return c
			}
			return recvFunc{c, func(ctx context.Context) (*wire.Frame, error) { return c.Recv(context.WithoutCancel(ctx)) }}
		},
		subtest: "RecvDeadline",
		want:    "Recv did not return within",
	},
	"crossed-replies": {
		wrap: func(c network.Conn, server bool) network.Conn {
			if !server {
				return c
			}
			return &firstPeer{Conn: c}
		},
		subtest: "TwoClients",
		want:    "replies crossed",
	},
	"swallows-garbage": {
		wrap: func(c network.Conn, server bool) network.Conn {
			return recvFunc{c, func(ctx context.Context) (*wire.Frame, error) {
				for {
					f, err := c.Recv(ctx)
					if de := (*network.DecodeError)(nil); !errors.As(err, &de) {
						return f, err
					}
				}
			}}
		},
		subtest: "Garbage",
		want:    "server reported no *network.DecodeError",
	},
	"close-does-nothing": {
		wrap: func(c network.Conn, server bool) network.Conn {
			return &lazyClose{Conn: c}
		},
		subtest: "CloseDuringRecv/Client",
		want:    "Recv blocked during Close did not return",
	},
	"open-after-close": {
		wrap: func(c network.Conn, server bool) network.Conn {
			return &lazyClose{Conn: c}
		},
		subtest: "UseAfterClose/Server",
		want:    "Recv after Close",
	},
}

type recvFunc struct {
	network.Conn
	recv func(context.Context) (*wire.Frame, error)
}

func (r recvFunc) Recv(ctx context.Context) (*wire.Frame, error) { return r.recv(ctx) }

// firstPeer routes every reply to the first peer it heard from.
type firstPeer struct {
	network.Conn
	mu    sync.Mutex
	first string
}

func (p *firstPeer) Recv(ctx context.Context) (*wire.Frame, error) {
	f, err := p.Conn.Recv(ctx)
	if err == nil {
		p.mu.Lock()
		if p.first == "" {
			p.first = f.Peer
		}
		p.mu.Unlock()
	}
	return f, err
}

func (p *firstPeer) Send(ctx context.Context, f *wire.Frame) error {
	g := *f
	p.mu.Lock()
	g.Peer = p.first
	p.mu.Unlock()
	return p.Conn.Send(ctx, &g)
}

// lazyClose closes the real Conn only when the test ends.
type lazyClose struct{ network.Conn }

func (l *lazyClose) Close() error { return nil }

const brokenEnv = "TRANSPORTTEST_BROKEN"

// TestBrokenHelper runs the kit against the broken transport named by the
// environment; TestKitCatchesDefects runs it in a child process.
func TestBrokenHelper(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("run by TestKitCatchesDefects")
	}
	b := broken[name]
	h := refHarness(t, func(c network.Conn, server bool) network.Conn {
		w := b.wrap(c, server)
		if lc, ok := w.(*lazyClose); ok {
			t.Cleanup(func() { lc.Conn.Close() })
		}
		return w
	})
	h.Timeout = 2 * time.Second // the defects show without large frames
	transporttest.Run(t, h)
}

func TestKitCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child test processes")
	}
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pattern := "^TestBrokenHelper$/^" + strings.ReplaceAll(b.subtest, "/", "$/^") + "$"
			cmd := exec.Command(os.Args[0], "-test.run="+pattern, "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("kit passed a transport that %s (err %v):\n%s", name, err, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenHelper/"+b.subtest) || !strings.Contains(string(out), b.want) {
				t.Fatalf("want subtest %s to fail with %q; output:\n%s", b.subtest, b.want, out)
			}
		})
	}
}

func TestHarnessErrors(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip()
	}
	// Run refuses a harness without Listen or Dial and unknown Skip names;
	// checked in a child process because Run fails its t.
	for _, tt := range []struct{ env, want string }{
		{"no-dial", "transporttest: Harness needs Listen and Dial"},
		{"bad-skip", `transporttest: Harness.Skip names unknown subtest "Nonsense"`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHarnessHelper$")
		cmd.Env = append(os.Environ(), "TRANSPORTTEST_HARNESS="+tt.env)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s: err %v, output:\n%s", tt.env, err, out)
		}
	}
}

func TestHarnessHelper(t *testing.T) {
	switch os.Getenv("TRANSPORTTEST_HARNESS") {
	case "no-dial":
		h := refHarness(t, nil)
		h.Dial = nil
		transporttest.Run(t, h)
	case "bad-skip":
		h := refHarness(t, nil)
		h.Skip = map[string]string{"Nonsense": "why"}
		transporttest.Run(t, h)
	default:
		t.Skip("run by TestHarnessErrors")
	}
}
