package leakcheck

import (
	"strings"
	"testing"
	"time"
)

// parked is where the test's stray goroutine waits, so that the dump names
// it.
func parked(release chan struct{}, done chan struct{}) {
	<-release
	close(done)
}

func TestLeakedFindsAStrayGoroutineAndLetsItGo(t *testing.T) {
	before := make(map[int]bool)
	for _, g := range goroutines() {
		before[g.id] = true
	}
	release, done := make(chan struct{}), make(chan struct{})
	go parked(release, done)

	defer func(d time.Duration) { settle = d }(settle)
	settle = 200 * time.Millisecond // the goroutine stays: no need to wait long
	left := wait(before)
	if len(left) != 1 || !strings.HasSuffix(left[0].top, "leakcheck.parked") {
		t.Fatalf("leaked = %+v, want the one parked goroutine", left)
	}
	if !strings.Contains(describe(left), "chan receive") {
		t.Errorf("the report lacks the goroutine's state:\n%s", describe(left))
	}

	close(release)
	<-done
	if left := wait(before); len(left) != 0 {
		t.Fatalf("after it returned, leaked = %+v", left)
	}
}

func TestParse(t *testing.T) {
	entry := "goroutine 42 [select]:\nnet/http.(*persistConn).readLoop(0xc000123456)\n\t/usr/local/go/src/net/http/transport.go:2300 +0x1c\ncreated by net/http.(*Transport).dialConn in goroutine 7"
	g, ok := parse(entry)
	if !ok || g.id != 42 || g.top != "net/http.(*persistConn).readLoop" {
		t.Fatalf("parse = %+v, %v", g, ok)
	}
	if _, ok := parse("not a goroutine"); ok {
		t.Error("parse accepted a line that is not a goroutine header")
	}
	if !benign(goroutine{top: "os/signal.signal_recv"}) || benign(g) {
		t.Error("benign: os/signal's goroutine is benign, a connection's reader is not")
	}
}
