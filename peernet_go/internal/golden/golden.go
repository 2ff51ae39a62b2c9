// Package golden compares test output with committed golden files. A test
// binary that imports it takes -update, which rewrites the files with what
// the tests produce instead of comparing.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files with the output of the tests")

// Check fails t when got differs from the file at path (or rewrites the
// file, with -update), printing at most the first 3000 bytes of got.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run '%s' -args -update creates it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -run '%s' -args -update accepts it):\n%.3000s", path, t.Name(), got)
	}
}
