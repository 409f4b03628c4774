package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// replicaProc is a replica server running as a child process of this one
// (this binary's "serve" mode), so that killing it is a real SIGKILL.
type replicaProc struct {
	name string
	addr string // fixed after the first start, so restarts keep it

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs the replica and waits until it listens.
func (r *replicaProc) start() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lastErr error
	// A restarted replica's port may take a moment to be free again.
	for attempt := 0; attempt < 50; attempt++ {
		cmd := exec.Command(exe, "serve", "-addr", addr, "-name", r.name)
		cmd.Stderr = os.Stderr
		setParentDeathSignal(cmd)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if got, ok := strings.CutPrefix(strings.TrimSpace(line), "listening "); err == nil && ok {
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			r.mu.Lock()
			r.cmd, r.done, r.addr = cmd, done, got
			r.mu.Unlock()
			return nil
		}
		_ = cmd.Wait()
		lastErr = fmt.Errorf("replica %s did not start: %q %v", r.name, line, err)
		time.Sleep(100 * time.Millisecond)
	}
	return lastErr
}

// running reports whether the replica process is alive.
func (r *replicaProc) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the replica and, for SIGKILL and SIGTERM, waits for
// it to exit.
func (r *replicaProc) signal(sig syscall.Signal) error {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil {
		return errors.New("replica not started")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return err
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		select {
		case <-done:
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-done
		}
	}
	return nil
}
