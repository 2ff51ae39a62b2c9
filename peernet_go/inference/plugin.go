package inference

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/goplugin"
)

// OpenPlugin loads a model from a Go plugin, "path/to/plugin.so::Symbol"
// (see package goplugin). The symbol is a Model (a variable of a type that
// implements it, or a pointer to one), a constructor func() Model or func()
// (Model, error), or a bare func(context.Context, any) (any, error), used
// as a [Func]. PEERNet's "module::object" works when module.so exists.
func OpenPlugin(spec string) (Model, error) {
	sym, err := goplugin.Lookup(spec)
	if errors.Is(err, goplugin.ErrPythonModule) {
		module, object, _ := strings.Cut(spec, "::")
		return nil, fmt.Errorf("inference: %w, e.g. --model-name 'exec:python3 peernet_object.py model %s::%s' with peernet_object.py from peernet_go/examples/exec",
			err, filepath.Base(module), object)
	}
	if err != nil {
		return nil, fmt.Errorf("inference: %w", err)
	}
	var m Model
	switch f := sym.(type) {
	case func(context.Context, any) (any, error):
		m = Func(f)
	case *func(context.Context, any) (any, error):
		m = Func(*f)
	default:
		m, err = goplugin.As[Model](sym)
	}
	if err != nil {
		return nil, fmt.Errorf("inference: plugin model %s: %w", spec, err)
	}
	return m, nil
}
