//go:build !unix

package subprocess

import (
	"errors"
	"os/exec"
)

func setProcessGroup(*exec.Cmd) {}

// killGroup kills the program; without process groups its children survive.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

var errNoPipe = errors.New("no EPIPE on this system")

func errPipe() error { return errNoPipe }
