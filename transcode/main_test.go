package transcode_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines outlive the tests: a transcoded call,
// stream or server the tests ended must leave nothing running. (The module
// requires only protocol and genproto, so no leak-check library: a stack
// dump does.)
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		// Goroutines on their way out (a connection's reader seeing its
		// socket closed) get a generous while on a loaded machine.
		deadline := time.Now().Add(10 * time.Second)
		left := lingering()
		for len(left) > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			left = lingering()
		}
		if len(left) > 0 {
			fmt.Fprintf(os.Stderr, "%d goroutines outlived the tests:\n\n%s\n", len(left), strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// lingering returns the stacks of the goroutines other than the caller and
// those of the runtime and the test runner.
func lingering() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // this goroutine
		}
		lines := strings.SplitN(g, "\n", 3)
		if len(lines) < 2 {
			continue
		}
		top := lines[1]
		if strings.HasPrefix(top, "testing.") || strings.HasPrefix(top, "runtime.") ||
			strings.HasPrefix(top, "os/signal.") || strings.HasPrefix(top, "internal/fuzz.") {
			continue
		}
		out = append(out, g)
	}
	return out
}
