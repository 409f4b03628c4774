package rpc

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

// grpcContentTypes holds the header values of the usual Content-Types, keyed
// by themselves, so that answering in the request's type does not allocate.
var grpcContentTypes = func() map[string][]string {
	m := make(map[string][]string)
	for _, p := range []string{grpcwire.ContentType, grpcwire.WebContentType, grpcwire.WebTextContentType} {
		for _, s := range []string{"", "+" + codecNameProto, "+" + codecNameJSON} {
			m[p+s] = []string{p + s}
		}
	}
	return m
}()

// grpcHandlerProtocol is the server side of gRPC (web false) or gRPC-Web
// (web true, binary and text).
type grpcHandlerProtocol struct{ web bool }

func (p grpcHandlerProtocol) handles(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	v, _, ok := grpcwire.ParseContentType(r.Header.Get("Content-Type"))
	return ok && (v != grpcwire.Plain) == p.web
}

// grpcHandlerConn is the server side of one gRPC or gRPC-Web call. Receive
// and Send may run on two goroutines (bidi); everything else runs on the
// handler's goroutine.
type grpcHandlerConn struct {
	ctx     context.Context // the call's: the request's, with the timeout
	h       *Handler
	w       http.ResponseWriter
	r       *http.Request
	variant grpcwire.Variant
	info    CallInfo
	hctx    handlerContext // the call's context, once bound
	codec   Codec
	m       marshaler
	u       unmarshaler
	reader  envelopeReader
	buf     *buffer
	respEnc string
	rc      responseCompression
	// single is true when the client sends exactly one message (unary and
	// server streaming).
	single      bool
	received    bool
	flushEach   bool
	wroteHeader bool
	reqEOF      bool          // the request body was read to its end (streams)
	out         *streamWriter // server-streaming kinds, once headers are out
	deadline    bodyDeadline

	// Header values stored here spare an allocation each.
	contentType [1]string
	accept      [1]string
	encoding    [1]string
}

func (p grpcHandlerProtocol) newConn(h *Handler, w http.ResponseWriter, r *http.Request) (handlerConn, time.Duration) {
	ct := r.Header.Get("Content-Type")
	variant, codecName, _ := grpcwire.ParseContentType(ct)
	c := &grpcHandlerConn{h: h, w: w, r: r, variant: variant, ctx: r.Context()}
	name := ProtocolGRPC
	if variant != grpcwire.Plain {
		name = ProtocolGRPCWeb
	}
	c.info = CallInfo{
		spec:      h.spec,
		protocol:  name,
		method:    r.Method,
		host:      r.Host,
		peer:      Peer{Addr: r.RemoteAddr, Protocol: name, TLS: r.TLS},
		reqHeader: r.Header,
		resHeader: w.Header(),
	}
	c.accept[0] = h.compressions.accept
	if cts, ok := grpcContentTypes[ct]; ok {
		c.contentType[0] = cts[0]
	} else {
		c.contentType[0] = variant.Prefix() + "+" + codecName
	}
	if variant == grpcwire.Plain && r.ProtoMajor < 2 {
		c.fail(errorf(CodeUnimplemented, "gRPC requires HTTP/2, the request came over "+r.Proto+"; use gRPC-Web or Connect over HTTP/1"))
		return nil, 0
	}
	c.codec = h.codecs.get(codecName)
	if c.codec == nil {
		h.writeUnsupportedMediaType(w, ct)
		return nil, 0
	}
	c.m = marshaler{codec: c.codec, sendMax: h.sendMax, compressMin: h.compressMin, sizes: &c.info.wire.sent}
	c.u = unmarshaler{codec: c.codec, readMax: h.readMax, server: true, sizes: &c.info.wire.received}
	reqEnc := r.Header.Get(grpcwire.HeaderEncoding)
	if !h.compressions.supports(reqEnc) {
		c.fail(h.compressions.unsupportedError(reqEnc))
		return nil, 0
	}
	// Responses are compressed when the request was: a gRPC client that
	// compresses accepts its own algorithm, and one that does not is not made
	// to pay for decompression.
	if c.u.comp = h.compressions.get(reqEnc); c.u.comp != nil {
		c.m.comp = c.u.comp
		c.respEnc = reqEnc
	}
	c.rc.accept = r.Header.Get(grpcwire.HeaderAcceptEncoding)
	c.info.compression = c
	var timeout time.Duration
	if v := r.Header.Get(grpcwire.HeaderTimeout); v != "" {
		d, ok := grpcwire.ParseTimeout(v)
		if !ok {
			c.fail(errorf(CodeInvalidArgument, "invalid grpc-timeout "+strconv.Quote(v)))
			return nil, 0
		}
		if d == 0 {
			c.fail(errorf(CodeDeadlineExceeded, "the request's timeout expired before it arrived"))
			return nil, 0
		}
		if d != math.MaxInt64 {
			timeout = d
			// A body read must not outlive the deadline, even if the client
			// never cancels.
			c.deadline.start(w, d)
		}
	}
	var body io.Reader = r.Body
	if variant == grpcwire.WebText {
		body = newBase64StreamReader(r.Body, true)
	}
	c.reader = envelopeReader{r: body, limit: h.readMax, server: true, buffered: h.spec.StreamType&StreamTypeClient != 0}
	c.single = h.spec.StreamType&StreamTypeClient == 0
	c.flushEach = h.spec.StreamType&StreamTypeServer != 0
	if h.spec.StreamType != StreamTypeUnary {
		c.info.sendHeader = c.sendHeaderNow
	}
	if h.spec.StreamType == StreamTypeBidi {
		_ = http.NewResponseController(w).EnableFullDuplex()
	}
	return c, timeout
}

func (c *grpcHandlerConn) bindContext(parent context.Context) context.Context {
	c.hctx = handlerContext{Context: parent, info: &c.info}
	c.ctx = &c.hctx
	return c.ctx
}
func (c *grpcHandlerConn) Spec() Spec                   { return c.info.spec }
func (c *grpcHandlerConn) Peer() Peer                   { return c.info.peer }
func (c *grpcHandlerConn) RequestHeader() http.Header   { return c.info.reqHeader }
func (c *grpcHandlerConn) ResponseHeader() http.Header  { return c.info.resHeader }
func (c *grpcHandlerConn) ResponseTrailer() http.Header { return c.info.ResponseTrailer() }

func (c *grpcHandlerConn) Receive(msg any) error {
	if !c.single {
		return c.receive(msg)
	}
	if c.received {
		return io.EOF
	}
	c.received = true
	if err := c.receive(msg); err != nil {
		if err == io.EOF {
			return errorf(CodeUnimplemented, "protocol error: no request message for a "+c.info.spec.StreamType.String()+" method")
		}
		return err
	}
	// The request must end here; a second message is a protocol error.
	if _, err := c.reader.read(c.buf); err != io.EOF {
		if err != nil {
			return handlerReadError(c.ctx, &c.deadline, err)
		}
		return errorf(CodeUnimplemented, "protocol error: more than one request message for a "+c.info.spec.StreamType.String()+" method")
	}
	c.reqEOF = true
	c.deadline.done(c.w)
	return nil
}

func (c *grpcHandlerConn) receive(msg any) error {
	if c.buf == nil {
		c.buf = getBuffer()
	}
	flags, err := c.reader.read(c.buf)
	if err != nil {
		if err == io.EOF {
			c.reqEOF = true
			c.deadline.done(c.w)
			return io.EOF
		}
		return handlerReadError(c.ctx, &c.deadline, err)
	}
	if flags&^flagCompressed != 0 {
		return errorf(CodeInternal, "protocol error: invalid envelope flags 0x"+strconv.FormatUint(uint64(flags), 16))
	}
	compressed := flags&flagCompressed != 0
	if compressed && c.u.comp == nil {
		return errorf(CodeInternal, "protocol error: compressed message without a grpc-encoding")
	}
	return c.u.unmarshal(c.buf.Bytes(), compressed, msg)
}

func (c *grpcHandlerConn) Send(msg any) error {
	if err := c.ctx.Err(); err != nil {
		return asError(err)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	// Marshal first: a failure on the first message can still be answered
	// trailers-only.
	if err := c.m.marshalEnvelope(buf, msg, 0); err != nil {
		return err
	}
	c.writeHeader()
	return c.write(buf.Bytes(), false)
}

// write writes body bytes, base64-encoded for gRPC-Web text: through the
// stream writer when the response streams, else straight. final marks the
// trailers frame, which a stream writes even after its context has ended.
func (c *grpcHandlerConn) write(b []byte, final bool) error {
	if c.variant == grpcwire.WebText {
		enc := getBuffer()
		defer putBuffer(enc)
		appendBase64(enc, b)
		b = enc.Bytes()
	}
	if c.out != nil {
		if final {
			return c.out.final(b)
		}
		return c.out.write(b)
	}
	if _, err := c.w.Write(b); err != nil {
		return errorf(CodeCanceled, "write response: "+err.Error())
	}
	return nil
}

// sendHeaderNow writes and flushes the response headers if no message has
// done so; the call can then no longer be answered trailers-only.
func (c *grpcHandlerConn) sendHeaderNow() error {
	if c.wroteHeader {
		return nil
	}
	if err := c.r.Context().Err(); err != nil {
		return asError(err)
	}
	c.writeHeader()
	flush(c.w)
	return nil
}

func (c *grpcHandlerConn) setCompression(name string) error {
	return c.rc.choose(c.h.compressions, &c.m, &c.respEnc, c.wroteHeader, name)
}

func (c *grpcHandlerConn) writeHeader() {
	if c.wroteHeader {
		return
	}
	c.wroteHeader = true
	h := c.w.Header()
	h["Content-Type"] = c.contentType[:]
	if c.accept[0] != "" {
		h[grpcwire.HeaderAcceptEncoding] = c.accept[:]
	}
	if c.respEnc != "" {
		c.encoding[0] = c.respEnc
		h[grpcwire.HeaderEncoding] = c.encoding[:]
	}
	c.w.WriteHeader(http.StatusOK)
	if c.flushEach {
		c.out = newStreamWriter(c.ctx, c.r.Context(), c.w)
	}
}

func (c *grpcHandlerConn) abandon() {
	if c.out != nil {
		c.out.abandon()
	}
}

func (c *grpcHandlerConn) finish(err error) {
	c.reader.release()
	if c.buf != nil {
		putBuffer(c.buf)
		c.buf = nil
	}
	var e *Error
	if err != nil {
		e = asError(err)
	}
	if c.r.ProtoMajor == 1 && c.h.spec.StreamType == StreamTypeBidi && !c.reqEOF {
		// Full duplex over HTTP/1.1 makes net/http leave an unread request
		// body alone until the handler returns, and discarding it then
		// breaks the connection's next request. Close the connection if
		// headers can still say so, else drain the body once the response
		// is complete.
		if !c.wroteHeader {
			c.w.Header()["Connection"] = headerClose
		} else {
			defer c.drainRequest()
		}
	}
	if e != nil && !c.wroteHeader && len(c.w.Header()) == 0 {
		// Trailers-only, unless the handler set headers: clients such as
		// grpc-go report everything in a trailers-only response as
		// trailers, and the headers would be lost to them.
		c.fail(e)
		return
	}
	c.writeHeader()
	if c.variant != grpcwire.Plain {
		buf := getBuffer()
		appendGRPCWebTrailers(buf, e, c.info.resTrailer)
		_ = c.write(buf.Bytes(), true)
		putBuffer(buf)
		if c.out != nil {
			_ = c.out.close()
		}
		return
	}
	if c.out != nil {
		// Drain the queue before touching the header map again.
		_ = c.out.close()
	}
	// HTTP/2 trailers: net/http sends keys with the TrailerPrefix after the
	// body, without any prior Trailer declaration.
	h := c.w.Header()
	setGRPCStatus(h, e, true)
	for k, vs := range c.info.resTrailer {
		if !isProtocolHeader(k) {
			h[http.TrailerPrefix+k] = vs
		}
	}
	if e != nil {
		for k, vs := range e.meta {
			if !isProtocolHeader(k) {
				h[http.TrailerPrefix+k] = append(h[http.TrailerPrefix+k], vs...)
			}
		}
	}
}

// drainRequest reads the rest of the request body, after the response's
// last frame has been flushed, so the client knows the call is over and
// stops sending.
func (c *grpcHandlerConn) drainRequest() {
	flush(c.w)
	_, _ = io.Copy(io.Discard, c.r.Body)
}

// fail answers with a trailers-only response: the status, the trailers and
// the error's metadata all travel in the headers, with no body.
func (c *grpcHandlerConn) fail(e *Error) {
	c.wroteHeader = true
	h := c.w.Header()
	for k, vs := range c.info.resTrailer {
		if !isProtocolHeader(k) {
			h[k] = append(h[k], vs...)
		}
	}
	for k, vs := range e.meta {
		if !isProtocolHeader(k) {
			h[k] = append(h[k], vs...)
		}
	}
	h["Content-Type"] = c.contentType[:]
	if c.accept[0] != "" {
		h[grpcwire.HeaderAcceptEncoding] = c.accept[:]
	}
	delete(h, grpcwire.HeaderEncoding)
	setGRPCStatus(h, e, false)
	c.w.WriteHeader(http.StatusOK)
}

// grpcWriteUnimplemented answers a gRPC or gRPC-Web request for an unknown
// procedure with a trailers-only UNIMPLEMENTED.
func grpcWriteUnimplemented(w http.ResponseWriter, r *http.Request, contentType string) {
	if _, _, ok := grpcwire.ParseContentType(contentType); !ok {
		writeUnknownProcedure(w, r)
		return
	}
	h := w.Header()
	h["Content-Type"] = []string{contentType}
	setGRPCStatus(h, errorf(CodeUnimplemented, "unknown procedure "+r.URL.Path), false)
	w.WriteHeader(http.StatusOK)
}
