package main

import (
	"math/bits"
	"time"
)

// histogram counts durations in log-linear buckets, as HDR histograms do:
// values below 2^subBits nanoseconds are exact, and above that each power
// of two is split into 2^subBits buckets, so a recorded value is known to
// within 1/128 (0.8%) of itself, from nanoseconds to centuries, in a fixed
// 58 KiB. It is not safe for concurrent use: give each goroutine its own
// and merge them.
type histogram struct {
	counts [(64 - subBits + 1) << subBits]uint64
	total  uint64
	max    uint64
	sum    uint64
}

const (
	subBits = 7
	subMask = 1<<subBits - 1
)

// bucket returns the index of v's bucket.
func bucket(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	return (shift+1)<<subBits | int(v>>shift&subMask)
}

// lowest returns the smallest value that falls in bucket i.
func lowest(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	shift := i>>subBits - 1
	return (1<<subBits | uint64(i&subMask)) << shift
}

// highest returns the largest value that falls in bucket i.
func highest(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	shift := i>>subBits - 1
	return lowest(i) + (1 << shift) - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucket(v)]++
	h.total++
	h.sum += v
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the value at or below which a fraction q of the recorded
// values lie, rounded up to its bucket's highest value (but never above
// the maximum recorded).
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(highest(i), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}
