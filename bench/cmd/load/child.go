package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"polyconnect.dev/bench/internal/harness"
)

// childServer is a target's server running in a process of its own: this
// program, run again with -serve.
type childServer struct {
	cmd *exec.Cmd
	url string
}

// startChildServer starts the child and waits for the URL it prints.
func startChildServer(cfg config, t harness.Target) (*childServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// The child serves until it is interrupted; -d bounds it in case this
	// process dies without stopping it.
	d := cfg.warmup + cfg.duration + time.Minute
	cmd := exec.Command(self, "-serve", "-impl", t.Impl, "-protocol", t.Protocol, "-transport", t.Transport, "-d", d.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childServer{cmd: cmd}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		// "<target> serving at <url> for <d>"
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "at" {
				c.url = f[i+1]
			}
		}
		if c.url == "" {
			c.stop()
			return nil, fmt.Errorf("the server process printed %q, not its URL", line)
		}
		return c, nil
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, errors.New("the server process did not print its URL in 30s")
	}
}

// stop interrupts the child and waits for it.
func (c *childServer) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}
