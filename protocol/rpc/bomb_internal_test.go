package rpc

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestDecompressionBombHeap: a bomb read up to the limit leaves a buffer of
// about the limit, and the whole decompression allocates about twice the
// limit (the buffer's doublings up to it), instead of doubling past it: 2x
// the limit for the last buffer alone, about 4x in all, which the README's
// promise did not allow.
func TestDecompressionBombHeap(t *testing.T) {
	const limit = 8 << 20
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write(make([]byte, 64<<20))
	_ = w.Close()
	pool := &compressionPool{c: gzipCompression{}}
	// Warm the decompressor pool, so that only the buffer is measured.
	if err := pool.decompress(&buffer{}, z.Bytes(), 1); !errors.Is(err, errTooLarge) {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	dst := &buffer{}
	runtime.ReadMemStats(&before)
	err := pool.decompress(dst, z.Bytes(), limit)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("decompress: %v", err)
	}
	if dst.Cap() > limit+minRead {
		t.Errorf("the buffer grew to %d bytes for a limit of %d", dst.Cap(), limit)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("limit %d: buffer %d bytes, %.2fx the limit allocated in all", limit, dst.Cap(), float64(allocated)/limit)
	// Generous: other goroutines of the test binary may allocate too.
	if allocated > 5*limit/2 {
		t.Errorf("allocated %d bytes, %.1fx the limit", allocated, float64(allocated)/limit)
	}
}
