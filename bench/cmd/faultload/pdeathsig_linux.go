package main

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the replica if this process
// dies, so no replica outlives an interrupted run.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
