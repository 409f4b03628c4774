//go:build !linux

package main

import "os/exec"

// setParentDeathSignal does nothing where the kernel offers no parent-death
// signal; the run still stops its replicas when it ends normally.
func setParentDeathSignal(*exec.Cmd) {}
