package subprocess

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the program under test: with PEERNET_EXEC_HELPER
// set it speaks the exec protocol in the way that variable names.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PEERNET_EXEC_HELPER"); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

func helper(mode string) int {
	in := bufio.NewReader(os.Stdin)
	out := os.Stdout
	var buf []byte
	for i := 0; ; i++ {
		req, err := ReadFrame(in, buf, DefaultMaxLen)
		if err != nil {
			if mode == "ignore-eof" {
				time.Sleep(time.Hour)
			}
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		buf = req
		switch mode {
		case "echo", "ignore-eof":
		case "mute": // read requests, never answer
			time.Sleep(time.Hour)
		case "slow-first": // answer the first request late
			if i == 0 {
				time.Sleep(300 * time.Millisecond)
			}
		case "split-first": // half a reply, a pause, then the rest
			if i == 0 {
				frame := AppendFrame(nil, req)
				out.Write(frame[:len(frame)/2])
				time.Sleep(300 * time.Millisecond)
				out.Write(frame[len(frame)/2:])
				continue
			}
		case "die":
			fmt.Fprintln(os.Stderr, "first line\nboom: cannot go on")
			return 3
		case "huge":
			out.Write([]byte{0xff, 0xff, 0xff, 0xff})
			continue
		case "garbage-after-exit":
			out.Write([]byte{0, 0, 1})
			return 0
		default:
			fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
			return 2
		}
		if err := WriteFrame(out, req); err != nil {
			return 1
		}
	}
}

func start(t *testing.T, mode string, o Options) *Process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	o.Command = "exec '" + exe + "'"
	// The race runtime otherwise sleeps a second at exit.
	o.Env = append(os.Environ(), "PEERNET_EXEC_HELPER="+mode, "GORACE=atexit_sleep_ms=0")
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	p, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestEcho(t *testing.T) {
	p := start(t, "echo", Options{})
	for _, n := range []int{0, 1, 100, 4096, 4097, 65536, 1 << 20, 3<<20 + 7} {
		req := bytes.Repeat([]byte{byte(n)}, n)
		got, err := p.Call(ctxFor(t, 10*time.Second), req)
		if err != nil {
			t.Fatalf("Call(%d bytes): %v", n, err)
		}
		if !bytes.Equal(got, req) {
			t.Fatalf("Call(%d bytes) returned %d different bytes", n, len(got))
		}
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := p.Call(ctxFor(t, time.Second), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Call after Close = %v, want ErrClosed", err)
	}
}

func TestCat(t *testing.T) {
	// cat answers every request with itself: the smallest exec program.
	p, err := Start(Options{Command: "cat"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got, err := p.Call(ctxFor(t, 5*time.Second), []byte("hello"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("cat: %q, %v", got, err)
	}
}

func TestLateReplyIsSkipped(t *testing.T) {
	for _, mode := range []string{"slow-first", "split-first"} {
		t.Run(mode, func(t *testing.T) {
			p := start(t, mode, Options{})
			_, err := p.Call(ctxFor(t, 100*time.Millisecond), []byte("first"))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("slow call = %v, want DeadlineExceeded", err)
			}
			got, err := p.Call(ctxFor(t, 5*time.Second), []byte("second"))
			if err != nil || string(got) != "second" {
				t.Fatalf("call after a late reply = %q, %v; want \"second\"", got, err)
			}
			got, err = p.Call(ctxFor(t, 5*time.Second), []byte("third"))
			if err != nil || string(got) != "third" {
				t.Fatalf("third call = %q, %v", got, err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	p := start(t, "slow-first", Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := p.Call(ctx, []byte("x"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call = %v, want context.Canceled", err)
	}
	// An already cancelled context sends nothing.
	if _, err := p.Call(ctx, []byte("y")); !errors.Is(err, context.Canceled) {
		t.Fatalf("call with a cancelled ctx = %v", err)
	}
	got, err := p.Call(ctxFor(t, 5*time.Second), []byte("z"))
	if err != nil || string(got) != "z" {
		t.Fatalf("after cancel: %q, %v", got, err)
	}
}

func TestProgramDies(t *testing.T) {
	p := start(t, "die", Options{})
	_, err := p.Call(ctxFor(t, 5*time.Second), []byte("x"))
	var ee *ExitError
	if !errors.As(err, &ee) || !errors.Is(err, ErrExited) {
		t.Fatalf("Call to a dying program = %v, want an ExitError", err)
	}
	msg := err.Error()
	for _, want := range []string{"exit status 3", "boom: cannot go on", "first line | boom"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if _, err2 := p.Call(ctxFor(t, time.Second), nil); err2 == nil || err2.Error() != msg {
		t.Errorf("second call = %v, want the same error", err2)
	}
	if err := p.Close(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Close = %v, want the exit status", err)
	}
}

func TestExitMidFrame(t *testing.T) {
	p := start(t, "garbage-after-exit", Options{})
	_, err := p.Call(ctxFor(t, 5*time.Second), []byte("x"))
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "exit status 0") {
		t.Fatalf("Call = %v", err)
	}
}

func TestCommandNotFound(t *testing.T) {
	p, err := Start(Options{Command: "/nonexistent/program --flag", Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Call(ctxFor(t, 5*time.Second), nil)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "exit status 127") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Call = %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	p := start(t, "huge", Options{MaxLen: 1 << 20})
	if _, err := p.Call(ctxFor(t, 5*time.Second), make([]byte, 1<<20+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized request = %v, want ErrTooLarge", err)
	}
	_, err := p.Call(ctxFor(t, 5*time.Second), []byte("x"))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "reply of 4294967295 bytes") {
		t.Fatalf("oversized reply = %v, want ErrTooLarge", err)
	}
	if _, err := p.Call(ctxFor(t, 5*time.Second), []byte("x")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("call after an oversized reply = %v, want the same error", err)
	}
}

func TestCloseKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The shell ignores end of input and leaves a child behind.
	cmd := fmt.Sprintf("sleep 60 & echo $! > %s; while true; do sleep 1; done", pidFile)
	p, err := Start(Options{Command: cmd, CloseWait: 200 * time.Millisecond, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(pidFile)
		if _, err := fmt.Sscan(string(b), &child); err == nil {
			break
		}
	}
	if child == 0 {
		t.Fatal("child never started")
	}
	start := time.Now()
	err = p.Close()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Close = %v, want a killed error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	// The orphaned child died with the group (it may linger as a zombie
	// for a moment until init reaps it).
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if !alive(child) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still alive after Close", child)
		}
	}
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func TestCloseUnblocksCall(t *testing.T) {
	p := start(t, "mute", Options{CloseWait: 100 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := p.Call(ctxFor(t, 10*time.Second), []byte("x"))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	p.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Call succeeded after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Call still blocked after Close")
	}
}

func TestOptionsInitialize(t *testing.T) {
	cases := map[string]Options{
		"subprocess: Command is empty":                           {Command: "  "},
		"subprocess: MaxLen -1 is outside 1..4294967295":         {Command: "cat", MaxLen: -1},
		"subprocess: CloseWait -1s is negative":                  {Command: "cat", CloseWait: -time.Second},
		"subprocess: MaxLen 4294967296 is outside 1..4294967295": {Command: "cat", MaxLen: 1 << 32},
	}
	for want, o := range cases {
		if err := o.Initialize(); err == nil || err.Error() != want {
			t.Errorf("Initialize(%+v) = %v, want %s", o, err, want)
		}
	}
	o := Options{Command: "cat"}
	if err := o.Initialize(); err != nil || o.MaxLen != DefaultMaxLen || o.CloseWait != DefaultCloseWait || o.Stderr != os.Stderr {
		t.Errorf("defaults: %+v, %v", o, err)
	}
}

func TestReadFrame(t *testing.T) {
	var stream bytes.Buffer
	for _, p := range []string{"", "a", strings.Repeat("b", 70000)} {
		if err := WriteFrame(&stream, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	r := bytes.NewReader(stream.Bytes())
	var buf []byte
	for _, want := range []string{"", "a", strings.Repeat("b", 70000)} {
		got, err := ReadFrame(r, buf, 1<<20)
		if err != nil || string(got) != want {
			t.Fatalf("ReadFrame = %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
		buf = got
	}
	if _, err := ReadFrame(r, buf, 1<<20); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
	// A length that promises more than arrives allocates little.
	lying := binary.BigEndian.AppendUint32(nil, 60<<20)
	got, err := ReadFrame(bytes.NewReader(append(lying, "short"...)), nil, 64<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) || cap(got) > 64<<10 {
		t.Fatalf("lying length: cap %d, %v", cap(got), err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0}), nil, 10); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("half a header: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(lying), nil, 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over max: %v", err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0})
	f.Add(AppendFrame(nil, []byte("hello")))
	f.Add(AppendFrame(AppendFrame(nil, []byte("a")), []byte("bc")))
	f.Add([]byte{0, 0, 0, 9, 'x'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3})
	f.Add([]byte{0, 1})
	const max = 1 << 20
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		var buf []byte
		consumed := 0
		for {
			payload, err := ReadFrame(r, buf, max)
			if cap(payload) > len(in)+64<<10 {
				t.Fatalf("allocated %d bytes for %d bytes of input", cap(payload), len(in))
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				if errors.Is(err, io.EOF) && consumed != len(in) {
					t.Fatalf("EOF with %d of %d bytes consumed", consumed, len(in))
				}
				return
			}
			if len(payload) > max {
				t.Fatalf("payload of %d bytes over max", len(payload))
			}
			frame := AppendFrame(nil, payload)
			if !bytes.Equal(frame, in[consumed:consumed+len(frame)]) {
				t.Fatalf("frame does not re-encode to its input")
			}
			consumed += len(frame)
			buf = payload
		}
	})
}

func BenchmarkCall(b *testing.B) {
	for _, size := range []int{0, 1024, 1 << 20} {
		b.Run(fmt.Sprintf("echo-%d", size), func(b *testing.B) {
			exe, _ := os.Executable()
			p, err := Start(Options{Command: "exec '" + exe + "'", Env: append(os.Environ(), "PEERNET_EXEC_HELPER=echo")})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			req := make([]byte, size)
			ctx := context.Background()
			b.SetBytes(int64(2 * size))
			for b.Loop() {
				if _, err := p.Call(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
