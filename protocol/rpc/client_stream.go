package rpc

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// duplexCall is the part of a streaming client call that every protocol
// shares: the HTTP request starts on the first Send, CloseRequest or
// Receive, with HTTPClient.Do on a goroutine of its own (a full-duplex server
// may answer only after reading requests), and requests go through a bounded
// body pipe. The protocol's stream embeds it and reads the response.
//
// Send and CloseRequest are used by one goroutine, Receive and CloseResponse
// by one goroutine (possibly another).
type duplexCall struct {
	ctx    context.Context
	cancel context.CancelFunc
	info   *CallInfo
	m      marshaler
	client HTTPClient
	// newRequest builds the request, headers included, when the call starts.
	newRequest func() (*http.Request, *Error)
	// doError converts an error from HTTPClient.Do.
	doError func(context.Context, error) *Error
	// base64 sends each message base64-encoded (gRPC-Web text).
	base64 bool

	startOnce sync.Once
	startErr  error
	pw        *bodyPipe
	sendDone  atomic.Bool
	finished  atomic.Bool // the response side is closed: sends report io.EOF

	ready   chan struct{} // closed once resp or respErr is set
	resp    *http.Response
	respErr error

	// The response side, used by one goroutine.
	reader      streamReader
	recvStarted bool
	released    bool
	recvErr     error // sticky: io.EOF or the final status
	// ended: the response was read to the protocol's end (end-of-stream
	// message, trailers frame or trailers), so the call is over and only
	// the body's last bytes may remain.
	ended bool
}

// streamReader is a protocol's reading of a streaming response.
type streamReader interface {
	// begin validates the response headers and readies the reader.
	begin(resp *http.Response) error
	// next reads the next message into msg. At the end of the response it
	// returns io.EOF for success, or the call's status, and ended reports
	// true from then on.
	next(msg any) error
	// ended reports whether next has read the protocol's end of the
	// response (not a transport failure).
	ended() bool
	// release frees the reader's buffers. It may be called more than once.
	release()
}

func (d *duplexCall) init(ctx context.Context, info *CallInfo, client HTTPClient, m marshaler, reader streamReader) {
	d.ctx, d.cancel = context.WithCancel(ctx)
	d.info, d.client, d.m, d.reader = info, client, m, reader
	d.ready = make(chan struct{})
}

// Receive implements StreamingClientConn. Once it reports the end of the
// response (io.EOF or the call's status), the call releases what it holds,
// so a caller who reads to the end need not also call CloseResponse.
func (d *duplexCall) Receive(msg any) error {
	if d.recvErr != nil {
		return d.recvErr
	}
	err := d.receive(msg)
	if err == nil {
		return nil
	}
	d.recvErr = err
	d.ended = d.recvStarted && d.reader.ended()
	if !d.released {
		d.released = true
		_ = d.CloseResponse()
	}
	return err
}

func (d *duplexCall) receive(msg any) error {
	if err := d.start(); err != nil {
		return err
	}
	if err := d.ctx.Err(); err != nil {
		// Canceled or expired: report it even if responses are buffered.
		return asError(err)
	}
	if !d.recvStarted {
		d.recvStarted = true
		resp, err := d.awaitResponse()
		if err != nil {
			return err
		}
		if err := d.reader.begin(resp); err != nil {
			return err
		}
	}
	return d.reader.next(msg)
}

// CloseResponse implements StreamingClientConn.
func (d *duplexCall) CloseResponse() error {
	d.closeResponse()
	d.reader.release()
	return nil
}

func (d *duplexCall) Peer() Peer                   { return d.info.peer }
func (d *duplexCall) RequestHeader() http.Header   { return d.info.RequestHeader() }
func (d *duplexCall) ResponseHeader() http.Header  { return d.info.ResponseHeader() }
func (d *duplexCall) ResponseTrailer() http.Header { return d.info.ResponseTrailer() }

func (d *duplexCall) start() error {
	d.startOnce.Do(func() {
		hreq, err := d.newRequest()
		if err != nil {
			d.startErr = err
			d.respErr = err
			close(d.ready)
			return
		}
		pw := newBodyPipe()
		d.pw = pw
		hreq.Body = pw
		hreq.ContentLength = -1
		// net/http may retry the request on another connection (an
		// HTTP/2 server at its stream limit refuses the stream): the body
		// can start over until the response arrives.
		pw.allowRewind()
		hreq.GetBody = pw.rewind
		// The HTTP/2 transport stops watching the context once the response
		// headers are in, while it is still copying the request body: a
		// canceled or expired call whose requests are still open would wait
		// for the server. Failing the body makes the transport reset the
		// stream, which ends the response body too.
		context.AfterFunc(d.ctx, func() { pw.closeWrite(d.ctx.Err()) })
		go func() {
			resp, err := d.client.Do(hreq)
			pw.stopRewind()
			if err != nil {
				d.respErr = d.doError(d.ctx, err)
				pw.fail()
			} else {
				d.resp = resp
			}
			close(d.ready)
		}()
	})
	return d.startErr
}

// Send implements StreamingClientConn.
func (d *duplexCall) Send(msg any) error {
	if err := d.start(); err != nil {
		return err
	}
	if d.finished.Load() {
		// The call is over; Receive reports how it ended.
		return io.EOF
	}
	if d.sendDone.Load() {
		return errorf(CodeInternal, "send after CloseRequest")
	}
	if d.ctx.Err() != nil {
		// The call is over; Receive reports why.
		return io.EOF
	}
	buf := getBuffer()
	if err := d.m.marshalEnvelope(buf, msg, 0); err != nil {
		putBuffer(buf)
		return err
	}
	if d.base64 {
		// Each message is a padded base64 piece of its own; receivers
		// decode the concatenation piece by piece.
		buf = encodeBase64Buffer(buf)
	}
	err := d.pw.write(buf.Bytes())
	putBuffer(buf)
	if err != nil {
		// The transport stopped reading: the server ended the call or the
		// connection broke. Receive reports the status.
		return io.EOF
	}
	return nil
}

// CloseRequest implements StreamingClientConn.
func (d *duplexCall) CloseRequest() error {
	if err := d.start(); err != nil {
		return err
	}
	if d.sendDone.Swap(true) {
		return nil
	}
	// A canceled call must not end its requests cleanly: the error makes
	// the transport reset the stream instead. The deadline is checked
	// too: the context's own error can lag its deadline by a moment.
	d.pw.closeWrite(callError(d.ctx))
	return nil
}

// awaitResponse waits for the response headers (or the failure to get
// them).
func (d *duplexCall) awaitResponse() (*http.Response, error) {
	select {
	case <-d.ready:
	case <-d.ctx.Done():
		<-d.ready
	}
	if d.respErr != nil {
		return nil, d.respErr
	}
	return d.resp, nil
}

// closeResponse ends the call: a call that never started stays off the
// wire, and one abandoned before the end of its response is canceled first,
// which the server sees, so that nothing here waits for the server. Only a
// response read to its end is drained (briefly, see drainEnded), so that an
// HTTP/1.1 connection can serve the next call.
func (d *duplexCall) closeResponse() {
	d.finished.Store(true)
	d.startOnce.Do(func() {
		d.startErr = errorf(CodeCanceled, "stream closed before it started")
		d.respErr = d.startErr
		close(d.ready)
	})
	if !d.ended {
		d.cancel()
	}
	if d.pw != nil && !d.sendDone.Swap(true) {
		d.pw.closeWrite(io.ErrClosedPipe)
	}
	<-d.ready
	if d.resp != nil {
		if d.ended {
			drainEnded(d.resp, d.cancel)
		}
		_ = d.resp.Body.Close()
	}
	d.cancel()
}
