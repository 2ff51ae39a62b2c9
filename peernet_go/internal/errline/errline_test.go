package errline_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

func TestErrorfKeepsTheChain(t *testing.T) {
	base := &fs.PathError{Op: "open", Path: "/m.onnx", Err: fs.ErrNotExist}
	err := errline.Errorf("load model: %w (tried\n  a\n  b)", base)
	if got, want := err.Error(), "load model: open /m.onnx: file does not exist (tried a b)"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("errors.Is lost the wrapped error")
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "/m.onnx" {
		t.Fatal("errors.As lost the wrapped error")
	}
	two := errline.Errorf("%w and %w", fs.ErrExist, fs.ErrClosed)
	if !errors.Is(two, fs.ErrExist) || !errors.Is(two, fs.ErrClosed) {
		t.Fatal("two wrapped errors: one lost")
	}
	if errors.Unwrap(errline.Errorf("plain %s", "text")) != nil {
		t.Fatal("an error wrapping nothing unwraps to something")
	}
}

func TestFirstAndFlat(t *testing.T) {
	if got := errline.First("  yaml: line 3: bad\nmore\n"); got != "yaml: line 3: bad" {
		t.Errorf("First = %q", got)
	}
	if got := errline.Flat("a\n\tb  c\n"); got != "a b c" {
		t.Errorf("Flat = %q", got)
	}
}
