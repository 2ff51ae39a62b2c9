package subprocess

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The programs under ../examples/exec, run end to end.

func examplePath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "examples", "exec", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	pythonOnce sync.Once
	pythonPath string
)

// python returns the interpreter python3 runs, resolved once: a version
// manager's python3 shim can take a second to start on every call.
func python(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		if _, err := exec.LookPath("python3"); err != nil {
			return
		}
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if p := strings.TrimSpace(string(out)); err == nil && p != "" {
			pythonPath = "'" + p + "'"
		} else {
			pythonPath = "python3"
		}
	})
	if pythonPath == "" {
		t.Skip("python3 is not in PATH")
	}
	return pythonPath
}

func TestExampleSensors(t *testing.T) {
	cases := []struct {
		name, cmd string
		python    bool
		size      int
	}{
		{"sensor.sh", "sh '" + examplePath(t, "sensor.sh") + "'", false, 1024},
		{"sensor.sh 300000", "sh '" + examplePath(t, "sensor.sh") + "' 300000", false, 300000},
		{"sensor.py", "PYTHON '" + examplePath(t, "sensor.py") + "'", true, 1024},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cmd := c.cmd
			if c.python {
				cmd = strings.Replace(cmd, "PYTHON", python(t), 1)
			}
			p, err := Start(Options{Command: cmd})
			if err != nil {
				t.Fatal(err)
			}
			want := c.size
			var prev []byte
			for i := range 20 {
				got, err := p.Call(ctxFor(t, 10*time.Second), nil)
				if err != nil {
					t.Fatalf("sample %d: %v", i, err)
				}
				if len(got) != want {
					t.Fatalf("sample %d: %d bytes, want %d", i, len(got), want)
				}
				if bytes.Equal(got, prev) {
					t.Fatalf("sample %d repeats the previous one", i)
				}
				prev = append(prev[:0], got...)
			}
			// End of input ends the program cleanly.
			if err := p.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestSensorShReadsFourBytes writes two requests at once: a program that
// read more than one request per loop would answer only once.
func TestSensorShReadsFourBytes(t *testing.T) {
	cmd := exec.Command("sh", examplePath(t, "sensor.sh"), "7")
	cmd.Stdin = bytes.NewReader(make([]byte, 8))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(out)
	for i := range 2 {
		got, err := ReadFrame(r, nil, 100)
		if err != nil || len(got) != 7 {
			t.Fatalf("reply %d: %d bytes, %v (output %x)", i, len(got), err, out)
		}
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes after two replies", r.Len())
	}
	bad := exec.Command("sh", examplePath(t, "sensor.sh"), "12x")
	if out, err := bad.CombinedOutput(); err == nil || !bytes.Contains(out, []byte(`size "12x" is not a number`)) {
		t.Fatalf("bad size: %v, %s", err, out)
	}
}

func TestExampleModel(t *testing.T) {
	t.Parallel()
	py := python(t)
	p, err := Start(Options{Command: py + " '" + examplePath(t, "model.py") + "'"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, n := range []int{0, 10, 1 << 20} {
		got, err := p.Call(ctxFor(t, 10*time.Second), make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		var reply struct {
			Label string
			Bytes int
		}
		if err := json.Unmarshal(got, &reply); err != nil || reply.Label != "model.py" || reply.Bytes != n {
			t.Fatalf("reply %q: %+v, %v", got, reply, err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	echo, err := Start(Options{Command: py + " '" + examplePath(t, "model.py") + "' --echo"})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	got, err := echo.Call(ctxFor(t, 10*time.Second), []byte("ping"))
	if err != nil || string(got) != "ping" {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

// TestPeernetObject runs a PEERNet-style module::object through the adapter.
func TestPeernetObject(t *testing.T) {
	t.Parallel()
	py := python(t)
	dir := t.TempDir()
	module := `import random, string
class RandomString:
    def sample(self):
        print("sampling")  # must not reach the protocol channel
        return "".join(random.choice(string.ascii_letters) for _ in range(32))
cs = RandomString()
class Upper:
    def preprocess(self, x):
        return x.decode()
    def infer(self, x):
        return x.upper()
    def postprocess(self, y):
        return {"text": y}
up = Upper()
`
	if err := os.WriteFile(filepath.Join(dir, "RandomString.py"), []byte(module), 0o644); err != nil {
		t.Fatal(err)
	}
	adapter := examplePath(t, "peernet_object.py")
	s, err := Start(Options{Command: py + " '" + adapter + "' sensor RandomString::cs", Dir: dir, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Call(ctxFor(t, 10*time.Second), nil)
	if err != nil || len(got) != 32 {
		t.Fatalf("sensor: %q, %v", got, err)
	}
	m, err := Start(Options{Command: py + " '" + adapter + "' model RandomString::up", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err = m.Call(ctxFor(t, 10*time.Second), []byte("abc"))
	if err != nil || string(got) != `{"text": "ABC"}` {
		t.Fatalf("model: %q, %v", got, err)
	}
}
