package h2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
)

// clientStream is one request on a client connection; the response it
// returns lives in it.
type clientStream struct {
	stream
	cc          *clientConn
	req         *http.Request
	resp        http.Response
	body        responseBody
	respReady   sync.WaitGroup // done when the response (or respErr) is there
	respOnce    sync.Once
	respErr     error
	gotResp     bool  // the reader goroutine's
	received    int64 // the reader goroutine's
	bodyTouched atomic.Bool
	stopCtx     func() bool
}

// maxInMemoryBody is the most of a replayable request body (one with
// GetBody whose reads cannot wait: see inMemory) read up front and queued with the headers; the rest streams
// from writeBody, whose large writes are lent to the writer rather than
// copied.
const maxInMemoryBody = 64 << 10

// roundTrip sends req on cc, with body as its body, and waits for the
// response headers. cc has a stream slot reserved for it.
func (cc *clientConn) roundTrip(req *http.Request, body io.ReadCloser) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		cc.release()
		if body != nil {
			_ = body.Close()
		}
		return nil, err
	}
	c := cc.c
	cs := &clientStream{cc: cc, req: req}
	cs.respReady.Add(1)
	cs.stream.cli = cs
	cs.body.cs = cs
	hasBody := body != nil && body != http.NoBody
	fl, err := requestHeaders(req, hasBody)
	if err != nil {
		cc.release()
		if body != nil {
			_ = body.Close()
		}
		return nil, err
	}
	// A replayable body is in memory: read it now and queue it with the
	// headers, so the whole request leaves in one write without a
	// goroutine of its own.
	var data []byte
	var rest bool // more body to stream after data
	if hasBody && req.GetBody != nil && inMemory(req, body) {
		cs.bodyTouched.Store(true)
		data, rest, err = readInMemory(body, req.ContentLength)
		if err != nil {
			_ = body.Close()
			putFieldList(fl)
			if data != nil {
				putBuf(data)
			}
			cc.release()
			return nil, fmt.Errorf("h2: read request body: %w", err)
		}
		if !rest {
			_ = body.Close()
			if req.ContentLength > 0 && int64(len(data)) != req.ContentLength {
				putFieldList(fl)
				putBuf(data)
				cc.release()
				return nil, fmt.Errorf("h2: request ContentLength=%d with a body of %d bytes", req.ContentLength, len(data))
			}
		}
	}
	var trailers *fieldList
	if hasBody && !rest && data != nil && len(req.Trailer) > 0 {
		trailers = trailerFieldList(req.Trailer)
	}

	c.mu.Lock()
	if c.closeErr != nil || c.lingerAfterFlush || cc.gotGoAway || cc.nextID > maxClientStreamID {
		c.mu.Unlock()
		cc.retired.Store(true)
		putFieldList(fl)
		if data != nil {
			putBuf(data)
		}
		cc.release()
		var err error = errClosed
		if pe := cc.prefaceErr.Load(); pe != nil {
			err = pe
		}
		if body != nil && !cs.bodyTouched.Load() {
			return nil, retryError{err: err, bodyUnread: true}
		}
		return nil, retryError{err: err}
	}
	id := cc.nextID
	cc.nextID += 2
	s := &cs.stream
	s.init(c, id)
	s.sendWindow = int64(c.peer.initialWindow)
	s.recv.setWindow(c.limits.streamWindow)
	c.streams[id] = s
	s.hdr = fl
	switch {
	case !hasBody:
		s.hdrEnd = true
	case data != nil:
		s.data = data
		s.endAfterData = !rest
		s.trailers = trailers
	}
	wake := c.scheduleLocked(s)
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	if hasBody && (data == nil || rest) {
		go cs.writeBody(body, int64(len(data)))
	}
	if ctx.Done() != nil {
		cs.stopCtx = context.AfterFunc(ctx, func() { cs.abort(ctx.Err()) })
	}
	cs.respReady.Wait()
	if cs.respErr != nil {
		cs.stopWatching()
		return nil, cs.failure(cs.respErr)
	}
	return &cs.resp, nil
}

// inMemory reports whether reading body cannot wait on its producer: its
// length is known (a ContentLength of 0 with a body means unknown, as in
// net/http), or it says how much is left to read (a Len method, as
// bytes.Reader and package rpc's request bodies have). A streaming body
// (package rpc's body pipe) can have GetBody as well, to start over when a
// stream is refused, but reading it ahead of the headers would wait for
// messages the caller sends only after the call has started.
func inMemory(req *http.Request, body io.Reader) bool {
	if req.ContentLength > 0 {
		return true
	}
	_, ok := body.(interface{ Len() int })
	return ok
}

// readInMemory reads a replayable body, up to maxInMemoryBody. rest
// reports that the body goes on.
func readInMemory(body io.Reader, length int64) (data []byte, rest bool, err error) {
	size := maxInMemoryBody
	if length >= 0 && length < maxInMemoryBody {
		size = int(length) + 1 // room to see the end
	}
	data = getBuf(size)
	for {
		if len(data) >= maxInMemoryBody {
			return data, true, nil
		}
		if len(data) == cap(data) {
			// Longer than its ContentLength said: read on to see.
			data = growBuf(data, len(data))
		}
		n, err := body.Read(data[len(data):min(cap(data), maxInMemoryBody)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, false, nil
		}
		if err != nil {
			return data, false, err
		}
	}
}

// requestHeaders builds the request's header block.
func requestHeaders(req *http.Request, hasBody bool) (*fieldList, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return nil, fmt.Errorf("h2: invalid host %q", host)
	}
	fl := getFieldList()
	fl.add(":method", method)
	if method == http.MethodConnect {
		fl.add(":authority", host)
	} else {
		fl.add(":scheme", req.URL.Scheme)
		fl.add(":authority", host)
		path := req.URL.RequestURI()
		if req.URL.Opaque != "" && strings.HasPrefix(req.URL.Opaque, "//") {
			path = req.URL.Opaque
		}
		fl.add(":path", path)
	}
	for k, vs := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			putFieldList(fl)
			return nil, fmt.Errorf("h2: invalid header field name %q", k)
		}
		switch k {
		case "Host", "Content-Length", "Trailer":
			continue
		}
		if isConnectionHeader(k) {
			continue
		}
		sensitive := k == "Authorization" || k == "Proxy-Authorization" || k == "Cookie"
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				putFieldList(fl)
				return nil, fmt.Errorf("h2: invalid value for header field %q", k)
			}
			if k == "Te" && v != "trailers" {
				continue
			}
			if sensitive {
				fl.addSensitive(k, v)
			} else {
				fl.add(k, v)
			}
		}
	}
	switch {
	case req.ContentLength > 0 && hasBody:
		fl.add("content-length", formatLength(req.ContentLength))
	case !hasBody && (method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch):
		fl.add("content-length", "0")
	}
	if len(req.Trailer) > 0 && hasBody {
		names := make([]string, 0, len(req.Trailer))
		for k := range req.Trailer {
			if httpguts.ValidTrailerHeader(k) {
				names = append(names, strings.ToLower(k))
			}
		}
		if len(names) > 0 {
			fl.add("trailer", strings.Join(names, ","))
		}
	}
	return fl, nil
}

// trailerFieldList returns the request trailers to send, or nil.
func trailerFieldList(t http.Header) *fieldList {
	var fl *fieldList
	for k, vs := range t {
		if !httpguts.ValidTrailerHeader(k) {
			continue
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				continue
			}
			if fl == nil {
				fl = getFieldList()
			}
			fl.add(k, v)
		}
	}
	return fl
}

// writeBodyChunk is the most of a streamed request body read at once.
const writeBodyChunk = 256 << 10

// writeBody streams a request body that is not replayable (or the rest of
// one that was too large to queue whole, after its first total bytes), then
// ends the stream with the request's trailers.
func (cs *clientStream) writeBody(body io.ReadCloser, total int64) {
	defer body.Close()
	cs.bodyTouched.Store(true)
	s := &cs.stream
	// Reads as large as a streaming caller's queue (package rpc queues up
	// to 256 KiB) take everything queued at once, so the caller's buffer
	// empties instead of growing. Two buffers take turns: one is read
	// into while the socket write of the other is still going on.
	bufs := [2][]byte{getBuf(writeBodyChunk), getBuf(writeBodyChunk)}
	defer func() {
		s.waitWritten() // no batch refers to the buffers any more
		putBuf(bufs[0])
		putBuf(bufs[1])
	}()
	for turn := 0; ; turn ^= 1 {
		buf := bufs[turn]
		n, err := body.Read(buf[:cap(buf)])
		if n > 0 {
			total += int64(n)
			if _, werr := s.writeOverlapped(buf[:n]); werr != nil {
				return
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			err = fmt.Errorf("h2: read request body: %w", err)
			s.reset(http2.ErrCodeCancel, err)
			cs.fail(err)
			return
		}
	}
	if cl := cs.req.ContentLength; cl > 0 && total != cl {
		err := fmt.Errorf("h2: request ContentLength=%d with a body of %d bytes", cl, total)
		s.reset(http2.ErrCodeCancel, err)
		cs.fail(err)
		return
	}
	var trailers *fieldList
	if len(cs.req.Trailer) > 0 {
		trailers = trailerFieldList(cs.req.Trailer)
	}
	_ = s.end(trailers)
}

// fail ends the wait for the response with err, if it is still on.
func (cs *clientStream) fail(err error) {
	cs.respOnce.Do(func() {
		cs.respErr = err
		cs.respReady.Done()
	})
}

// failure returns the error the stream failed with in package transport's
// words, except for the errors Client.Do looks at itself: a request the
// server did not process, a connection that failed before its preface.
func (cs *clientStream) failure(err error) error {
	var retry retryError
	var pe *prefaceError
	if errors.As(err, &retry) || errors.As(err, &pe) {
		return err
	}
	return streamFailure(err, cs.cc.c, &cs.stream, cs.cc.addr)
}

// abort resets the stream because the request's context ended.
func (cs *clientStream) abort(err error) {
	cs.stream.reset(http2.ErrCodeCancel, err)
	cs.fail(err)
}

// stopWatching stops following the request's context.
func (cs *clientStream) stopWatching() {
	if cs.stopCtx != nil {
		cs.stopCtx()
		cs.stopCtx = nil
	}
}

// onResponseHeaders handles the response's header block: informational
// ones are skipped, the final one is the response.
func (cs *clientStream) onResponseHeaders(hb *headerBlock) error {
	id := hb.streamID
	if hb.tooLarge {
		err := errors.New("h2: response headers larger than the limit")
		cs.stream.reset(http2.ErrCodeCancel, err)
		cs.fail(err)
		return nil
	}
	malformed := func(reason string) error {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: reason}
	}
	status := ""
	n := 0
	for _, f := range hb.fields {
		if !f.IsPseudo() {
			break
		}
		if f.Name != ":status" || status != "" {
			return malformed("unexpected pseudo-header " + strconv.Quote(f.Name) + " in a response")
		}
		status = f.Value
		n++
	}
	for _, f := range hb.fields[n:] {
		if f.IsPseudo() || !checkRegularField(f) {
			return malformed("malformed response header field " + strconv.Quote(f.Name))
		}
	}
	code, err := strconv.Atoi(status)
	if len(status) != 3 || err != nil || code < 100 {
		return malformed("missing or invalid :status")
	}
	if code < 200 {
		if hb.endStream || code == http.StatusSwitchingProtocols {
			return malformed("informational response ends the stream")
		}
		return nil
	}
	c := cs.cc.c
	c.useful()
	h := c.buildHeader(hb.fields[n:])
	cs.gotResp = true
	cs.resp = http.Response{
		Status:        statusLine(code),
		StatusCode:    code,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        h,
		Body:          &cs.body,
		ContentLength: -1,
		Request:       cs.req,
		TLS:           cs.cc.tlsState,
	}
	if vs := h["Content-Length"]; len(vs) > 0 {
		if n, err := parseContentLength(vs); err == nil {
			cs.resp.ContentLength = n
		}
	}
	// A HEAD response, a 204 or a 304 says how long a body would be
	// without carrying one.
	noBody := cs.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if hb.endStream && !noBody {
		if cs.resp.ContentLength > 0 {
			return malformed("response with content-length ends with its headers")
		}
		cs.resp.ContentLength = 0
	}
	if vs := h["Trailer"]; len(vs) > 0 {
		cs.resp.Trailer = make(http.Header)
		for _, v := range vs {
			for _, name := range strings.Split(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					cs.resp.Trailer[http.CanonicalHeaderKey(name)] = nil
				}
			}
		}
	}
	if hb.endStream {
		cs.stream.recv.endWithTrailers(nil)
	}
	cs.cc.toDeliver = append(cs.cc.toDeliver, cs)
	if hb.endStream {
		cs.stream.peerEnded()
	}
	return nil
}

// deliver hands the response to the caller, unless the call failed first.
func (cs *clientStream) deliver() {
	cs.respOnce.Do(func() { cs.respReady.Done() })
}

// onTrailers handles the response trailers.
func (cs *clientStream) onTrailers(hb *headerBlock) error {
	id := hb.streamID
	if !hb.endStream {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "response trailers without END_STREAM"}
	}
	if hb.tooLarge {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "response trailers larger than the limit"}
	}
	for _, f := range hb.fields {
		if f.IsPseudo() || !checkRegularField(f) {
			return streamError{id: id, code: http2.ErrCodeProtocol, reason: "malformed trailer field"}
		}
	}
	if cs.resp.ContentLength >= 0 && cs.received != cs.resp.ContentLength && cs.req.Method != http.MethodHead && cs.resp.StatusCode != http.StatusNotModified {
		return streamError{id: id, code: http2.ErrCodeProtocol, reason: "response body does not match its content-length"}
	}
	cs.stream.recv.endWithTrailers(cs.cc.c.buildHeader(hb.fields))
	cs.stream.peerEnded()
	return nil
}

// copyTrailers sets the response trailers, in the Read that reaches the
// end of the body.
func (cs *clientStream) copyTrailers(t http.Header) {
	if len(t) == 0 {
		return
	}
	if cs.resp.Trailer == nil {
		cs.resp.Trailer = t
		return
	}
	for k, vs := range t {
		cs.resp.Trailer[k] = vs
	}
}

// responseBody is the response's Body.
type responseBody struct {
	cs     *clientStream
	closed bool
}

var errResponseBodyClosed = errors.New("h2: read on a closed response body")

// Read reads the response body. At its end Trailer holds the trailers.
func (b *responseBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errResponseBodyClosed
	}
	n, err := b.cs.stream.recv.Read(p)
	if err == io.EOF {
		b.cs.stopWatching()
	} else if err != nil {
		err = b.cs.failure(err)
	}
	return n, err
}

// Close releases the response. If the response was not read to its end,
// or the request is still being sent, the stream is reset.
func (b *responseBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	cs := b.cs
	cs.stopWatching()
	s := &cs.stream
	c := s.c
	c.mu.Lock()
	done := s.removed
	c.mu.Unlock()
	if !done || !s.recv.drained() {
		s.reset(http2.ErrCodeCancel, errResponseBodyClosed)
	}
	s.recv.close(errResponseBodyClosed)
	return nil
}

// statusLines holds Response.Status values for the registered codes.
var statusLines = func() map[int]string {
	m := make(map[int]string)
	for code := 100; code < 600; code++ {
		if t := http.StatusText(code); t != "" {
			m[code] = strconv.Itoa(code) + " " + t
		}
	}
	return m
}()

func statusLine(code int) string {
	if s, ok := statusLines[code]; ok {
		return s
	}
	return strconv.Itoa(code)
}
