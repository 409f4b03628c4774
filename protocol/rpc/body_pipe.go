package rpc

import (
	"errors"
	"io"
	"sync"
)

// maxPipeBytes bounds what a streaming client may queue ahead of the network
// before Send blocks.
const maxPipeBytes = 256 << 10

// maxRewindBytes bounds what a streaming request keeps of what it already
// sent, for a retry, until the response arrives.
const maxRewindBytes = 64 << 10

var errCannotRewind = errors.New("rpc: the streaming request has sent too much to be sent again")

// bodyPipe is the request body of a streaming call: Send appends to a buffer
// and the transport's reader takes everything queued in one Read. Unlike
// io.Pipe, a writer does not wait for the reader message by message, so a
// burst of small messages leaves in few large writes, while a lone message
// is picked up at once by a waiting reader.
//
// Until the response arrives, a rewindable pipe keeps what the transport
// has read (up to maxRewindBytes), and rewind hands out a new reader that
// starts over: net/http retries a request on another connection when the
// first refused it (an HTTP/2 server at its stream limit answers
// REFUSED_STREAM), and asks Request.GetBody for the body again. The first
// reader then fails, and its Close no longer affects the pipe.
type bodyPipe struct {
	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte
	rpos    int
	wclosed bool  // no more writes; reads drain then return werr
	werr    error // io.EOF after a clean close
	rclosed bool  // the transport closed the body for good; writes fail

	gen        uint32 // the current reader; older ones fail
	rewindable bool   // buf[:rpos] still holds what was read
	detached   bool   // the current reader was closed while rewindable
}

func newBodyPipe() *bodyPipe {
	p := &bodyPipe{}
	p.cond.L = &p.mu
	return p
}

// pipeReader is a reader of the pipe other than the first.
type pipeReader struct {
	p   *bodyPipe
	gen uint32
}

func (r *pipeReader) Read(b []byte) (int, error) { return r.p.read(r.gen, b) }
func (r *pipeReader) Close() error               { r.p.closeReader(r.gen); return nil }

// Read implements io.Reader for the transport (the first reader).
func (p *bodyPipe) Read(b []byte) (int, error) { return p.read(0, b) }

// Close implements io.Closer for the transport (the first reader): later
// writes fail, unless the pipe can still be rewound for a retry.
func (p *bodyPipe) Close() error {
	p.closeReader(0)
	return nil
}

func (p *bodyPipe) read(gen uint32, b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for gen == p.gen && !p.detached && p.rpos == len(p.buf) && !p.wclosed && !p.rclosed {
		p.cond.Wait()
	}
	if gen != p.gen || p.detached {
		return 0, io.ErrClosedPipe
	}
	if p.rpos < len(p.buf) {
		n := copy(b, p.buf[p.rpos:])
		p.rpos += n
		if p.rpos == len(p.buf) && !p.rewindable {
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

func (p *bodyPipe) closeReader(gen uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return // a retried attempt's reader, closed late
	}
	if p.rewindable {
		p.detached = true
	} else {
		p.rclosed = true
		p.buf, p.rpos = nil, 0
	}
	p.cond.Broadcast()
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
	if !p.rewindable && p.rpos > 0 && p.rpos >= len(p.buf)-p.rpos && len(p.buf)+len(data) > cap(p.buf) {
		// A reader that takes less than is queued never lets the buffer
		// empty: rather than grow it (copying what was read too), move
		// the unread bytes to the front. Moving at most as many bytes as
		// it frees keeps the cost per byte constant.
		n := copy(p.buf, p.buf[p.rpos:])
		p.buf, p.rpos = p.buf[:n], 0
	}
	p.buf = append(p.buf, data...)
	if p.rewindable && len(p.buf) > maxRewindBytes {
		p.stopRewindLocked()
	}
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

// allowRewind makes the pipe keep what is read, for rewind, until
// stopRewind.
func (p *bodyPipe) allowRewind() {
	p.mu.Lock()
	p.rewindable = true
	p.mu.Unlock()
}

// rewind returns a reader that starts over from the first byte; it serves
// as Request.GetBody. It fails once the pipe no longer keeps everything.
func (p *bodyPipe) rewind() (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.rewindable || p.rclosed {
		return nil, errCannotRewind
	}
	p.gen++
	p.rpos = 0
	p.detached = false
	p.cond.Broadcast()
	return &pipeReader{p: p, gen: p.gen}, nil
}

// stopRewind drops what was kept: the response has arrived, or the request
// failed, and no retry will come.
func (p *bodyPipe) stopRewind() {
	p.mu.Lock()
	p.stopRewindLocked()
	p.mu.Unlock()
}

func (p *bodyPipe) stopRewindLocked() {
	if !p.rewindable {
		return
	}
	p.rewindable = false
	if p.detached {
		p.rclosed = true
		p.buf, p.rpos = nil, 0
	} else if p.rpos > 0 {
		p.buf = p.buf[:copy(p.buf, p.buf[p.rpos:])]
		p.rpos = 0
	}
	p.cond.Broadcast()
}

// fail ends the pipe for every reader and writer: the request failed.
func (p *bodyPipe) fail() {
	p.mu.Lock()
	p.rewindable = false
	p.rclosed = true
	p.buf, p.rpos = nil, 0
	p.cond.Broadcast()
	p.mu.Unlock()
}
