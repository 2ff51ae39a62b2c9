package network

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keyLineCases drive TestParseKeyLines and seed FuzzParseKeyLines.
var keyLineCases = []struct {
	in   string
	want []KeyLine
	err  string
}{
	{"", nil, ""},
	{"abc\n", []KeyLine{{1, "abc"}}, ""},
	{"# comment\n\n  key one \r\n\t#x\nkey2", []KeyLine{{3, "key one"}, {5, "key2"}}, ""},
	{"a\x00b\n", nil, "bad key file: line 1 holds control character 0x00"},
	{"ok\n\x1b[2J\n", nil, "bad key file: line 2 holds control character 0x1b"},
	{"ok\n\x7f\n", nil, "bad key file: line 2 holds control character 0x7f"},
}

func TestParseKeyLines(t *testing.T) {
	for _, tc := range keyLineCases {
		got, err := ParseKeyLines([]byte(tc.in))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err || !errors.Is(err, ErrKeyFile) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: line %d = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
	if _, err := ParseKeyLines(make([]byte, MaxKeyFile+1)); err == nil || !strings.Contains(err.Error(), "more than 65536") {
		t.Errorf("oversized file: %v", err)
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	if err := os.WriteFile(p, []byte("# c\nsecret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if k, err := ReadKeyFile(p, false); err != nil || len(k) != 1 || k[0].Text != "secret" {
		t.Errorf("public read: %v, %v", k, err)
	}
	_, err := ReadKeyFile(p, true)
	want := "bad key file: " + p + " holds a secret but other users may read it (mode 0644); chmod 600 " + p
	if err == nil || err.Error() != want {
		t.Errorf("secret with mode 0644:\n got %v\nwant %s", err, want)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := ReadKeyFile(p, true); err != nil || len(k) != 1 {
		t.Errorf("secret with mode 0600: %v, %v", k, err)
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing"), false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParseKeyLines: whatever parses re-encodes, one key per line, and
// parses back to the same keys; the text kept never exceeds the input.
func FuzzParseKeyLines(f *testing.F) {
	for _, tc := range keyLineCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := ParseKeyLines(b)
		if err != nil {
			return
		}
		var out strings.Builder
		total := 0
		for _, k := range keys {
			total += len(k.Text)
			if k.Text == "" || k.Text[0] == '#' || strings.TrimSpace(k.Text) != k.Text || strings.Contains(k.Text, "\n") {
				t.Fatalf("bad key line %+v", k)
			}
			out.WriteString(k.Text + "\n")
		}
		if total > len(b) {
			t.Fatalf("%d bytes of keys from %d of input", total, len(b))
		}
		again, err := ParseKeyLines([]byte(out.String()))
		if err != nil || len(again) != len(keys) {
			t.Fatalf("re-parse: %v, %d keys, want %d", err, len(again), len(keys))
		}
		for i := range keys {
			if again[i].Text != keys[i].Text || again[i].Line != i+1 {
				t.Fatalf("re-parse line %d: %+v, want %q", i, again[i], keys[i].Text)
			}
		}
	})
}

func TestWriteKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	if err := WriteKeyFile(p, []byte("one\n"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	err := WriteKeyFile(p, []byte("two\n"), 0o600, false)
	if !errors.Is(err, ErrKeyExists) || err.Error() != "key file exists: "+p+" (give --force to replace it)" {
		t.Errorf("second write: %v", err)
	}
	os.Chmod(p, 0o666)
	if err := WriteKeyFile(p, []byte("two\n"), 0o600, true); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeyFile(p, true)
	if err != nil || len(k) != 1 || k[0].Text != "two" {
		t.Errorf("after a forced write: %v, %v", k, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
