package rpctest

import (
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// pipeBufferSize is how many bytes one direction of a connection holds
// before Write blocks. It is large enough that a writer rarely waits for
// the reader, and small enough to give HTTP/1.1 bodies back-pressure.
const pipeBufferSize = 256 << 10

// memAddr is the address of one end of an in-memory connection.
type memAddr string

func (memAddr) Network() string  { return "memory" }
func (a memAddr) String() string { return string(a) }

// deadline is a settable deadline whose wait channel is closed when it
// passes, in the manner of a net.Conn read or write deadline.
type deadline struct {
	mu      sync.Mutex
	gen     uint64 // bumps on every set; a stale timer does nothing
	timer   *time.Timer
	expired chan struct{}
}

func newDeadline() *deadline { return &deadline{expired: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if isClosed(d.expired) {
		d.expired = make(chan struct{})
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.expired)
		return
	}
	gen, ch := d.gen, d.expired
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen && !isClosed(ch) {
			close(ch)
		}
	})
}

// wait returns a channel that is closed once the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired
}

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// signal wakes a waiter on ch without blocking; ch has capacity 1.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// pipeBuf carries bytes in one direction between two memConns.
type pipeBuf struct {
	mu      sync.Mutex
	data    []byte
	off     int           // data[off:] is unread
	eof     bool          // the writing end closed: readers get io.EOF once drained
	gone    bool          // the reading end closed: writes fail
	canRead chan struct{} // signalled when data arrives or eof/gone is set
	canSend chan struct{} // signalled when space frees up or eof/gone is set
}

func newPipeBuf() *pipeBuf {
	return &pipeBuf{canRead: make(chan struct{}, 1), canSend: make(chan struct{}, 1)}
}

func (b *pipeBuf) buffered() int { return len(b.data) - b.off }

// memConn is one end of a buffered, full-duplex in-memory connection with
// read and write deadlines. It is safe for concurrent use.
type memConn struct {
	local, remote memAddr
	in, out       *pipeBuf
	readDL        *deadline
	writeDL       *deadline
	closeOnce     sync.Once
	closed        chan struct{}
}

// newMemConnPair returns the two ends of a new in-memory connection.
func newMemConnPair(clientAddr, serverAddr memAddr) (client, server *memConn) {
	c2s, s2c := newPipeBuf(), newPipeBuf()
	client = &memConn{local: clientAddr, remote: serverAddr, in: s2c, out: c2s,
		readDL: newDeadline(), writeDL: newDeadline(), closed: make(chan struct{})}
	server = &memConn{local: serverAddr, remote: clientAddr, in: c2s, out: s2c,
		readDL: newDeadline(), writeDL: newDeadline(), closed: make(chan struct{})}
	return client, server
}

func (c *memConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "memory", Source: c.local, Addr: c.remote, Err: err}
}

func (c *memConn) Read(p []byte) (int, error) {
	b := c.in
	for {
		if isClosed(c.closed) {
			return 0, c.opError("read", net.ErrClosed)
		}
		if isClosed(c.readDL.wait()) {
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		b.mu.Lock()
		if b.buffered() > 0 {
			n := copy(p, b.data[b.off:])
			b.off += n
			more := b.buffered() > 0
			if !more {
				b.data, b.off = b.data[:0], 0
			}
			b.mu.Unlock()
			signal(b.canSend)
			if more {
				signal(b.canRead) // for another reader
			}
			return n, nil
		}
		if b.eof {
			b.mu.Unlock()
			return 0, io.EOF
		}
		b.mu.Unlock()
		if len(p) == 0 {
			return 0, nil
		}
		select {
		case <-b.canRead:
		case <-c.closed:
		case <-c.readDL.wait():
		}
	}
}

func (c *memConn) Write(p []byte) (int, error) {
	b := c.out
	written := 0
	for {
		if isClosed(c.closed) {
			return written, c.opError("write", net.ErrClosed)
		}
		if isClosed(c.writeDL.wait()) {
			return written, c.opError("write", os.ErrDeadlineExceeded)
		}
		b.mu.Lock()
		if b.gone || b.eof {
			b.mu.Unlock()
			return written, c.opError("write", io.ErrClosedPipe)
		}
		if space := pipeBufferSize - b.buffered(); space > 0 && len(p) > 0 {
			n := min(space, len(p))
			if b.off > 0 && b.off >= len(b.data)/2 {
				// Move the unread bytes to the front instead of growing.
				b.data = b.data[:copy(b.data, b.data[b.off:])]
				b.off = 0
			}
			b.data = append(b.data, p[:n]...)
			p = p[n:]
			written += n
			more := b.buffered() < pipeBufferSize
			b.mu.Unlock()
			signal(b.canRead)
			if more {
				signal(b.canSend) // for another writer
			}
			continue
		}
		b.mu.Unlock()
		if len(p) == 0 {
			return written, nil
		}
		select {
		case <-b.canSend:
		case <-c.closed:
		case <-c.writeDL.wait():
		}
	}
}

// Close closes both directions: the peer reads what was already written,
// then io.EOF; its writes fail.
func (c *memConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.CloseWrite()
		c.in.mu.Lock()
		c.in.gone = true
		c.in.data, c.in.off = nil, 0
		c.in.mu.Unlock()
		signal(c.in.canSend)
		c.readDL.stop()
		c.writeDL.stop()
	})
	return nil
}

// CloseWrite closes the sending direction only, like a TCP half-close.
func (c *memConn) CloseWrite() error {
	c.out.mu.Lock()
	c.out.eof = true
	c.out.mu.Unlock()
	signal(c.out.canRead)
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func (c *memConn) SetDeadline(t time.Time) error {
	c.readDL.set(t)
	c.writeDL.set(t)
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.readDL.set(t)
	return nil
}

func (c *memConn) SetWriteDeadline(t time.Time) error {
	c.writeDL.set(t)
	return nil
}

// memListener is a net.Listener whose connections come from dial.
type memListener struct {
	addr      memAddr
	conns     chan net.Conn
	closeOnce sync.Once
	closed    chan struct{}

	mu         sync.Mutex
	nextPort   int
	clientHost string
}

func newMemListener(host string) *memListener {
	return &memListener{
		addr:     memAddr(net.JoinHostPort(host, "80")),
		conns:    make(chan net.Conn),
		closed:   make(chan struct{}),
		nextPort: 49152,
		// Client ends get distinct, SplitHostPort-able addresses.
		clientHost: "client." + host,
	}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, &net.OpError{Op: "accept", Net: "memory", Addr: l.addr, Err: net.ErrClosed}
	}
}

func (l *memListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }

// dial connects to the listener. It has the signature of
// http.Transport.DialContext and refuses any address but the listener's.
func (l *memListener) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr != string(l.addr) {
		return nil, &net.OpError{Op: "dial", Net: "memory", Addr: memAddr(addr),
			Err: &net.AddrError{Err: "rpctest client can only reach its own server " + string(l.addr), Addr: addr}}
	}
	l.mu.Lock()
	port := l.nextPort
	l.nextPort++
	l.mu.Unlock()
	client, server := newMemConnPair(memAddr(net.JoinHostPort(l.clientHost, strconv.Itoa(port))), l.addr)
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, &net.OpError{Op: "dial", Net: "memory", Addr: l.addr, Err: net.ErrClosed}
	case <-ctx.Done():
		return nil, &net.OpError{Op: "dial", Net: "memory", Addr: l.addr, Err: ctx.Err()}
	}
}
