package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<20 + 12345, 1 << 40, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
		i := bucket(v)
		if i < prev {
			t.Errorf("bucket(%d) = %d, below the previous value's %d", v, i, prev)
		}
		prev = i
		if lo, hi := lowest(i), highest(i); v < lo || v > hi {
			t.Errorf("bucket(%d) = %d holds [%d, %d]", v, i, lo, hi)
		}
		if hi, lo := highest(i), lowest(i); v >= 1<<subBits && float64(hi-lo) > float64(lo)/(1<<subBits) {
			t.Errorf("bucket %d is [%d, %d]: wider than 1/128 of its values", i, lo, hi)
		}
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	r := rand.New(rand.NewPCG(1, 2))
	samples := make([]time.Duration, 100_000)
	for i := range samples {
		samples[i] = time.Duration(r.ExpFloat64() * float64(time.Millisecond))
		h.record(samples[i])
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		want := samples[max(int(q*float64(len(samples))+0.5)-1, 0)]
		got := h.quantile(q)
		if got < want || float64(got-want) > float64(want)/100 {
			t.Errorf("quantile(%v) = %v, want %v within 1%%", q, got, want)
		}
	}
	if h.quantile(1) != samples[len(samples)-1] {
		t.Errorf("quantile(1) = %v, want the maximum %v", h.quantile(1), samples[len(samples)-1])
	}
}
