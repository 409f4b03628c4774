// Package leakcheck fails tests that leave goroutines running: a call,
// stream, server or client that a test ended must leave nothing behind.
//
// It is protocol's own, so that the module requires nothing beyond
// protobuf and the compression libraries, test dependencies included.
// Other modules of the repository use go.uber.org/goleak for the same job.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// settle is how long a check waits for goroutines that are on their way
// out (a connection's reader seeing its socket closed, say) before it calls
// them leaked. Generous, because a loaded machine can delay their exit;
// only a failing check waits this long.
var settle = 10 * time.Second

// VerifyTestMain runs the package's tests and then fails the run if
// goroutines other than the runtime's and the test runner's remain.
// Call it from TestMain.
func VerifyTestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if left := wait(nil); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutines outlived the tests:\n\n%s", len(left), describe(left))
			code = 1
		}
	}
	os.Exit(code)
}

// Check fails t if goroutines started during the test (that were not
// running when Check was called) are still running once its cleanups have
// run. Tests that use it must not run in parallel with others, whose
// goroutines it would take for leaks.
func Check(t testing.TB) {
	t.Helper()
	before := make(map[int]bool)
	for _, g := range goroutines() {
		before[g.id] = true
	}
	t.Cleanup(func() {
		if left := wait(before); len(left) > 0 {
			t.Errorf("leakcheck: %d goroutines outlived the test:\n\n%s", len(left), describe(left))
		}
	})
}

// goroutine is one entry of a full stack dump.
type goroutine struct {
	id    int
	top   string // the function it is in, without arguments
	stack string // the whole entry
}

// wait returns the goroutines that are neither benign nor in ignore,
// retrying with growing pauses until there are none or settle has passed.
func wait(ignore map[int]bool) []goroutine {
	deadline := time.Now().Add(settle)
	pause := time.Millisecond
	for {
		left := leaked(ignore)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// leaked lists the running goroutines other than the caller, those in
// ignore and those that belong to the runtime or the test runner.
func leaked(ignore map[int]bool) []goroutine {
	var left []goroutine
	for _, g := range goroutines() {
		if !ignore[g.id] && !benign(g) {
			left = append(left, g)
		}
	}
	return left
}

// benignPrefixes are the functions in which goroutines that the runtime,
// os/signal, the tracer and the test runner own are found waiting.
var benignPrefixes = []string{
	"testing.",
	"internal/fuzz.",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime.ReadTrace",
	"runtime/trace.",
}

func benign(g goroutine) bool {
	for _, p := range benignPrefixes {
		if strings.HasPrefix(g.top, p) {
			return true
		}
	}
	return false
}

// goroutines returns every goroutine but the caller's, parsed from a full
// stack dump (which lists the caller first).
func goroutines() []goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	entries := strings.Split(string(buf), "\n\n")
	var gs []goroutine
	for _, e := range entries[1:] {
		if g, ok := parse(e); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// parse reads one dump entry: "goroutine 7 [chan receive]:", then the
// function it is in with its arguments, then the rest of its stack.
func parse(entry string) (goroutine, bool) {
	entry = strings.TrimSpace(entry)
	header, rest, _ := strings.Cut(entry, "\n")
	fields := strings.Fields(header)
	if len(fields) < 2 || fields[0] != "goroutine" {
		return goroutine{}, false
	}
	id, err := strconv.Atoi(fields[1])
	if err != nil {
		return goroutine{}, false
	}
	top, _, _ := strings.Cut(rest, "\n")
	if i := strings.LastIndexByte(top, '('); i > 0 {
		top = top[:i]
	}
	return goroutine{id: id, top: top, stack: entry}, true
}

func describe(gs []goroutine) string {
	var b strings.Builder
	for _, g := range gs {
		b.WriteString(g.stack)
		b.WriteString("\n\n")
	}
	return b.String()
}
