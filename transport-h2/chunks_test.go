package h2

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestChunkQueue: bytes come out of a chunkQueue as they went in, whatever
// the sizes of the writes and reads, and a drained queue keeps at most one
// chunk.
func TestChunkQueue(t *testing.T) {
	var q chunkQueue
	var in, out bytes.Buffer
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		if r.IntN(2) == 0 {
			p := make([]byte, r.IntN(3*recvChunk))
			for i := range p {
				p[i] = byte(r.Int())
			}
			in.Write(p)
			q.write(p)
		} else {
			p := make([]byte, r.IntN(2*recvChunk))
			n := q.read(p)
			out.Write(p[:n])
		}
		if q.len() != in.Len()-out.Len() {
			t.Fatalf("len %d, want %d", q.len(), in.Len()-out.Len())
		}
	}
	p := make([]byte, q.len())
	out.Write(p[:q.read(p)])
	if !bytes.Equal(in.Bytes(), out.Bytes()) {
		t.Fatal("the bytes read differ from the bytes written")
	}
	if live := len(q.chunks) - q.head; live > 1 {
		t.Errorf("a drained queue keeps %d chunks", live)
	}
	q.write([]byte("x"))
	if dropped := q.release(); dropped != 1 || q.len() != 0 || q.chunks != nil {
		t.Errorf("release: dropped %d, %+v", dropped, q)
	}
}
