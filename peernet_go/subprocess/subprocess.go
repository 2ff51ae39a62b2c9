// Package subprocess runs an external program that answers requests over its
// standard input and output: the exec protocol behind peernet's
// "exec:COMMAND" sensors and models. It lets a sensor or a model be written
// in any language.
//
// # The exec protocol
//
// peernet starts COMMAND with /bin/sh -c in a process group of its own, in
// the current directory, with peernet's environment. Then, for every sample
// or inference:
//
//  1. peernet writes a request to the program's standard input: a 4-byte
//     big-endian length n followed by n bytes.
//  2. The program answers on its standard output with a 4-byte big-endian
//     length m followed by m bytes, and waits for the next request.
//
// A sensor request has length 0; the reply is the sample. A model request
// carries the sample; the reply is the result. Requests and replies strictly
// alternate, one reply per request, in order. Lengths are at most 64 MiB
// unless configured otherwise ([Options.MaxLen]); a longer reply is an error.
// The program's standard error is passed through to peernet's standard
// error, and its last lines are quoted in error messages. When peernet is
// done it closes the program's standard input: the program should exit when
// a read of a request returns end of file. Whatever is still running 2
// seconds later ([Options.CloseWait]) is killed with its process group.
//
// A program must not write anything else to standard output (log to
// standard error instead) and must flush its output after each reply.
// A sensor in Python:
//
//	import os, struct, sys
//	while True:
//	    head = sys.stdin.buffer.read(4)
//	    if len(head) < 4:
//	        break                                  # peernet is done
//	    sys.stdin.buffer.read(struct.unpack(">I", head)[0])
//	    sample = os.urandom(1024)
//	    sys.stdout.buffer.write(struct.pack(">I", len(sample)) + sample)
//	    sys.stdout.buffer.flush()
//
// # Timing out
//
// Each [Process.Call] ends when its context does. The reply the program
// still owes is then skipped by the next call, so one slow answer costs one
// sample, not the run; only a request cut off half-written leaves the
// program unusable.
//
// # Use from Go
//
//	p, err := subprocess.Start(subprocess.Options{Command: "python3 sensor.py"})
//	...
//	defer p.Close()
//	sample, err := p.Call(ctx, nil) // valid until the next Call
package subprocess

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	// DefaultMaxLen bounds request and reply lengths: 64 MiB.
	DefaultMaxLen = 64 << 20
	// DefaultCloseWait is how long Close waits for the program to exit
	// after closing its input before killing it.
	DefaultCloseWait = 2 * time.Second
	// HeaderLen is the length of a frame's length prefix.
	HeaderLen = 4
	// stderrTail is how much of the program's standard error is kept for
	// error messages.
	stderrTail = 2048
	// readBuffer is the size of the buffer over the program's output.
	readBuffer = 64 << 10
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrTooLarge means a frame's length exceeds the configured maximum.
	ErrTooLarge = errors.New("frame too large")
	// ErrClosed means the process was closed.
	ErrClosed = errors.New("subprocess closed")
	// ErrExited means the program exited, or closed its output, while a
	// reply was expected.
	ErrExited = errors.New("program exited")
	// ErrOutOfStep means a request was cut off half-written, so the
	// program's input no longer starts at a frame boundary.
	ErrOutOfStep = errors.New("request cut off mid-frame; program input out of step")
)

// Options configure Start.
type Options struct {
	// Command is run with /bin/sh -c. Required.
	Command string
	// Dir is the working directory. The default is the current directory.
	Dir string
	// Env is the environment. The default (nil) is this process's.
	Env []string
	// Stderr receives the program's standard error. The default is
	// os.Stderr; set io.Discard to silence it. The last 2 KiB are kept
	// for error messages in any case.
	Stderr io.Writer
	// MaxLen bounds the length of requests and replies. It defaults to
	// DefaultMaxLen.
	MaxLen int
	// CloseWait is how long Close waits for the program to exit after
	// closing its input, before it kills the program's process group. It
	// defaults to DefaultCloseWait.
	CloseWait time.Duration
}

// Initialize fills in defaults and validates the options.
func (o *Options) Initialize() error {
	if strings.TrimSpace(o.Command) == "" {
		return errors.New("subprocess: Command is empty")
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	switch {
	case o.MaxLen == 0:
		o.MaxLen = DefaultMaxLen
	case o.MaxLen < 0 || int64(o.MaxLen) > 1<<32-1:
		return fmt.Errorf("subprocess: MaxLen %d is outside 1..4294967295", o.MaxLen)
	}
	switch {
	case o.CloseWait == 0:
		o.CloseWait = DefaultCloseWait
	case o.CloseWait < 0:
		return fmt.Errorf("subprocess: CloseWait %v is negative", o.CloseWait)
	}
	return nil
}

// Process is a running program spoken to with the exec protocol. A Process
// is meant for one caller at a time: a reply is valid only until the next
// Call. Close may be called from another goroutine.
type Process struct {
	opts    Options
	cmd     *exec.Cmd
	stdin   *os.File // write end of the program's standard input
	stdout  *os.File // read end of the program's standard output
	br      *bufio.Reader
	tail    *tailBuffer
	exited  chan struct{} // closed once the program has been waited for
	waitErr error         // the program's exit status, after exited

	mu     sync.Mutex // serialises Call
	wbuf   []byte     // request frame of small requests
	buf    []byte     // reply; valid until the next Call
	owed   int        // replies owed to calls that gave up
	hdr    [HeaderLen]byte
	hdrN   int // header bytes of the frame in progress read so far
	bodyN  int // length of the frame in progress, once hdrN == HeaderLen
	bodyAt int // body bytes of the frame in progress read so far
	broken error

	closeOnce sync.Once
	closeErr  error
}

// Start starts the program. It does not wait for it to be ready: the first
// Call does.
func Start(o Options) (*Process, error) {
	if err := o.Initialize(); err != nil {
		return nil, err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("subprocess %q: %w", o.Command, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("subprocess %q: %w", o.Command, err)
	}
	p := &Process{
		opts:   o,
		stdin:  inW,
		stdout: outR,
		br:     bufio.NewReaderSize(outR, readBuffer),
		tail:   &tailBuffer{},
		exited: make(chan struct{}),
	}
	cmd := exec.Command("/bin/sh", "-c", o.Command)
	cmd.Dir = o.Dir
	cmd.Env = o.Env
	cmd.Stdin = inR
	cmd.Stdout = outW
	cmd.Stderr = io.MultiWriter(p.tail, o.Stderr)
	cmd.WaitDelay = o.CloseWait
	setProcessGroup(cmd)
	err = cmd.Start()
	// The child has its own copies of these ends now.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("subprocess %q: start: %w", o.Command, err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Call sends req (nil for a sensor request) and returns the program's reply.
// The reply stays valid until the next Call. Call returns when ctx ends,
// with an error wrapping ctx.Err(); the reply the program still owes is
// skipped by the next Call.
func (p *Process) Call(ctx context.Context, req []byte) ([]byte, error) {
	if len(req) > p.opts.MaxLen {
		return nil, fmt.Errorf("subprocess %q: request of %d bytes: %w (max %d)", p.opts.Command, len(req), ErrTooLarge, p.opts.MaxLen)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil {
		return nil, p.broken
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subprocess %q: %w", p.opts.Command, err)
	}
	defer p.watch(ctx)()

	for p.owed > 0 {
		if err := p.readFrame(true); err != nil {
			return nil, p.fail(ctx, "skipping a late reply", err)
		}
	}
	if err := p.write(req); err != nil {
		return nil, p.fail(ctx, "writing the request", err)
	}
	p.owed++
	if err := p.readFrame(false); err != nil {
		return nil, p.fail(ctx, "reading the reply", err)
	}
	return p.buf, nil
}

// watch arms the pipes' deadlines from ctx; the returned function disarms
// them.
func (p *Process) watch(ctx context.Context) (stop func()) {
	dl, _ := ctx.Deadline() // zero: no deadline
	p.stdout.SetReadDeadline(dl)
	p.stdin.SetWriteDeadline(dl)
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		past := time.Unix(1, 0)
		p.stdout.SetReadDeadline(past)
		p.stdin.SetWriteDeadline(past)
		close(fired)
	})
	return func() {
		if !cancel() {
			<-fired // let it finish before the next call sets deadlines
		}
	}
}

// write sends one request frame.
func (p *Process) write(req []byte) error {
	var n int
	var err error
	if len(req) <= 4096 {
		p.wbuf = AppendFrame(p.wbuf[:0], req)
		n, err = p.stdin.Write(p.wbuf)
	} else {
		var hdr [HeaderLen]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(req)))
		n, err = p.stdin.Write(hdr[:])
		if err == nil {
			var m int
			m, err = p.stdin.Write(req)
			n += m
		}
	}
	if err != nil && n > 0 {
		p.broken = fmt.Errorf("subprocess %q: %w", p.opts.Command, ErrOutOfStep)
	}
	return err
}

// readFrame reads the next reply, into p.buf or, when skip is set, nowhere.
// It can be interrupted by a deadline at any point and resumed by the next
// call; a completed frame decrements p.owed.
func (p *Process) readFrame(skip bool) error {
	for p.hdrN < HeaderLen {
		n, err := p.br.Read(p.hdr[p.hdrN:])
		p.hdrN += n
		if p.hdrN == HeaderLen {
			p.bodyN = int(binary.BigEndian.Uint32(p.hdr[:]))
			p.bodyAt = 0
			if p.bodyN > p.opts.MaxLen {
				p.broken = fmt.Errorf("subprocess %q: reply of %d bytes: %w (max %d)", p.opts.Command, p.bodyN, ErrTooLarge, p.opts.MaxLen)
				return p.broken
			}
			if !skip {
				p.buf = p.buf[:0]
			}
			break
		}
		if err != nil {
			return err
		}
	}
	if skip {
		// A reply begun by an earlier call is dropped whole, even the
		// part already read into p.buf.
		n, err := p.br.Discard(p.bodyN - p.bodyAt)
		p.bodyAt += n
		if err != nil {
			return err
		}
	} else {
		if p.bodyAt != len(p.buf) {
			// p.buf no longer holds this frame's start (a skip began it).
			return fmt.Errorf("subprocess: internal error: reply buffer out of step")
		}
		var err error
		p.buf, err = readBody(p.br, p.buf, p.bodyN)
		p.bodyAt = len(p.buf)
		if err != nil {
			return err
		}
	}
	p.hdrN, p.bodyN, p.bodyAt = 0, 0, 0
	p.owed--
	return nil
}

// readBody appends to buf until it holds n bytes, growing it as data
// arrives: a length prefix alone never allocates more than 64 KiB beyond
// the bytes actually received.
func readBody(r io.Reader, buf []byte, n int) ([]byte, error) {
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grow := min(n-len(buf), max(cap(buf), readBuffer))
			nb := make([]byte, len(buf), len(buf)+grow)
			copy(nb, buf)
			buf = nb
		}
		m, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if err != nil && len(buf) < n {
			return buf, err
		}
	}
	return buf, nil
}

// fail turns a read or write error into the error Call returns.
func (p *Process) fail(ctx context.Context, what string, err error) error {
	if p.broken != nil {
		return p.broken
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		} else {
			err = context.DeadlineExceeded
		}
		return fmt.Errorf("subprocess %q: %s: %w", p.opts.Command, what, err)
	}
	if errors.Is(err, os.ErrClosed) {
		p.broken = fmt.Errorf("subprocess %q: %w", p.opts.Command, ErrClosed)
		return p.broken
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errPipe()) {
		p.broken = p.exitError(what)
		return p.broken
	}
	p.broken = fmt.Errorf("subprocess %q: %s: %w", p.opts.Command, what, err)
	return p.broken
}

// exitError describes a program that went away while a reply was owed.
func (p *Process) exitError(what string) error {
	status := "still running, output closed"
	select {
	case <-p.exited:
		status = exitStatus(p.waitErr)
	case <-time.After(p.opts.CloseWait):
	}
	msg := fmt.Sprintf("subprocess %q: %s: %v (%s)", p.opts.Command, what, ErrExited, status)
	if t := p.tail.String(); t != "" {
		msg += "; stderr: " + t
	}
	return &ExitError{msg: msg}
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// ExitError reports a program that exited, or closed its output, while a
// reply was expected. It wraps ErrExited and quotes the exit status and the
// tail of the program's standard error.
type ExitError struct{ msg string }

// Error returns the message.
func (e *ExitError) Error() string { return e.msg }

// Unwrap returns ErrExited.
func (e *ExitError) Unwrap() error { return ErrExited }

// Stderr returns the tail of what the program wrote to standard error.
func (p *Process) Stderr() string { return p.tail.String() }

// Close closes the program's standard input, waits up to Options.CloseWait
// for it to exit, then kills its process group. It returns an error when the
// program exited with a failure status or had to be killed. Close may be
// called more than once, also while a Call is blocked (which then fails);
// later calls return the first result.
func (p *Process) Close() error {
	p.closeOnce.Do(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
			if p.waitErr != nil {
				p.closeErr = fmt.Errorf("subprocess %q: %s", p.opts.Command, exitStatus(p.waitErr))
			}
		case <-time.After(p.opts.CloseWait):
			p.closeErr = fmt.Errorf("subprocess %q: did not exit within %v of closing its input; killed", p.opts.Command, p.opts.CloseWait)
		}
		// Kill what is left of the group, the program's own children included.
		killGroup(p.cmd)
		<-p.exited
		p.stdout.Close()
	})
	return p.closeErr
}

// AppendFrame appends a frame carrying p (length prefix and bytes) to dst.
func AppendFrame(dst, p []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
	return append(dst, p...)
}

// WriteFrame writes a frame carrying p to w. Programs written in Go use it
// to answer; it writes once when p is small.
func WriteFrame(w io.Writer, p []byte) error {
	if len(p) > 1<<32-1 {
		return fmt.Errorf("subprocess: frame of %d bytes: %w", len(p), ErrTooLarge)
	}
	if len(p) <= 4096 {
		_, err := w.Write(AppendFrame(make([]byte, 0, HeaderLen+len(p)), p))
		return err
	}
	var hdr [HeaderLen]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

// ReadFrame reads one frame from r into buf (reused when large enough) and
// returns its payload. A length above max is rejected with ErrTooLarge before
// anything is allocated, and the buffer grows only as bytes arrive, so a
// corrupt length never allocates much more than the input holds. A stream
// that ends between frames returns io.EOF; one that ends inside a frame
// returns io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if int64(n) > int64(max) {
		return nil, fmt.Errorf("subprocess: frame of %d bytes: %w (max %d)", n, ErrTooLarge, max)
	}
	b, err := readBody(r, buf[:0], int(n))
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return b, err
	}
	return b, nil
}

// tailBuffer keeps the last bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= stderrTail {
		p = p[len(p)-stderrTail:]
		t.buf = t.buf[:0]
	}
	if over := len(t.buf) + len(p) - stderrTail; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// String returns the kept tail on one line, at most the last few lines.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	s := string(t.buf)
	t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " | ")
}
