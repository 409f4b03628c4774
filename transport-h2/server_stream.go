package h2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
)

// serverStream is one request on a server connection: the request, the
// ResponseWriter and the context the handler gets all live in it.
type serverStream struct {
	stream
	sc            *serverConn
	req           http.Request // handed to the handler as &req
	url           url.URL
	body          requestBody
	rw            responseWriter
	ctx           streamContext
	contentLength int64 // the request's declared length, -1 if none
	received      int64 // DATA bytes received (reader goroutine)
	endOnHeaders  bool
	expect100     bool
	rstAfterEnd   bool  // guarded by c.mu: reset the request side once the response is out
	headerSize    int64 // what the request headers count against the connection's budget
}

// newStream validates a request's header block and builds the stream and
// its http.Request. A non-zero status means: answer with it, without a
// handler. A stream error means the request is malformed.
func (sc *serverConn) newStream(hb *headerBlock) (*serverStream, int, error) {
	c := sc.c
	id := hb.streamID
	st := &serverStream{sc: sc, contentLength: -1, endOnHeaders: hb.endStream}
	st.stream.init(c, id)
	st.stream.srv = st
	st.stream.sendWindow = int64(c.peer.initialWindow)
	st.stream.recv.setWindow(c.limits.streamWindow)
	st.body.st = st
	st.rw.st = st
	if hb.tooLarge {
		return st, http.StatusRequestHeaderFieldsTooLarge, nil
	}
	malformed := func(reason string) (*serverStream, int, error) {
		return nil, 0, streamError{id: id, code: http2.ErrCodeProtocol, reason: reason}
	}
	var method, scheme, authority, path string
	var seen uint8
	npseudo := 0
	for i, f := range hb.fields {
		if !f.IsPseudo() {
			for _, g := range hb.fields[i:] {
				if g.IsPseudo() {
					return malformed("pseudo-header after a regular header")
				}
				if !checkRegularField(g) {
					return malformed("malformed header field " + strconv.Quote(g.Name))
				}
			}
			break
		}
		npseudo++
		var bit uint8
		switch f.Name {
		case ":method":
			bit, method = 1, f.Value
		case ":scheme":
			bit, scheme = 2, f.Value
		case ":authority":
			bit, authority = 4, f.Value
		case ":path":
			bit, path = 8, f.Value
		default:
			return malformed("pseudo-header " + strconv.Quote(f.Name) + " is not allowed in a request")
		}
		if seen&bit != 0 {
			return malformed("duplicate pseudo-header " + f.Name)
		}
		seen |= bit
	}
	isConnect := method == http.MethodConnect
	switch {
	case seen&1 == 0 || !validMethod(method):
		return malformed("missing or invalid :method")
	case isConnect && (seen&(2|8) != 0 || authority == ""):
		return malformed("CONNECT needs :authority and no :scheme or :path")
	case !isConnect && (seen&2 == 0 || seen&8 == 0 || path == ""):
		return malformed("missing :scheme or :path")
	}
	if !isConnect {
		if err := parsePath(&st.url, path, method); err != nil {
			return malformed("invalid :path")
		}
	} else {
		st.url.Host = authority
	}
	h := c.buildHeader(hb.fields[npseudo:])
	if authority == "" {
		authority = h.Get("Host")
	}
	if vs := h["Content-Length"]; len(vs) > 0 {
		n, err := parseContentLength(vs)
		if err != nil || hb.endStream && n > 0 {
			return malformed("invalid content-length")
		}
		st.contentLength = n
	}
	if vs := h["Expect"]; len(vs) == 1 && strings.EqualFold(vs[0], "100-continue") {
		st.expect100 = !hb.endStream
	}
	req := http.Request{
		Method:     method,
		URL:        &st.url,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     h,
		Host:       authority,
		RemoteAddr: sc.remoteAddr,
		RequestURI: path,
		TLS:        sc.tlsState,
	}
	if isConnect {
		req.RequestURI = authority
	}
	switch {
	case hb.endStream:
		req.Body = http.NoBody
		req.ContentLength = 0
		st.stream.recv.err = io.EOF
	default:
		req.Body = &st.body
		req.ContentLength = st.contentLength
	}
	if vs := h["Trailer"]; len(vs) > 0 {
		for _, v := range vs {
			for _, name := range strings.Split(v, ",") {
				name = http.CanonicalHeaderKey(strings.TrimSpace(name))
				if httpguts.ValidTrailerHeader(name) && name != "" {
					if req.Trailer == nil {
						req.Trailer = make(http.Header)
					}
					req.Trailer[name] = nil
				}
			}
		}
	}
	_ = scheme
	st.ctx.parent = sc.baseCtx
	// WithContext is the only way to give a Request its context; it copies
	// the request, here onto the stream (the copy does not escape).
	st.req = *req.WithContext(&st.ctx)
	return st, 0, nil
}

// validMethod reports whether m is a token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !httpguts.IsTokenRune(rune(m[i])) {
			return false
		}
	}
	return true
}

// parsePath fills u from a :path. Plain paths (the RPC case) are split
// without allocating; anything with escapes goes through url.ParseRequestURI.
func parsePath(u *url.URL, path, method string) error {
	if path == "*" {
		if method != http.MethodOptions {
			return errors.New("* is for OPTIONS")
		}
		u.Path = "*"
		return nil
	}
	if path[0] != '/' {
		return errors.New("not an origin-form path")
	}
	for i := 0; i < len(path); i++ {
		b := path[i]
		if b <= ' ' || b >= 0x7f || b == '%' || b == '#' {
			pu, err := url.ParseRequestURI(path)
			if err != nil {
				return err
			}
			*u = *pu
			return nil
		}
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u.Path, u.RawQuery = path[:i], path[i+1:]
		if u.RawQuery == "" {
			u.ForceQuery = true
		}
		return nil
	}
	u.Path = path
	return nil
}

// parseContentLength parses content-length values, which must agree.
func parseContentLength(vs []string) (int64, error) {
	var n int64 = -1
	for _, v := range vs {
		m, err := strconv.ParseUint(strings.TrimSpace(v), 10, 63)
		if err != nil {
			return 0, err
		}
		if n >= 0 && int64(m) != n {
			return 0, errors.New("conflicting content-length values")
		}
		n = int64(m)
	}
	return n, nil
}

// serve runs the handler and finishes the response.
func (st *serverStream) serve() {
	srv := st.sc.srv
	if srv.readTO > 0 {
		st.stream.recv.setReadDeadline(time.Now().Add(srv.readTO))
	}
	if srv.writeTO > 0 {
		st.stream.setWriteDeadline(time.Now().Add(srv.writeTO))
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		e := recover()
		if e != nil && e != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			srv.logf("h2: panic serving %v: %v\n%s", st.sc.remoteAddr, e, buf)
		}
		st.stream.reset(http2.ErrCodeInternal, errHandlerFailed)
		st.ctx.cancel(context.Canceled)
		if e == nil {
			// runtime.Goexit: this goroutine ends here, so hand its slot
			// on.
			if next := st.sc.handlerDone(st); next != nil {
				st.sc.srv.workers.run(next)
			}
		}
	}()
	srv.handler.ServeHTTP(&st.rw, &st.req)
	returned = true
	st.finish()
}

var errHandlerFailed = errors.New("h2: the handler panicked")

// finish ends the response after the handler returned: headers if none
// went out, trailers, END_STREAM, and RST_STREAM(NO_ERROR) after it if the
// request is still coming.
func (st *serverStream) finish() {
	rw := &st.rw
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	rw.done = true
	trailers := rw.trailerFields()
	s := &st.stream
	c := s.c
	unread := !s.recv.drained()
	if unread {
		s.recv.close(errBodyAfterResponse)
	}
	c.mu.Lock()
	if s.sendErr != nil || s.sendDone || s.endAfterData {
		c.mu.Unlock()
		if trailers != nil {
			putFieldList(trailers)
		}
		st.ctx.cancel(context.Canceled)
		return
	}
	st.rstAfterEnd = unread
	if s.hdr != nil && !rw.clSet && rw.bodyAllowed && !rw.flushed && trailers == nil {
		// The whole body is known: say how long it is. Not when trailers
		// follow: the response ends with them, not with its body, so a
		// length tells the client nothing it can act on sooner, and gRPC
		// clients (all gRPC responses have trailers) file a header they do
		// not know as metadata: grpc-go's client allocates for it on every
		// call. grpc-go's server sends none either.
		s.hdr.add("content-length", formatLength(rw.written))
	}
	if s.hdr != nil && s.queuedLocked() == 0 && trailers == nil {
		s.hdrEnd = true
	}
	s.trailers = trailers
	s.endAfterData = true
	wake := c.scheduleLocked(s)
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	st.ctx.cancel(context.Canceled)
}

// copyTrailers adds the request trailers to the request, in the Read that
// reaches the end of the body.
func (st *serverStream) copyTrailers(t http.Header) {
	if len(t) == 0 {
		return
	}
	if st.req.Trailer == nil {
		st.req.Trailer = t
		return
	}
	for k, vs := range t {
		st.req.Trailer[k] = vs
	}
}

// requestBody is the request's Body.
type requestBody struct {
	st     *serverStream
	closed bool
}

var errBodyClosed = errors.New("h2: read on a closed request body")

// Read reads the request body. The first Read of a request that expects
// 100-continue sends the 100 response.
func (b *requestBody) Read(p []byte) (int, error) {
	st := b.st
	if b.closed {
		return 0, errBodyClosed
	}
	if st.expect100 {
		st.expect100 = false
		if !st.rw.wroteHeader {
			fl := getFieldList()
			fl.add(":status", "100")
			st.stream.c.queueCtrl(ctrlFrame{kind: ctrlHeaders, streamID: st.id, fields: fl})
		}
	}
	n, err := st.stream.recv.Read(p)
	if err != nil && err != io.EOF {
		err = streamFailure(err, st.stream.c, &st.stream, st.sc.remoteAddr)
	}
	return n, err
}

// Close stops reading the body: the server resets the request side of
// the stream after the response if the client is still sending.
func (b *requestBody) Close() error {
	if !b.closed {
		b.closed = true
		b.st.stream.recv.close(errBodyClosed)
	}
	return nil
}

// responseWriter is the handler's http.ResponseWriter. It implements
// http.Flusher, and the methods http.ResponseController looks for:
// FlushError, SetReadDeadline, SetWriteDeadline, EnableFullDuplex.
type responseWriter struct {
	st          *serverStream
	header      http.Header
	status      int
	wroteHeader bool
	bodyAllowed bool
	isHead      bool
	clSet       bool // the handler set Content-Length
	flushed     bool // the headers may be on the wire
	done        bool // the handler returned
	written     int64
	declared    []string // trailer names announced in the Trailer header
}

// Header returns the response header map. Keys with the http.TrailerPrefix,
// and keys announced in a "Trailer" header, set after WriteHeader, are sent
// as trailers.
func (rw *responseWriter) Header() http.Header {
	if rw.header == nil {
		rw.header = make(http.Header, 4)
	}
	return rw.header
}

// WriteHeader sends the response headers with code; 1xx codes (other than
// 101) send informational headers at once and may be followed by others.
func (rw *responseWriter) WriteHeader(code int) {
	if rw.done || rw.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	st := rw.st
	if code < 200 {
		if code == http.StatusSwitchingProtocols {
			return
		}
		fl := getFieldList()
		fl.add(":status", statusText(code))
		appendHeader(fl, rw.header, skipTrailers)
		st.stream.c.queueCtrl(ctrlFrame{kind: ctrlHeaders, streamID: st.id, fields: fl})
		return
	}
	rw.wroteHeader = true
	rw.status = code
	rw.isHead = st.req.Method == http.MethodHead
	rw.bodyAllowed = code != http.StatusNoContent && code != http.StatusNotModified
	fl := getFieldList()
	fl.add(":status", statusText(code))
	if rw.header != nil {
		appendHeader(fl, rw.header, skipTrailers)
		_, rw.clSet = rw.header["Content-Length"]
		for _, v := range rw.header["Trailer"] {
			for _, name := range strings.Split(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					rw.declared = append(rw.declared, http.CanonicalHeaderKey(name))
				}
			}
		}
	}
	s := &st.stream
	c := s.c
	c.mu.Lock()
	if s.sendErr == nil && !s.sendDone && s.hdr == nil {
		s.hdr = fl
		fl = nil
	}
	c.mu.Unlock()
	if fl != nil {
		putFieldList(fl)
	}
}

// skipTrailers leaves trailer keys out of the response headers.
func skipTrailers(name string) bool { return strings.HasPrefix(name, http.TrailerPrefix) }

// trailerFields collects the trailers: TrailerPrefix keys, and announced
// names that have values. It returns nil if there are none.
func (rw *responseWriter) trailerFields() *fieldList {
	var fl *fieldList
	add := func(name string, vs []string) {
		if !httpguts.ValidTrailerHeader(name) {
			return
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				continue
			}
			if fl == nil {
				fl = getFieldList()
			}
			fl.add(name, v)
		}
	}
	for k, vs := range rw.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			add(http.CanonicalHeaderKey(k[len(http.TrailerPrefix):]), vs)
		}
	}
	for _, name := range rw.declared {
		add(name, rw.header[name])
	}
	return fl
}

// Write writes body bytes. Before the headers are written it writes them
// with status 200, and a Content-Type sniffed from p if none is set.
func (rw *responseWriter) Write(p []byte) (int, error) {
	if rw.done {
		return 0, errWriteAfterHandler
	}
	if !rw.wroteHeader {
		if rw.header == nil || rw.header["Content-Type"] == nil && len(p) > 0 {
			if _, ok := rw.Header()["Content-Type"]; !ok {
				rw.header["Content-Type"] = []string{http.DetectContentType(p)}
			}
		}
		rw.WriteHeader(http.StatusOK)
	}
	if !rw.bodyAllowed {
		return 0, http.ErrBodyNotAllowed
	}
	if rw.isHead {
		rw.written += int64(len(p))
		return len(p), nil
	}
	n, err := rw.st.stream.write(p, false)
	rw.written += int64(n)
	return n, err
}

var errWriteAfterHandler = errors.New("h2: ResponseWriter used after the handler returned")

// Flush sends the headers and everything written so far.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError sends the headers and everything written so far, and reports
// whether the stream can still be written.
func (rw *responseWriter) FlushError() error {
	if rw.done {
		return errWriteAfterHandler
	}
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	rw.flushed = true
	return rw.st.stream.flush()
}

// SetReadDeadline makes reads of the request body fail once t has passed.
func (rw *responseWriter) SetReadDeadline(t time.Time) error {
	rw.st.stream.recv.setReadDeadline(t)
	return nil
}

// SetWriteDeadline makes writes of the response fail once t has passed.
func (rw *responseWriter) SetWriteDeadline(t time.Time) error {
	rw.st.stream.setWriteDeadline(t)
	return nil
}

// EnableFullDuplex is a no-op: HTTP/2 streams are always full duplex.
func (rw *responseWriter) EnableFullDuplex() error { return nil }

// statusTexts holds ":status" values, so that writing one never allocates.
var statusTexts = func() (t [900]string) {
	for i := range t {
		t[i] = strconv.Itoa(i + 100)
	}
	return t
}()

// lengthTexts holds content-length values for small bodies.
var lengthTexts = func() (t [4096]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// formatLength formats a content-length, without allocating for small ones.
func formatLength(n int64) string {
	if n >= 0 && n < int64(len(lengthTexts)) {
		return lengthTexts[n]
	}
	return strconv.FormatInt(n, 10)
}

func statusText(code int) string {
	if code >= 100 && code <= 999 {
		return statusTexts[code-100]
	}
	return strconv.Itoa(code)
}
