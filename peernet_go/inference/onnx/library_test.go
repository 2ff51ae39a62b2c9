package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCacheDir(t *testing.T) {
	t.Setenv(CacheEnv, "/x/cache")
	if d, err := CacheDir(); err != nil || d != "/x/cache" {
		t.Fatalf("CacheDir = %q, %v", d, err)
	}
	if p, err := CachedLibraryPath(); err != nil || p != "/x/cache/onnxruntime/1.30.0/libonnxruntime.so.1" {
		t.Fatalf("CachedLibraryPath = %q, %v", p, err)
	}
	t.Setenv(CacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/y")
	if d, err := CacheDir(); err != nil || d != "/y/peernet_go" {
		t.Fatalf("CacheDir = %q, %v", d, err)
	}
}

func TestFindLibrary(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(CacheEnv, cache)
	cached := filepath.Join(cache, "onnxruntime", RuntimeVersion, "libonnxruntime.so.1")
	env := filepath.Join(t.TempDir(), "env", "libonnxruntime.so")
	explicit := filepath.Join(t.TempDir(), "explicit.so")

	// Nothing anywhere: one line naming every path tried.
	t.Setenv(LibraryEnv, env)
	_, _, err := findLibrary(libraryCandidates(""))
	var le *LibraryError
	if !errors.As(err, &le) || !errors.Is(err, ErrNoLibrary) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{env, cached, "scripts/fetch-onnxruntime", "--ort-lib", LibraryEnv} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not mention %s", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("multi-line error %q", msg)
	}

	// Environment unset: said so.
	t.Setenv(LibraryEnv, "")
	_, _, err = findLibrary(libraryCandidates(""))
	if err == nil || !strings.Contains(err.Error(), "$"+LibraryEnv+" (unset)") || !strings.Contains(err.Error(), cached) {
		t.Fatalf("err = %v", err)
	}

	// The cache is used when present; the environment wins over it.
	touch := func(p string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touch(cached)
	if p, _, err := findLibrary(libraryCandidates("")); err != nil || p != cached {
		t.Fatalf("cache: %q, %v", p, err)
	}
	touch(env)
	t.Setenv(LibraryEnv, env)
	if p, _, err := findLibrary(libraryCandidates("")); err != nil || p != env {
		t.Fatalf("env: %q, %v", p, err)
	}

	// An explicit library is the only candidate: missing, it is not
	// replaced by the others.
	_, _, err = findLibrary(libraryCandidates(explicit))
	if err == nil || !strings.Contains(err.Error(), explicit+" (--ort-lib: not found)") || strings.Contains(err.Error(), env) {
		t.Fatalf("explicit: %v", err)
	}
	touch(explicit)
	if p, _, err := findLibrary(libraryCandidates(explicit)); err != nil || p != explicit {
		t.Fatalf("explicit: %q, %v", p, err)
	}
}
