package inference

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/subprocess"
)

// DefaultExecTimeout bounds one inference of an exec model.
const DefaultExecTimeout = 30 * time.Second

// ExecOptions configure an exec model.
type ExecOptions struct {
	// Timeout bounds each inference, in addition to the context's
	// deadline. It defaults to DefaultExecTimeout.
	Timeout time.Duration
	// Encoding is the encoding of the program's replies. It defaults to
	// media.Bytes.
	Encoding string
	// Stderr receives the program's standard error. The default is
	// os.Stderr.
	Stderr io.Writer
	// MaxLen bounds request and reply lengths. It defaults to
	// subprocess.DefaultMaxLen.
	MaxLen int
}

// Exec is a model run by an external program that speaks the exec protocol
// (see package subprocess): each inference sends the sample's bytes and
// takes the program's reply as the result.
type Exec struct {
	p       *subprocess.Process
	timeout time.Duration
	enc     string
}

var _ Model = (*Exec)(nil)

// NewExec starts command (run by /bin/sh -c) as an exec model.
func NewExec(command string, o ExecOptions) (*Exec, error) {
	if strings.TrimSpace(command) == "" {
		return nil, fmt.Errorf("inference: exec model: empty command")
	}
	switch {
	case o.Timeout < 0:
		return nil, fmt.Errorf("inference: exec model: Timeout %v is negative", o.Timeout)
	case o.Timeout == 0:
		o.Timeout = DefaultExecTimeout
	}
	if o.Encoding == "" {
		o.Encoding = media.Bytes
	}
	if len(o.Encoding) > media.MaxLen {
		return nil, fmt.Errorf("inference: exec model: Encoding is %d bytes long, more than %d", len(o.Encoding), media.MaxLen)
	}
	p, err := subprocess.Start(subprocess.Options{Command: command, Stderr: o.Stderr, MaxLen: o.MaxLen})
	if err != nil {
		return nil, fmt.Errorf("inference: exec model: %w", err)
	}
	return &Exec{p: p, timeout: o.Timeout, enc: o.Encoding}, nil
}

// Infer sends the input's bytes to the program and returns its reply as an
// Output, valid until the next Infer. in is an Input, or []byte.
func (e *Exec) Infer(ctx context.Context, in any) (any, error) {
	var data []byte
	switch v := in.(type) {
	case Input:
		data = v.Data
	case []byte:
		data = v
	default:
		return nil, fmt.Errorf("inference: exec model: input of type %T, want inference.Input or []byte", in)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	reply, err := e.p.Call(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("inference: exec model: %w", err)
	}
	return Output{Data: reply, Encoding: e.enc}, nil
}

// Close stops the program (see subprocess.Process.Close).
func (e *Exec) Close() error {
	if err := e.p.Close(); err != nil {
		return fmt.Errorf("inference: exec model: %w", err)
	}
	return nil
}
