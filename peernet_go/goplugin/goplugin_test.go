package goplugin

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseSpec(t *testing.T) {
	good := map[string]Spec{
		"./x.so::New":          {"./x.so", "New"},
		"/a/b.so::Sensor":      {"/a/b.so", "Sensor"},
		"RandomString::Cs":     {"RandomString", "Cs"},
		"RandomString::cs":     {"RandomString", "cs"},
		"dir::with/x.so::Ünï":  {"dir::with/x.so", "Ünï"},
		"c:\\plug.so::Model_2": {"c:\\plug.so", "Model_2"},
	}
	for in, want := range good {
		got, err := ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("Spec.String() = %q, want %q", got.String(), in)
		}
	}
	bad := map[string]string{
		"plugin.so":          `goplugin: "plugin.so": want PATH::Symbol, e.g. ./sensor.so::New`,
		"::New":              `goplugin: "::New": empty plugin path before "::"`,
		"x.so::":             `goplugin: "x.so::": empty symbol after "::"`,
		"x.so::1abc":         `goplugin: "x.so::1abc": symbol "1abc" is not a Go identifier`,
		"x.so::a.b":          `goplugin: "x.so::a.b": symbol "a.b" is not a Go identifier`,
		"RandomString::_Cs ": `goplugin: "RandomString::_Cs ": symbol "_Cs " is not a Go identifier`,
	}
	for in, want := range bad {
		_, err := ParseSpec(in)
		if err == nil || err.Error() != want {
			t.Errorf("ParseSpec(%q) error = %v\nwant %s", in, err, want)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	so := write("Mod.so")
	write("Py.py")
	exact := write("exact.plugin")

	cases := []struct {
		path, want string
		err        error
	}{
		{exact, exact, nil},
		{filepath.Join(dir, "Mod"), so, nil},
		{so, so, nil},
		{filepath.Join(dir, "Py"), "", ErrPythonModule},
		{filepath.Join(dir, "None"), "", os.ErrNotExist},
		{filepath.Join(dir, "none.so"), "", os.ErrNotExist},
		{dir, "", ErrNotPlugin},
	}
	for _, c := range cases {
		got, err := Spec{Path: c.path, Symbol: "X"}.Resolve()
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Resolve(%s) = %q, %v; want %q, %v", c.path, got, err, c.want, c.err)
		}
	}
	// PEERNet objects are often lower-case: the Python hint comes first.
	_, err := Lookup(filepath.Join(dir, "Py") + "::cs")
	if !errors.Is(err, ErrPythonModule) || !strings.Contains(err.Error(), "Py.py is a Python module") {
		t.Errorf("Lookup of a Python module: %v", err)
	}
	_, err = Lookup(filepath.Join(dir, "Mod") + "::cs")
	want := `goplugin: ` + filepath.Join(dir, "Mod") + `::cs: symbol "cs" is not exported: a plugin exports only names that start with an upper-case letter: unusable plugin symbol`
	if err == nil || err.Error() != want {
		t.Errorf("Lookup of a lower-case symbol:\n got %v\nwant %s", err, want)
	}
}

type word string

func (w word) String() string { return string(w) }

type ptrWord struct{ s string }

func (p *ptrWord) String() string { return p.s }

func TestAs(t *testing.T) {
	var iface fmt.Stringer = word("iface")
	var nilIface fmt.Stringer
	var nilPtr *ptrWord
	pw := &ptrWord{"ptr"}
	ctor := func() (fmt.Stringer, error) { return word("ctor"), nil }
	good := []struct {
		sym  any
		want string
	}{
		{word("plain"), "plain"},
		{&iface, "iface"},
		{&ptrWord{"struct"}, "struct"},
		{&pw, "ptr"},
		{func() fmt.Stringer { return word("f") }, "f"},
		{func() *ptrWord { return &ptrWord{"concrete"} }, "concrete"},
		{ctor, "ctor"},
		{&ctor, "ctor"},
	}
	for _, c := range good {
		got, err := As[fmt.Stringer](c.sym)
		if err != nil || got.String() != c.want {
			t.Errorf("As(%T) = %v, %v; want %s", c.sym, got, err, c.want)
		}
	}
	bad := []struct {
		sym  any
		want string
	}{
		{nil, "symbol is nil"},
		{&nilIface, "symbol is a nil fmt.Stringer"},
		{nilPtr, "symbol is a nil *goplugin.ptrWord"},
		{&nilPtr, "symbol is a nil *goplugin.ptrWord"},
		{new(int), "symbol of type *int is not a fmt.Stringer"},
		{func(string) fmt.Stringer { return nil }, "function symbol func(string) fmt.Stringer is not a func() fmt.Stringer"},
		{func() (fmt.Stringer, int) { return nil, 0 }, "is not a func() fmt.Stringer"},
		{func() int { return 0 }, "is not a func() fmt.Stringer"},
		{func() fmt.Stringer { return nil }, "constructor returned a nil fmt.Stringer"},
		{func() (fmt.Stringer, error) { return nil, errors.New("boom") }, "constructor: boom"},
		{(func() fmt.Stringer)(nil), "symbol is a nil func() fmt.Stringer"},
	}
	for _, c := range bad {
		_, err := As[fmt.Stringer](c.sym)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("As(%T) error = %v; want it to contain %q", c.sym, err, c.want)
		}
	}
}

func TestCheckRejectsNonPlugins(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.so")
	if err := os.WriteFile(text, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(text + "::New"); !errors.Is(err, ErrNotPlugin) {
		t.Errorf("Lookup(text file) = %v; want ErrNotPlugin", err)
	}
	// A shared library that is not Go would abort the process if it were
	// handed to the dynamic loader; it must be refused before.
	for _, lib := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"} {
		if _, err := os.Stat(lib); err == nil {
			if _, err := Lookup(lib + "::New"); !errors.Is(err, ErrNotPlugin) {
				t.Errorf("Lookup(libc) = %v; want ErrNotPlugin", err)
			}
			break
		}
	}
	// A Go executable: this test binary.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lookup(exe + "::New")
	if !errors.Is(err, ErrNotPlugin) || !strings.Contains(err.Error(), "-buildmode=") {
		t.Errorf("Lookup(test binary) = %v; want ErrNotPlugin naming the build mode", err)
	}
}

func TestCheckInfoMismatch(t *testing.T) {
	base := func() *buildinfo.BuildInfo {
		bi := &buildinfo.BuildInfo{GoVersion: runtime.Version()}
		bi.Settings = append(bi.Settings, debugSetting("-buildmode", "plugin"))
		if raceEnabled {
			bi.Settings = append(bi.Settings, debugSetting("-race", "true"))
		}
		return bi
	}
	if err := checkInfo("p.so", base()); err != nil {
		t.Fatalf("matching build info: %v", err)
	}
	old := base()
	old.GoVersion = "go1.1"
	err := checkInfo("p.so", old)
	if !errors.Is(err, ErrVersionMismatch) || !strings.Contains(err.Error(), "built with go1.1, this program with "+runtime.Version()) {
		t.Errorf("old toolchain: %v", err)
	}
	flipped := base()
	if raceEnabled {
		flipped.Settings = flipped.Settings[:1]
	} else {
		flipped.Settings = append(flipped.Settings, debugSetting("-race", "true"))
	}
	err = checkInfo("p.so", flipped)
	if !errors.Is(err, ErrVersionMismatch) || !strings.Contains(err.Error(), "-race=") {
		t.Errorf("race mismatch: %v", err)
	}
	exe := base()
	exe.Settings = exe.Settings[1:]
	if err := checkInfo("p", exe); !errors.Is(err, ErrNotPlugin) || !strings.Contains(err.Error(), "-buildmode=exe") {
		t.Errorf("executable: %v", err)
	}
}

func TestTranslate(t *testing.T) {
	err := translate("p.so", errors.New(`plugin.Open("p"): plugin was built with a different version of package github.com/x/y`))
	if !errors.Is(err, ErrVersionMismatch) {
		t.Fatalf("translate: %v does not wrap ErrVersionMismatch", err)
	}
	want := "p.so was built with a different version of package github.com/x/y: " + ErrVersionMismatch.Error() + ": " + rebuildHint()
	if err.Error() != want {
		t.Errorf("translate:\n got %s\nwant %s", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("translate: error spans several lines: %q", err)
	}
	err = translate("p.so", errors.New(`plugin.Open("p"): plugin already loaded`))
	if !strings.Contains(err.Error(), "a process can load each plugin package once") {
		t.Errorf("translate(already loaded) = %v", err)
	}
}

// plugins holds the test plugin, built once per test binary: a process
// loads a plugin package only once.
var plugins BuildCache

func TestMain(m *testing.M) {
	code := m.Run()
	plugins.Close()
	os.Exit(code)
}

// stringerPlugin builds testdata/stringer once per test binary.
func stringerPlugin(t *testing.T) string {
	t.Helper()
	if !Supported {
		t.Skip("this build cannot load Go plugins (cgo is off)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	so, err := plugins.Build(ctx, "./testdata/stringer")
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("the go command is not in PATH: cannot build the test plugin")
	}
	if err != nil {
		t.Fatal(err)
	}
	return so
}

func TestLoadEndToEnd(t *testing.T) {
	so := stringerPlugin(t)
	good := map[string]string{
		"Value": "value", "Struct": "struct", "Ptr": "ptr",
		"New": "new", "NewConcrete": "concrete", "NewVar": "newvar",
	}
	for sym, want := range good {
		s, err := Load[fmt.Stringer](so + "::" + sym)
		if err != nil {
			t.Errorf("Load(%s): %v", sym, err)
			continue
		}
		if s.String() != want {
			t.Errorf("Load(%s).String() = %q, want %q", sym, s.String(), want)
		}
	}
	bad := map[string]string{
		"Nil":     "symbol is a nil fmt.Stringer",
		"Number":  "symbol of type *int is not a fmt.Stringer",
		"NewErr":  "constructor: no stringer today",
		"WithArg": "function symbol func(string) fmt.Stringer",
		"Missing": "has no exported symbol Missing",
	}
	for sym, want := range bad {
		_, err := Load[fmt.Stringer](so + "::" + sym)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s) error = %v; want it to contain %q", sym, err, want)
		}
		if !errors.Is(err, ErrSymbol) && sym != "NewErr" {
			t.Errorf("Load(%s) error %v does not wrap ErrSymbol", sym, err)
		}
	}
	// PEERNet's spelling without the extension finds the .so.
	s, err := Load[fmt.Stringer](strings.TrimSuffix(so, ".so") + "::New")
	if err != nil || s.String() != "new" {
		t.Errorf("Load without .so = %v, %v", s, err)
	}
}

func debugSetting(k, v string) debug.BuildSetting { return debug.BuildSetting{Key: k, Value: v} }

func TestUnsupportedBuild(t *testing.T) {
	if Supported {
		t.Skip("this build supports plugins; the stub is tested with CGO_ENABLED=0")
	}
	_, err := lookup("x.so", "New")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "CGO_ENABLED=1") {
		t.Errorf("lookup without cgo = %v", err)
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"./x.so::New", "RandomString::cs", "a::b::C", "::", "x.so::", "x::Ünï", "plugin.so"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSpec(in)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(in, "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if s.String() != in {
			t.Fatalf("round trip: %q -> %+v -> %q", in, s, s.String())
		}
		if s.Path == "" || strings.Contains(s.Symbol, ":") {
			t.Fatalf("ParseSpec(%q) = %+v", in, s)
		}
	})
}
