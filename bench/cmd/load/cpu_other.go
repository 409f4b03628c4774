//go:build !linux

package main

import "time"

// processCPU is only implemented on Linux.
func processCPU(pid int) (time.Duration, bool) { return 0, false }

// processIO is only implemented on Linux.
func processIO(pid int) (ioCounts, bool) { return ioCounts{}, false }
