// Package goplugin loads values from Go plugins named "path::Symbol", the Go
// form of PEERNet's "module::object": a shared object built with
// `go build -buildmode=plugin` and one of its exported symbols.
//
// The symbol may be a value that implements the wanted interface (a plugin
// variable, which the plugin package hands out as a pointer), or a
// constructor, func() T or func() (T, error). [Load] resolves either form:
//
//	s, err := goplugin.Load[sensor.Sensor]("./counter.so::New")
//
// A plugin can only be loaded by a program built with the same Go toolchain,
// the same versions of every package they share and the same flags (-race);
// Load checks what it can before loading and turns the runtime's complaints
// into errors that say what to rebuild. Go plugins need cgo and run on
// Linux, macOS and FreeBSD; elsewhere, or with CGO_ENABLED=0, Load returns an
// error wrapping [ErrUnsupported]. A program that cannot be a Go plugin can be
// run as an external process instead (package subprocess).
package goplugin

import (
	"errors"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrUnsupported means this program cannot load Go plugins (built
	// without cgo, or on an operating system without plugin support).
	ErrUnsupported = errors.New("Go plugins are not supported by this build")
	// ErrVersionMismatch means the plugin was built with another toolchain,
	// other package versions or other flags than the program loading it.
	ErrVersionMismatch = errors.New("plugin built with a different toolchain, package versions or flags")
	// ErrNotPlugin means the file is not a Go plugin.
	ErrNotPlugin = errors.New("not a Go plugin")
	// ErrPythonModule means the spec names a Python module (PEERNet's
	// "module::object"), which Go cannot load.
	ErrPythonModule = errors.New("Python module, not a Go plugin")
	// ErrSymbol means the symbol is missing or of the wrong type.
	ErrSymbol = errors.New("unusable plugin symbol")
)

// Spec is a parsed "path::Symbol".
type Spec struct {
	// Path is the plugin file as written.
	Path string
	// Symbol is the exported name looked up in the plugin.
	Symbol string
}

// String returns "Path::Symbol".
func (s Spec) String() string { return s.Path + "::" + s.Symbol }

// ParseSpec parses "path/to/plugin.so::Symbol". The path is everything
// before the last "::"; the symbol must be a Go identifier (Lookup also
// wants it exported, but a lower-case PEERNet object name first gets the
// hint about its Python module).
func ParseSpec(spec string) (Spec, error) {
	i := strings.LastIndex(spec, "::")
	if i < 0 {
		return Spec{}, fmt.Errorf("goplugin: %q: want PATH::Symbol, e.g. ./sensor.so::New", spec)
	}
	s := Spec{Path: spec[:i], Symbol: spec[i+2:]}
	switch {
	case s.Path == "":
		return Spec{}, fmt.Errorf("goplugin: %q: empty plugin path before \"::\"", spec)
	case s.Symbol == "":
		return Spec{}, fmt.Errorf("goplugin: %q: empty symbol after \"::\"", spec)
	case !token.IsIdentifier(s.Symbol):
		return Spec{}, fmt.Errorf("goplugin: %q: symbol %q is not a Go identifier", spec, s.Symbol)
	}
	return s, nil
}

// exported checks that the symbol is one a plugin can export.
func (s Spec) exported() error {
	if r, _ := utf8.DecodeRuneInString(s.Symbol); !unicode.IsUpper(r) {
		return fmt.Errorf("goplugin: %s: symbol %q is not exported: a plugin exports only names that start with an upper-case letter: %w",
			s, s.Symbol, ErrSymbol)
	}
	return nil
}

// Resolve finds the plugin file a spec names. A path that exists is used as
// it is. A path without an extension that does not exist (PEERNet's module
// spelling, "RandomString::cs") is tried with ".so"; when only a ".py" file of
// that name exists, the error wraps [ErrPythonModule].
func (s Spec) Resolve() (string, error) {
	fi, err := os.Stat(s.Path)
	if err == nil {
		if fi.IsDir() {
			return "", fmt.Errorf("goplugin: %s: %s is a directory, not a plugin file: %w", s, s.Path, ErrNotPlugin)
		}
		return s.Path, nil
	}
	if filepath.Ext(s.Path) == "" {
		so := s.Path + ".so"
		if _, err := os.Stat(so); err == nil {
			return so, nil
		}
		if _, err := os.Stat(s.Path + ".py"); err == nil {
			return "", fmt.Errorf("goplugin: %s: %s.py is a %w: Go cannot import Python; run it through the exec protocol instead",
				s, s.Path, ErrPythonModule)
		}
		return "", fmt.Errorf("goplugin: %s: neither %s nor %s exists: %w", s, s.Path, so, os.ErrNotExist)
	}
	return "", fmt.Errorf("goplugin: %s: %w", s, err)
}

// Lookup opens the plugin a spec names and returns its symbol as the plugin
// package gives it: a pointer for a variable, the function for a function.
func Lookup(spec string) (any, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	path, err := s.Resolve()
	if err != nil {
		return nil, err
	}
	if err := s.exported(); err != nil {
		return nil, err
	}
	if err := check(path); err != nil {
		return nil, fmt.Errorf("goplugin: %s: %w", s, err)
	}
	sym, err := lookup(path, s.Symbol)
	if err != nil {
		return nil, fmt.Errorf("goplugin: %s: %w", s, err)
	}
	return sym, nil
}

// Load looks a symbol up with [Lookup] and converts it to T with [As].
func Load[T any](spec string) (T, error) {
	sym, err := Lookup(spec)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := As[T](sym)
	if err != nil {
		return v, fmt.Errorf("goplugin: %s: %w", spec, err)
	}
	return v, nil
}

var errorType = reflect.TypeFor[error]()

// As converts a plugin symbol to T, usually an interface type. It accepts a
// value that is a T, a pointer (to a pointer) to one — a plugin variable —,
// and a constructor func() X or func() (X, error), or a variable holding
// one, where X is assignable to T. The constructor is called once. Nil
// values are errors, never results.
func As[T any](sym any) (T, error) {
	var zero T
	want := reflect.TypeFor[T]()
	v := reflect.ValueOf(sym)
	for range 3 {
		if !v.IsValid() {
			return zero, fmt.Errorf("symbol is nil: %w", ErrSymbol)
		}
		if v.Type().AssignableTo(want) {
			if isNil(v) {
				return zero, fmt.Errorf("symbol is a nil %s: %w", v.Type(), ErrSymbol)
			}
			return v.Interface().(T), nil
		}
		switch v.Kind() {
		case reflect.Func:
			return call[T](v, want)
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return zero, fmt.Errorf("symbol is a nil %s: %w", v.Type(), ErrSymbol)
			}
			v = v.Elem()
			continue
		}
		break
	}
	return zero, fmt.Errorf("symbol of type %T is not a %s, a pointer to one, or a func() %s or func() (%s, error): %w",
		sym, want, want, want, ErrSymbol)
}

func call[T any](fn reflect.Value, want reflect.Type) (T, error) {
	var zero T
	ft := fn.Type()
	if fn.IsNil() {
		return zero, fmt.Errorf("symbol is a nil %s: %w", ft, ErrSymbol)
	}
	okOut := ft.NumOut() == 1 || (ft.NumOut() == 2 && ft.Out(1) == errorType)
	if ft.NumIn() != 0 || !okOut || !ft.Out(0).AssignableTo(want) {
		return zero, fmt.Errorf("function symbol %s is not a func() %s or func() (%s, error): %w", ft, want, want, ErrSymbol)
	}
	out := fn.Call(nil)
	if len(out) == 2 && !out[1].IsNil() {
		return zero, fmt.Errorf("constructor: %w", out[1].Interface().(error))
	}
	if isNil(out[0]) {
		return zero, fmt.Errorf("constructor returned a nil %s: %w", ft.Out(0), ErrSymbol)
	}
	return out[0].Interface().(T), nil
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}
