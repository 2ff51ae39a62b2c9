package inference

import "strings"

// ExecPrefix starts an exec model's spec: "exec:COMMAND".
const ExecPrefix = "exec:"

// Builtins lists the model specs OpenBuiltin understands, for help texts.
func Builtins() []string {
	return []string{"dummy", "dummy:pre=D,infer=D,post=D", "echo", ExecPrefix + "COMMAND", "path/to/plugin.so::Symbol"}
}

// OpenBuiltin opens the model a spec names, when it is one of this
// package's: "dummy" or "dummy:pre=1ms,infer=10ms,post=1ms" ([ParseDummy]),
// "echo" ([Echo]), "exec:COMMAND" ([NewExec] with default options) and
// "path/to/plugin.so::Symbol" ([OpenPlugin]). ok is false, with a nil error,
// for any other spec, so callers can try their own backends: in particular
// for every "name:..." spec other than dummy: and exec: (onnx:PATH, even
// one whose path holds "::").
// Close a model that implements io.Closer (Engine.Close does).
func OpenBuiltin(spec string) (m Model, ok bool, err error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "dummy" || strings.HasPrefix(spec, "dummy:"):
		o, err := ParseDummy(spec)
		if err != nil {
			return nil, true, err
		}
		d, err := NewDummy(o)
		if err != nil {
			return nil, true, err
		}
		return d, true, nil
	case spec == "echo":
		return Echo{}, true, nil
	case strings.HasPrefix(spec, ExecPrefix):
		e, err := NewExec(strings.TrimPrefix(spec, ExecPrefix), ExecOptions{})
		if err != nil {
			return nil, true, err
		}
		return e, true, nil
	case strings.Contains(spec, "::") && !hasScheme(spec):
		m, err := OpenPlugin(spec)
		return m, true, err
	}
	return nil, false, nil
}

// hasScheme reports whether spec starts like another backend's spec,
// "name:..." (onnx:model.onnx), rather than a plugin path.
func hasScheme(spec string) bool {
	name, _, ok := strings.Cut(spec, ":")
	if !ok || name == "" || strings.HasPrefix(spec[len(name):], "::") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
