package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"polyconnect.dev/protocol/rpc/internal/connectwire"
	"polyconnect.dev/protocol/rpc/internal/envelope"
)

// smallResponse is the body size under which net/http sets Content-Length
// for a handler that writes its whole response at once (HTTP/1.1 and HTTP/2).
const smallResponse = 2048

var (
	headerClose           = []string{"close"}
	headerJSONContentType = []string{"application/json"}
	headerVersion1        = []string{"1"}
)

type connectHandlerProtocol struct{}

func (connectHandlerProtocol) handles(r *http.Request) bool {
	if r.Method == http.MethodGet {
		return true
	}
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, connectwire.UnaryPrefix) && !strings.HasPrefix(ct, "application/grpc")
}

// connectHandlerConn is the server side of one Connect call, unary or
// streaming.
type connectHandlerConn struct {
	lr       io.LimitedReader // bounds unary request bodies without an allocation
	ctx      context.Context  // the call's: the request's, with the timeout
	h        *Handler
	w        http.ResponseWriter
	r        *http.Request
	info     CallInfo
	hctx     handlerContext // the call's context, once bound
	stream   bool
	codec    Codec
	m        marshaler
	u        unmarshaler
	reader   envelopeReader
	getMsg   []byte // GET: the decoded message
	received bool   // unary: the single request was read
	reqEOF   bool   // streams: the request body was read to its end
	wrote    bool   // headers written
	out      *streamWriter
	resBody  *buffer
	resComp  bool
	respEnc  string
	rc       responseCompression
	buf      *buffer
	deadline bodyDeadline
}

func (connectHandlerProtocol) newConn(h *Handler, w http.ResponseWriter, r *http.Request) (handlerConn, time.Duration) {
	c := &connectHandlerConn{h: h, w: w, r: r, ctx: r.Context()}
	c.info = CallInfo{
		spec:      h.spec,
		protocol:  ProtocolConnect,
		method:    r.Method,
		host:      r.Host,
		peer:      Peer{Addr: r.RemoteAddr, Protocol: ProtocolConnect, TLS: r.TLS},
		reqHeader: r.Header,
		resHeader: w.Header(),
	}
	isStreamType := h.spec.StreamType != StreamTypeUnary
	var reqEncoding, acceptEncoding string
	if r.Method == http.MethodGet {
		if !h.allowGet {
			w.Header()["Allow"] = allowPost
			w.WriteHeader(http.StatusMethodNotAllowed)
			return nil, 0
		}
		q, qerr := url.ParseQuery(r.URL.RawQuery)
		c.info.peer.Query = q
		if qerr != nil {
			// A malformed query (a bad escape such as %ZZ) must not read
			// as an empty message.
			c.codec = protoJSONCodec{name: codecNameJSON}
			c.writeUnaryError(errorf(CodeInvalidArgument, "malformed query: "+qerr.Error()))
			return nil, 0
		}
		codec := h.codecs.get(q.Get("encoding"))
		if codec == nil {
			c.codec = protoJSONCodec{name: codecNameJSON}
			c.writeUnaryError(errorf(CodeInvalidArgument, "missing or unsupported encoding query parameter "+strconv.Quote(q.Get("encoding"))))
			return nil, 0
		}
		c.codec = codec
		if v := q.Get("connect"); v != "" && v != "v1" {
			c.writeUnaryError(errorf(CodeInvalidArgument, "connect query parameter must be v1, got "+strconv.Quote(v)))
			return nil, 0
		} else if v == "" && h.requireVer {
			c.writeUnaryError(errorf(CodeInvalidArgument, "missing connect=v1 query parameter"))
			return nil, 0
		}
		msg := q.Get("message")
		if q.Get("base64") == "1" {
			b, err := decodeBase64(msg)
			if err != nil {
				c.writeUnaryError(errorf(CodeInvalidArgument, "message query parameter is not valid base64: "+err.Error()))
				return nil, 0
			}
			c.getMsg = b
		} else {
			c.getMsg = []byte(msg)
		}
		reqEncoding = q.Get("compression")
		acceptEncoding = r.Header.Get("Accept-Encoding")
	} else {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, connectwire.StreamPrefix) {
			c.stream = true
			c.codec = h.codecs.get(connectwire.CodecName(ct, connectwire.StreamPrefix))
		} else {
			c.codec = h.codecs.get(connectwire.CodecName(ct, connectwire.UnaryPrefix))
		}
		if c.codec == nil || c.stream != isStreamType {
			h.writeUnsupportedMediaType(w, ct)
			return nil, 0
		}
		if c.stream {
			reqEncoding = r.Header.Get(connectwire.StreamEncoding)
			acceptEncoding = r.Header.Get(connectwire.StreamAccept)
		} else {
			reqEncoding = r.Header.Get("Content-Encoding")
			acceptEncoding = r.Header.Get("Accept-Encoding")
		}
		if v := r.Header.Get(connectwire.VersionHeader); v != "" && v != "1" {
			c.failEarly(errorf(CodeInvalidArgument, "Connect-Protocol-Version must be 1, got "+strconv.Quote(v)))
			return nil, 0
		} else if v == "" && h.requireVer {
			c.failEarly(errorf(CodeInvalidArgument, "missing Connect-Protocol-Version header"))
			return nil, 0
		}
	}
	c.m = marshaler{codec: c.codec, sendMax: h.sendMax, compressMin: h.compressMin, sizes: &c.info.wire.sent}
	c.u = unmarshaler{codec: c.codec, readMax: h.readMax, server: true, sizes: &c.info.wire.received}
	if !h.compressions.supports(reqEncoding) {
		c.failEarly(h.compressions.unsupportedError(reqEncoding))
		return nil, 0
	}
	c.u.comp = h.compressions.get(reqEncoding)
	c.rc.accept = acceptEncoding
	c.info.compression = c
	if c.respEnc = h.compressions.negotiate(acceptEncoding); c.respEnc != "" {
		c.m.comp = h.compressions.get(c.respEnc)
	}
	var timeout time.Duration
	if v := r.Header.Get(connectwire.TimeoutHeader); v != "" {
		var terr *Error
		if timeout, terr = parseConnectTimeout(v); terr != nil {
			c.failEarly(terr)
			return nil, 0
		}
		if r.Method != http.MethodGet {
			// Body reads must not outlive the deadline, even if the
			// client never cancels.
			c.deadline.start(w, timeout)
		}
	}
	if c.stream {
		c.info.sendHeader = c.sendHeaderNow
		c.reader = envelopeReader{r: r.Body, limit: h.readMax, server: true, buffered: h.spec.StreamType&StreamTypeClient != 0}
		if h.spec.StreamType == StreamTypeBidi {
			_ = http.NewResponseController(w).EnableFullDuplex()
		}
	}
	return c, timeout
}

// parseConnectTimeout parses a Connect-Timeout-Ms value: 1 to 10 ASCII
// digits, nothing else (no sign, no spaces). Zero means the deadline has
// already passed.
func parseConnectTimeout(v string) (time.Duration, *Error) {
	if len(v) == 0 || len(v) > 10 {
		return 0, errorf(CodeInvalidArgument, "invalid Connect-Timeout-Ms "+strconv.Quote(v))
	}
	var ms int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, errorf(CodeInvalidArgument, "invalid Connect-Timeout-Ms "+strconv.Quote(v))
		}
		ms = ms*10 + int64(c-'0')
	}
	if ms == 0 {
		return 0, errorf(CodeDeadlineExceeded, "the request's timeout expired before it arrived")
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// failEarly reports an error found while validating the request.
func (c *connectHandlerConn) failEarly(err *Error) {
	if c.stream {
		c.finish(err)
		return
	}
	c.writeUnaryError(err)
}

func (c *connectHandlerConn) bindContext(parent context.Context) context.Context {
	c.hctx = handlerContext{Context: parent, info: &c.info}
	c.ctx = &c.hctx
	return c.ctx
}
func (c *connectHandlerConn) Spec() Spec                 { return c.info.spec }
func (c *connectHandlerConn) Peer() Peer                 { return c.info.peer }
func (c *connectHandlerConn) RequestHeader() http.Header { return c.info.reqHeader }
func (c *connectHandlerConn) ResponseHeader() http.Header {
	return c.info.resHeader
}
func (c *connectHandlerConn) ResponseTrailer() http.Header { return c.info.ResponseTrailer() }

func (c *connectHandlerConn) Receive(msg any) error {
	if !c.stream {
		return c.receiveUnary(msg)
	}
	if c.buf == nil {
		c.buf = getBuffer()
	}
	if c.h.spec.StreamType == StreamTypeServer {
		return c.receiveSingle(msg)
	}
	return c.receiveEnvelope(msg)
}

func (c *connectHandlerConn) receiveEnvelope(msg any) error {
	flags, err := c.reader.read(c.buf)
	if err != nil {
		if errors.Is(err, io.EOF) {
			c.reqEOF = true
			c.deadline.done(c.w)
			return io.EOF
		}
		return handlerReadError(c.ctx, &c.deadline, err)
	}
	if flags&flagEndStream != 0 {
		return errorf(CodeInvalidArgument, "protocol error: client sent an end-of-stream message")
	}
	return c.u.unmarshal(c.buf.Bytes(), flags&flagCompressed != 0, msg)
}

// receiveSingle reads the one request of a server-streaming call and checks
// that the body ends after it: none or more than one is a protocol error.
func (c *connectHandlerConn) receiveSingle(msg any) error {
	if c.received {
		return io.EOF
	}
	c.received = true
	if err := c.receiveEnvelope(msg); err != nil {
		if errors.Is(err, io.EOF) {
			return errorf(CodeUnimplemented, "protocol error: server-streaming call without a request message")
		}
		return err
	}
	if _, err := c.reader.read(c.buf); err != nil {
		if errors.Is(err, io.EOF) {
			c.reqEOF = true
			c.deadline.done(c.w)
			return nil
		}
		return handlerReadError(c.ctx, &c.deadline, err)
	}
	return errorf(CodeUnimplemented, "protocol error: server-streaming call with more than one request message")
}

func (c *connectHandlerConn) receiveUnary(msg any) error {
	if c.received {
		return io.EOF
	}
	c.received = true
	compressed := c.u.comp != nil
	if c.r.Method == http.MethodGet {
		return c.u.unmarshal(c.getMsg, compressed, msg)
	}
	if c.h.readMax > 0 && c.r.ContentLength > c.h.readMax && !compressed {
		return errorf(CodeResourceExhausted, "request size "+strconv.FormatInt(c.r.ContentLength, 10)+" exceeds the limit of "+strconv.FormatInt(c.h.readMax, 10)+" bytes")
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if c.r.ContentLength > 0 && c.r.ContentLength <= 1<<20 {
		buf.Grow(int(c.r.ContentLength))
	}
	var body io.Reader = c.r.Body
	if c.h.readMax > 0 {
		c.lr = io.LimitedReader{R: body, N: c.h.readMax + 1}
		body = &c.lr
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return handlerReadError(c.ctx, &c.deadline, err)
	}
	c.deadline.done(c.w)
	if c.h.readMax > 0 && int64(buf.Len()) > c.h.readMax {
		return errorf(CodeResourceExhausted, "request exceeds the limit of "+strconv.FormatInt(c.h.readMax, 10)+" bytes")
	}
	return c.u.unmarshal(buf.Bytes(), compressed, msg)
}

func (c *connectHandlerConn) Send(msg any) error {
	if !c.stream {
		if c.resBody != nil {
			return errorf(CodeInternal, "unary handler sent more than one response")
		}
		buf := getBuffer()
		compressed, err := c.m.marshal(buf, msg)
		if err != nil {
			putBuffer(buf)
			return err
		}
		c.resBody, c.resComp = buf, compressed
		return nil
	}
	if err := c.ctx.Err(); err != nil {
		return asError(err)
	}
	c.writeStreamHeader()
	buf := getBuffer()
	defer putBuffer(buf)
	if err := c.m.marshalEnvelope(buf, msg, 0); err != nil {
		return err
	}
	return c.out.write(buf.Bytes())
}

// sendHeaderNow writes and flushes the stream's headers if no message has
// done so. The stream writer is idle until the first message, so flushing
// here does not race with it.
func (c *connectHandlerConn) sendHeaderNow() error {
	if c.wrote {
		return nil
	}
	if err := c.r.Context().Err(); err != nil {
		return asError(err)
	}
	c.writeStreamHeader()
	flush(c.w)
	return nil
}

func (c *connectHandlerConn) setCompression(name string) error {
	return c.rc.choose(c.h.compressions, &c.m, &c.respEnc, c.stream && c.wrote, name)
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *connectHandlerConn) writeStreamHeader() {
	if c.wrote {
		return
	}
	c.wrote = true
	h := c.w.Header()
	h["Content-Type"] = []string{connectwire.StreamPrefix + c.codec.Name()}
	if c.respEnc != "" {
		h[connectwire.StreamEncoding] = []string{c.respEnc}
	}
	h[connectwire.StreamAccept] = []string{c.h.compressions.acceptWithIdentity()}
	c.w.WriteHeader(http.StatusOK)
	c.out = newStreamWriter(c.ctx, c.r.Context(), c.w)
}

func (c *connectHandlerConn) abandon() {
	if c.out != nil {
		c.out.abandon()
	}
}

func (c *connectHandlerConn) finish(err error) {
	c.reader.release()
	if c.buf != nil {
		putBuffer(c.buf)
		c.buf = nil
	}
	if c.stream {
		c.finishStream(err)
		return
	}
	if err != nil {
		if c.resBody != nil {
			putBuffer(c.resBody)
			c.resBody = nil
		}
		c.writeUnaryError(asError(err))
		return
	}
	h := c.w.Header()
	for k, vs := range c.info.resTrailer {
		h[connectwire.UnaryTrailerPrefix+k] = vs
	}
	if c.resBody == nil {
		c.writeUnaryError(errorf(CodeInternal, "unary handler sent no response"))
		return
	}
	h["Content-Type"] = c.unaryContentType()
	if c.resComp {
		h["Content-Encoding"] = []string{c.respEnc}
	}
	if c.resBody.Len() >= smallResponse {
		// Below this size net/http computes Content-Length itself, since
		// the whole body is written before the handler returns.
		h["Content-Length"] = []string{strconv.Itoa(c.resBody.Len())}
	}
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(c.resBody.Bytes())
	putBuffer(c.resBody)
	c.resBody = nil
}

var (
	headerProtoContentType = []string{"application/proto"}
)

func (c *connectHandlerConn) unaryContentType() []string {
	switch c.codec.Name() {
	case codecNameProto:
		return headerProtoContentType
	case codecNameJSON:
		return headerJSONContentType
	}
	return []string{connectwire.UnaryPrefix + c.codec.Name()}
}

// writeUnaryError writes a Connect unary error response.
func (c *connectHandlerConn) writeUnaryError(e *Error) {
	h := c.w.Header()
	for k, vs := range e.meta {
		if !isProtocolHeader(k) {
			h[k] = append(h[k], vs...)
		}
	}
	for k, vs := range c.info.resTrailer {
		h[connectwire.UnaryTrailerPrefix+k] = vs
	}
	body := marshalConnectError(e)
	h["Content-Type"] = headerJSONContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	delete(h, "Content-Encoding")
	c.w.WriteHeader(e.code.HTTPStatus())
	_, _ = c.w.Write(body)
}

// drainRequest reads what is left of the request body after the response
// has been written and flushed.
func (c *connectHandlerConn) drainRequest() {
	flush(c.w)
	_, _ = io.Copy(io.Discard, c.r.Body)
}

func (c *connectHandlerConn) finishStream(err error) {
	if !c.reqEOF && c.r.ProtoMajor == 1 && c.h.spec.StreamType == StreamTypeBidi {
		// Full duplex over HTTP/1.1 makes net/http leave an unread request
		// body alone until the handler returns, and discarding it then
		// breaks the connection's next request. Close the connection if
		// headers can still say so, else drain the body once the response
		// is complete.
		if !c.wrote {
			c.w.Header()["Connection"] = headerClose
		} else {
			defer c.drainRequest()
		}
	}
	c.writeStreamHeader()
	end := connectwire.EndStream{}
	trailer := c.info.resTrailer
	if err != nil {
		e := asError(err)
		end.Error = toConnectWireError(e)
		if len(e.meta) > 0 {
			merged := make(http.Header, len(trailer)+len(e.meta))
			mergeHeaders(merged, trailer)
			mergeHeaders(merged, e.meta)
			trailer = merged
		}
	}
	if len(trailer) > 0 {
		end.Metadata = trailer
	}
	payload, jerr := json.Marshal(end)
	if jerr != nil {
		payload = []byte(`{"error":{"code":"internal","message":"marshal end of stream"}}`)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	var hdr [envelopePrefix]byte
	buf.Write(hdr[:])
	buf.Write(payload)
	envelope.PutPrefix(buf.Bytes(), flagEndStream)
	_ = c.out.final(buf.Bytes())
	_ = c.out.close()
}
