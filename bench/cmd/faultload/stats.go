package main

import (
	"math"
	"slices"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// latencies is a histogram of durations in buckets 1% wide (a value is
// known to within 1% of itself), from 1 µs to about 100 s. Not safe for
// concurrent use: each caller has its own, merged at the end.
type latencies struct {
	counts []uint64
	n      uint64
}

const (
	bucketGrowth = 1.01
	bucketCount  = 1900 // 1.01^1900 µs ≈ 160 s
)

var logGrowth = math.Log(bucketGrowth)

func newLatencies() *latencies { return &latencies{counts: make([]uint64, bucketCount)} }

func (l *latencies) record(d time.Duration) {
	us := max(float64(d)/float64(time.Microsecond), 1)
	i := min(int(math.Log(us)/logGrowth), bucketCount-1)
	l.counts[i]++
	l.n++
}

func (l *latencies) merge(o *latencies) {
	for i, c := range o.counts {
		l.counts[i] += c
	}
	l.n += o.n
}

// quantile returns the upper bound of the bucket holding quantile q.
func (l *latencies) quantile(q float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(l.n)))
	var seen uint64
	for i, c := range l.counts {
		seen += c
		if seen >= max(rank, 1) {
			return time.Duration(math.Pow(bucketGrowth, float64(i+1)) * float64(time.Microsecond))
		}
	}
	return time.Duration(math.Pow(bucketGrowth, bucketCount) * float64(time.Microsecond))
}

// tally counts the outcomes of one kind of call.
type tally struct {
	calls  uint64
	failed map[rpc.Code]uint64
}

func (t *tally) add(err error) {
	t.calls++
	if err == nil {
		return
	}
	if t.failed == nil {
		t.failed = map[rpc.Code]uint64{}
	}
	t.failed[rpc.CodeOf(err)]++
}

func (t *tally) merge(o tally) {
	t.calls += o.calls
	for code, n := range o.failed {
		if t.failed == nil {
			t.failed = map[rpc.Code]uint64{}
		}
		t.failed[code] += n
	}
}

func (t *tally) failures() uint64 {
	var n uint64
	for _, c := range t.failed {
		n += c
	}
	return n
}

// codes returns the failure codes in a stable order.
func (t *tally) codes() []rpc.Code {
	var out []rpc.Code
	for c := range t.failed {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
