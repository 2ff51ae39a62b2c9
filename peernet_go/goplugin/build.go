package goplugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Build compiles the Go package pkg (an import path or a ./relative
// directory, resolved from the current directory) into the plugin file out
// with the go command found in PATH, passing -race when this program was
// built with it, so that this program can load the result. Tests use it to
// build plugins on the fly; ctx bounds the build. When no go command is
// found the error wraps exec.ErrNotFound.
func Build(ctx context.Context, pkg, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("goplugin: build %s: %w", pkg, err)
	}
	args := []string{"build", "-buildmode=plugin"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, gobin, args...)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("goplugin: go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// BuildCache builds each plugin package at most once and keeps the files
// until Close. A process can load a plugin package only once, so a program
// that opens the same plugin again — a test run with -count=N, say — must
// open the same file again, not a fresh build of it. The zero value is
// ready to use; it is safe for concurrent use.
type BuildCache struct {
	mu    sync.Mutex
	dir   string
	built map[string]string // package → plugin file
}

// Build returns the plugin file of pkg, building it with [Build] into a
// temporary directory the first time.
func (c *BuildCache) Build(ctx context.Context, pkg string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if so, ok := c.built[pkg]; ok {
		return so, nil
	}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "goplugin-")
		if err != nil {
			return "", fmt.Errorf("goplugin: build %s: %w", pkg, err)
		}
		c.dir, c.built = dir, map[string]string{}
	}
	so := filepath.Join(c.dir, fmt.Sprintf("%d-%s.so", len(c.built), filepath.Base(pkg)))
	if err := Build(ctx, pkg, so); err != nil {
		return "", err
	}
	c.built[pkg] = so
	return so, nil
}

// Close removes the plugin files. Plugins already loaded stay loaded.
func (c *BuildCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir == "" {
		return nil
	}
	err := os.RemoveAll(c.dir)
	c.dir, c.built = "", nil
	return err
}
