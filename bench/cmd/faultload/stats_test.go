package main

import (
	"errors"
	"testing"
	"time"

	"polyconnect.dev/protocol/rpc"
)

func TestLatencyQuantiles(t *testing.T) {
	l, other := newLatencies(), newLatencies()
	for i := 1; i <= 1000; i++ {
		h := l
		if i%2 == 0 {
			h = other
		}
		h.record(time.Duration(i) * time.Millisecond)
	}
	l.merge(other)
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.99: 990 * time.Millisecond, 1: time.Second} {
		got := l.quantile(q)
		if got < want || float64(got) > float64(want)*1.0201 {
			t.Errorf("quantile(%v) = %v, want %v within 2%%", q, got, want)
		}
	}
	if newLatencies().quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
}

func TestTally(t *testing.T) {
	var a, b tally
	a.add(nil)
	a.add(rpc.NewError(rpc.CodeUnavailable, "x"))
	b.add(errors.New("plain"))
	b.add(rpc.NewError(rpc.CodeUnavailable, "y"))
	a.merge(b)
	if a.calls != 4 || a.failures() != 3 || a.failed[rpc.CodeUnavailable] != 2 || a.failed[rpc.CodeUnknown] != 1 {
		t.Errorf("tally %+v", a)
	}
	if codes := a.codes(); len(codes) != 2 || codes[0] != rpc.CodeUnknown {
		t.Errorf("codes %v", codes)
	}
}
