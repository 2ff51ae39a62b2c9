//go:build unix

package subprocess

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the program in a process group of its own, so that
// Close can kill its children too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the program's process group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// errPipe is the error of a write to a program that closed its input.
func errPipe() error { return syscall.EPIPE }
