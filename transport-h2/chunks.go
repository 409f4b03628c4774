package h2

// chunkQueue holds a stream's received, unread bytes in pooled chunks of
// recvChunk bytes: a burst of DATA costs neither one large buffer (which
// the pools do not keep past 4 MiB) nor the copying a growing buffer
// needs, and a stream that is drained keeps at most one chunk. It is not
// safe for concurrent use; recvBuffer guards it.
type chunkQueue struct {
	chunks [][]byte // chunks[head:] hold the unread bytes; each slice's length is its filled part
	head   int
	off    int // read offset into chunks[head]
	n      int // unread bytes
}

// recvChunk is the size of a chunk: a DATA frame of the default maximum
// size fills one.
const recvChunk = 16 << 10

// len reports how many bytes are unread.
func (q *chunkQueue) len() int { return q.n }

// write appends p.
func (q *chunkQueue) write(p []byte) {
	for len(p) > 0 {
		if q.head < len(q.chunks) {
			last := &q.chunks[len(q.chunks)-1]
			if room := cap(*last) - len(*last); room > 0 {
				k := min(room, len(p))
				*last = append(*last, p[:k]...)
				p = p[k:]
				q.n += k
				continue
			}
		}
		if q.head > 0 && q.head == len(q.chunks) {
			q.chunks, q.head = q.chunks[:0], 0
		} else if q.head > 0 && len(q.chunks) == cap(q.chunks) {
			// Move the live chunks to the front rather than grow.
			k := copy(q.chunks, q.chunks[q.head:])
			clear(q.chunks[k:])
			q.chunks, q.head = q.chunks[:k], 0
		}
		q.chunks = append(q.chunks, getBuf(recvChunk))
	}
}

// read copies unread bytes into p and returns how many.
func (q *chunkQueue) read(p []byte) int {
	n := 0
	for n < len(p) && q.n > 0 {
		c := q.chunks[q.head]
		k := copy(p[n:], c[q.off:])
		n += k
		q.off += k
		q.n -= k
		if q.off < len(c) {
			break // p is full
		}
		if q.n == 0 && q.head == len(q.chunks)-1 {
			// The last chunk, drained: keep it for what comes next.
			q.chunks[q.head] = c[:0]
			q.off = 0
			break
		}
		putBuf(c)
		q.chunks[q.head] = nil
		q.head++
		q.off = 0
	}
	return n
}

// release returns every chunk to the pool and reports how many unread
// bytes were dropped.
func (q *chunkQueue) release() int {
	dropped := q.n
	for i := q.head; i < len(q.chunks); i++ {
		putBuf(q.chunks[i])
	}
	clear(q.chunks)
	*q = chunkQueue{}
	return dropped
}
