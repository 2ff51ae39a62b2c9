package goplugin

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
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
