package rpc

import (
	"io"
	"sync"
)

// maxPipeBytes bounds what a streaming client may queue ahead of the network
// before Send blocks.
const maxPipeBytes = 256 << 10

// bodyPipe is the request body of a streaming call: Send appends to a buffer
// and the transport's reader takes everything queued in one Read. Unlike
// io.Pipe, a writer does not wait for the reader message by message, so a
// burst of small messages leaves in few large writes, while a lone message
// is picked up at once by a waiting reader.
type bodyPipe struct {
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte
	rpos    int
	wclosed bool  // no more writes; reads drain then return werr
	werr    error // io.EOF after a clean close
	rclosed bool  // the transport closed the body; writes fail
}

func newBodyPipe() *bodyPipe {
	p := &bodyPipe{}
	p.cond.L = &p.mu
	return p
}

// Read implements io.Reader for the transport.
func (p *bodyPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.rpos == len(p.buf) && !p.wclosed && !p.rclosed {
		p.cond.Wait()
	}
	if p.rpos < len(p.buf) {
		n := copy(b, p.buf[p.rpos:])
		p.rpos += n
		if p.rpos == len(p.buf) {
			p.buf, p.rpos = p.buf[:0], 0
		}
		p.cond.Broadcast()
		return n, nil
	}
	if p.rclosed {
		return 0, io.ErrClosedPipe
	}
	return 0, p.werr
}

// Close implements io.Closer for the transport: later writes fail.
func (p *bodyPipe) Close() error {
	p.mu.Lock()
	p.rclosed = true
	p.buf, p.rpos = nil, 0
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}

// write queues data, waiting while the queue is over its bound. It fails
// with io.ErrClosedPipe once the transport has stopped reading.
func (p *bodyPipe) write(data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.rclosed && !p.wclosed && len(p.buf)-p.rpos > 0 && len(p.buf)-p.rpos+len(data) > maxPipeBytes {
		p.cond.Wait()
	}
	if p.rclosed || p.wclosed {
		return io.ErrClosedPipe
	}
	p.buf = append(p.buf, data...)
	p.cond.Broadcast()
	return nil
}

// closeWrite ends the body: the reader drains what is queued, then gets err
// (io.EOF for a clean end).
func (p *bodyPipe) closeWrite(err error) {
	p.mu.Lock()
	if !p.wclosed {
		p.wclosed = true
		if err == nil {
			err = io.EOF
		}
		p.werr = err
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}
