package rpc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

var (
	headerTrailers   = []string{"trailers"}
	headerOne        = []string{"1"}
	headerGRPCUA     = []string{"grpc-go-polyconnect/dev"}
	headerGRPCWebUA  = []string{"grpc-web-go-polyconnect/dev"}
	errTrailersFrame = errorf(CodeInternal, "protocol error: gRPC response carries a gRPC-Web trailers frame")
)

// grpcClient is the client side of gRPC (web false) and gRPC-Web for one
// procedure. gRPC needs an HTTPClient that speaks HTTP/2 (h2 over TLS, or h2c
// with prior knowledge): the status travels in HTTP trailers, and an
// HTTP/1.1 server answers a gRPC request with an error. gRPC-Web works over
// any HTTP version.
type grpcClient struct {
	p           *clientParams
	web         bool
	text        bool // gRPC-Web text: requests go base64-encoded
	name        string
	contentType []string
	accept      []string
	sendEnc     []string
	userAgent   []string
	host        string
	body        knownLengthBody
}

func newGRPCClient(p *clientParams, web bool) *grpcClient {
	c := &grpcClient{p: p, web: web, name: protocolNameGRPC, userAgent: headerGRPCUA}
	prefix := grpcwire.ContentType
	if web {
		c.name = protocolNameGRPCWeb
		c.userAgent = headerGRPCWebUA
		prefix = grpcwire.WebContentType
		if p.grpcWebText {
			c.text = true
			prefix = grpcwire.WebTextContentType
		}
	}
	if !web && p.codec.Name() == codecNameProto {
		c.contentType = []string{grpcwire.ContentType}
	} else {
		c.contentType = []string{prefix + "+" + p.codec.Name()}
	}
	if p.comps.accept != "" {
		c.accept = []string{p.comps.accept}
	}
	if p.sendName != "" {
		c.sendEnc = []string{p.sendName}
	}
	if p.url != nil {
		c.host = p.url.Host
	}
	return c
}

func (c *grpcClient) newRequest(ctx context.Context, info *CallInfo) (*http.Request, *Error) {
	h := attemptRequestHeader(info, 8)
	h["Content-Type"] = c.contentType
	if c.web {
		h["X-Grpc-Web"] = headerOne
	} else {
		h["Te"] = headerTrailers
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = c.userAgent
	}
	if c.accept != nil {
		h[grpcwire.HeaderAcceptEncoding] = c.accept
	}
	if c.sendEnc != nil {
		h[grpcwire.HeaderEncoding] = c.sendEnc
	}
	if deadline, ok := ctx.Deadline(); ok {
		d := time.Until(deadline)
		if d <= 0 {
			return nil, errorf(CodeDeadlineExceeded, "deadline exceeded before the call started")
		}
		h[grpcwire.HeaderTimeout] = []string{grpcwire.EncodeTimeout(d)}
	}
	return newAttemptRequest(ctx, http.MethodPost, c.p.url, c.host, h), nil
}

func (c *grpcClient) marshaler() marshaler {
	return marshaler{codec: c.p.codec, comp: c.p.sendComp, sendMax: c.p.sendMax, compressMin: c.p.compressMin}
}

// unary sends the single request envelope from a pooled buffer and reads the
// response on the calling goroutine.
func (c *grpcClient) unary(ctx context.Context, info *CallInfo, req, res any) error {
	buf := getBuffer()
	m := c.marshaler()
	m.sizes = info.sentSize()
	if err := m.marshalEnvelope(buf, req, 0); err != nil {
		putBuffer(buf)
		return err
	}
	hreq, rerr := c.newRequest(ctx, info)
	if rerr != nil {
		putBuffer(buf)
		return rerr
	}
	var body *payloadBody
	if c.web {
		if c.text {
			buf = encodeBase64Buffer(buf)
		}
		body = c.body.set(hreq, buf)
	} else {
		// Over HTTP/2 the body's end is the END_STREAM flag; gRPC peers do
		// not look for a Content-Length. The body returns io.EOF with its
		// last bytes, so the message and END_STREAM share one DATA frame.
		body = newPayloadBody(buf)
		hreq.Body = body
		hreq.GetBody = body.getBody
		hreq.ContentLength = -1
	}
	resp, derr := c.p.httpClient.Do(hreq)
	if body != nil {
		body.release()
	}
	if derr != nil {
		return transportError(ctx, derr)
	}
	if c.web {
		c.body.observe(resp)
	}
	defer resp.Body.Close()
	// The reader's state escapes (its prefix buffer goes through an
	// io.Reader), so it is pooled rather than allocated per call.
	r := grpcResponsePool.Get().(*grpcResponse)
	defer r.free()
	if err := r.init(ctx, c, info, resp); err != nil {
		return err
	}
	if ok, err := r.frame(); !ok {
		if err == io.EOF {
			return errorf(CodeUnimplemented, "protocol error: the server sent no response message to a unary call")
		}
		return err
	}
	if err := r.unmarshal(res); err != nil {
		return err
	}
	if ok, err := r.frame(); ok {
		return errorf(CodeUnimplemented, "protocol error: the server sent more than one response message to a unary call")
	} else if err != io.EOF {
		return err
	}
	return nil
}

// grpcResponse reads a gRPC or gRPC-Web response: headers, messages, then
// the status from HTTP trailers, a gRPC-Web trailers frame, or the headers of
// a trailers-only response.
type grpcResponse struct {
	ctx    context.Context
	c      *grpcClient
	info   *CallInfo // may be nil for unary calls
	resp   *http.Response
	reader envelopeReader
	u      unmarshaler
	buf    *buffer
	flags  byte
	// headerStatus: the headers carry a grpc-status, so the response may be
	// trailers-only; it is, if the body turns out empty.
	headerStatus bool
	// codecMismatch: the response's codec is not ours. Acceptable only for
	// a trailers-only response, which has no message to decode.
	codecMismatch bool
	gotFrame      bool
	// ended: the body ended, or a gRPC-Web trailers frame was read.
	ended bool
}

// init validates the response headers.
func (r *grpcResponse) init(ctx context.Context, c *grpcClient, info *CallInfo, resp *http.Response) *Error {
	r.ctx, r.c, r.info, r.resp = ctx, c, info, resp
	adoptResponseHeader(info, resp.Header, false)
	_, r.headerStatus = resp.Header[grpcwire.HeaderStatus]
	if resp.StatusCode != http.StatusOK {
		// Not a gRPC response: an intermediary, or a server that does not
		// speak gRPC. A status it carries wins over the HTTP status.
		if r.headerStatus {
			if e, _ := grpcStatusFromHeader(resp.Header); e != nil {
				e.meta = resp.Header.Clone()
				return e
			}
		}
		return &Error{code: CodeFromHTTPStatus(resp.StatusCode), msg: "HTTP status " + resp.Status, wire: true, meta: resp.Header.Clone()}
	}
	ct := resp.Header.Get("Content-Type")
	variant, codecName, ok := grpcwire.ParseContentType(ct)
	if !ok || (variant != grpcwire.Plain) != c.web {
		return &Error{code: CodeFromHTTPStatus(resp.StatusCode), msg: "unexpected response content type " + strconv.Quote(ct), wire: true, meta: resp.Header.Clone()}
	}
	if codecName != c.p.codec.Name() {
		if !r.headerStatus {
			return errorf(CodeInternal, "protocol error: response codec "+strconv.Quote(codecName)+" differs from the request's "+strconv.Quote(c.p.codec.Name()))
		}
		r.codecMismatch = true
	}
	r.u = unmarshaler{codec: c.p.codec, readMax: c.p.readMax, sizes: info.receivedSize()}
	if enc := resp.Header.Get(grpcwire.HeaderEncoding); enc != "" && enc != compressionIdentity {
		if r.u.comp = c.p.comps.get(enc); r.u.comp == nil {
			return errorf(CodeInternal, "protocol error: response uses unknown compression "+strconv.Quote(enc))
		}
	}
	var body io.Reader = resp.Body
	if variant == grpcwire.WebText {
		body = newBase64StreamReader(resp.Body, false)
	}
	r.reader = envelopeReader{r: body, limit: c.p.readMax, buffered: c.p.spec.StreamType&StreamTypeServer != 0}
	r.buf = getBuffer()
	return nil
}

func (r *grpcResponse) release() {
	if r.buf != nil {
		putBuffer(r.buf)
		r.buf = nil
	}
}

var grpcResponsePool = sync.Pool{New: func() any { return new(grpcResponse) }}

// free releases the buffer and returns a pooled reader to the pool.
func (r *grpcResponse) free() {
	r.release()
	*r = grpcResponse{}
	grpcResponsePool.Put(r)
}

// frame reads the next envelope. It reports true when a message is in r.buf;
// otherwise the call is over and err is io.EOF (status OK) or the status.
func (r *grpcResponse) frame() (bool, error) {
	flags, err := r.reader.read(r.buf)
	if err != nil {
		if err == io.EOF {
			r.ended = true
			return false, r.end()
		}
		return false, transportError(r.ctx, err)
	}
	r.gotFrame = true
	if flags&flagGRPCWebTrail != 0 {
		if !r.c.web {
			return false, errTrailersFrame
		}
		r.ended = true
		return false, r.webTrailers(flags)
	}
	if flags&^flagCompressed != 0 {
		return false, errorf(CodeInternal, "protocol error: invalid envelope flags 0x"+strconv.FormatUint(uint64(flags), 16))
	}
	if r.codecMismatch {
		return false, errorf(CodeInternal, "protocol error: response codec differs from the request's")
	}
	if flags&flagCompressed != 0 && r.u.comp == nil {
		return false, errorf(CodeInternal, "protocol error: compressed message without a grpc-encoding")
	}
	r.flags = flags
	return true, nil
}

func (r *grpcResponse) unmarshal(msg any) error {
	return r.u.unmarshal(r.buf.Bytes(), r.flags&flagCompressed != 0, msg)
}

// end finds the status once the body has ended.
func (r *grpcResponse) end() error {
	if hasHeaderValues(r.resp.Trailer) {
		return r.status(r.resp.Trailer, false)
	}
	if !r.gotFrame && r.headerStatus {
		return r.status(r.resp.Header, true)
	}
	if r.c.web {
		return errorf(CodeInternal, "protocol error: the response ended without a trailers frame")
	}
	return errorf(CodeInternal, "protocol error: the response ended without trailers (a proxy may have dropped them)")
}

// webTrailers decodes a gRPC-Web trailers frame.
func (r *grpcResponse) webTrailers(flags byte) error {
	block := r.buf.Bytes()
	if flags&flagCompressed != 0 {
		if r.u.comp == nil {
			return errorf(CodeInternal, "protocol error: compressed trailers without a grpc-encoding")
		}
		out := getBuffer()
		defer putBuffer(out)
		limit := r.c.p.readMax
		if limit > 0 && limit < controlFrameMinLimit {
			limit = controlFrameMinLimit
		}
		if err := r.u.comp.decompress(out, block, limit); err != nil {
			return errorf(CodeInternal, "protocol error: decompress trailers: "+err.Error())
		}
		block = out.Bytes()
	}
	f, meta, err := parseGRPCWebTrailers(block)
	if err != nil {
		return err
	}
	return r.result(f, meta, false)
}

// status turns the trailers h into the call's result. trailersOnly says h
// is the response's only header block. h is left as it is.
func (r *grpcResponse) status(h http.Header, trailersOnly bool) error {
	return r.result(grpcwire.StatusFieldsOf(h), h, trailersOnly)
}

// result turns status entries and the trailers that came with them into the
// call's result: io.EOF for OK, else the error.
func (r *grpcResponse) result(f grpcwire.StatusFields, trailer http.Header, trailersOnly bool) error {
	e, found := grpcStatusError(f)
	if r.info != nil {
		if hasGRPCMetadata(trailer, trailersOnly) {
			copyGRPCMetadata(r.info.ResponseTrailer(), trailer, trailersOnly)
		}
		if trailersOnly && !r.c.web {
			// Over HTTP/2 the one header block of a trailers-only response
			// is trailers: its metadata is reported there only, as gRPC
			// peers do. gRPC-Web clients (and the conformance suite) keep
			// it in the headers too. trailer is the response's header map,
			// which must keep its entries.
			ownResponseHeader(r.info)
			for k := range trailer {
				switch k {
				case "Content-Type", "Content-Length", "Date", grpcwire.HeaderEncoding, grpcwire.HeaderAcceptEncoding:
				default:
					delete(r.info.resHeader, k)
				}
			}
		}
	}
	if !found {
		e = errorf(CodeUnknown, "protocol error: trailers without a grpc-status")
	}
	if e == nil {
		return io.EOF
	}
	if e.code == CodeCanceled && errors.Is(r.ctx.Err(), context.DeadlineExceeded) {
		// The server saw our deadline pass before we did.
		e = errorf(CodeDeadlineExceeded, e.msg)
	}
	e.meta = r.resp.Header.Clone()
	if !trailersOnly {
		copyGRPCMetadata(e.meta, trailer, false)
	}
	return e
}

// copyGRPCMetadata adds the metadata of trailers src to dst, leaving out
// the status; from the one block of a trailers-only response it also leaves
// out what only describes the body.
func copyGRPCMetadata(dst, src http.Header, trailersOnly bool) {
	for k, vs := range src {
		if isGRPCMetadata(k, trailersOnly) {
			dst[k] = append(dst[k], vs...)
		}
	}
}

// hasGRPCMetadata reports whether copyGRPCMetadata would copy anything
// from src, so that a call's trailer map is made only for metadata.
func hasGRPCMetadata(src http.Header, trailersOnly bool) bool {
	for k := range src {
		if isGRPCMetadata(k, trailersOnly) {
			return true
		}
	}
	return false
}

// isGRPCMetadata reports whether the trailer key k is metadata rather than
// the status or (for a trailers-only response) a header of the response.
func isGRPCMetadata(k string, trailersOnly bool) bool {
	switch k {
	case grpcwire.HeaderStatus, grpcwire.HeaderMessage, grpcwire.HeaderDetails:
		return false
	case "Content-Type", "Content-Length", "Date", grpcwire.HeaderEncoding, grpcwire.HeaderAcceptEncoding:
		return !trailersOnly
	}
	return true
}

func hasHeaderValues(h http.Header) bool {
	for _, vs := range h {
		if len(vs) > 0 {
			return true
		}
	}
	return false
}

func (c *grpcClient) stream(ctx context.Context, info *CallInfo) StreamingClientConn {
	s := &grpcClientStream{c: c}
	m := c.marshaler()
	m.sizes = info.sentSize()
	s.init(ctx, info, c.p.httpClient, m, s)
	s.base64 = c.text
	s.newRequest = func() (*http.Request, *Error) { return c.newRequest(s.ctx, s.info) }
	s.doError = transportError
	return s
}

// grpcClientStream is the client side of a gRPC or gRPC-Web streaming call:
// the shared duplexCall sends, and grpcResponse reads.
type grpcClientStream struct {
	duplexCall
	c *grpcClient
	r grpcResponse
}

func (s *grpcClientStream) Spec() Spec { return s.c.p.spec }

// begin implements streamReader.
func (s *grpcClientStream) begin(resp *http.Response) error {
	if err := s.r.init(s.ctx, s.c, s.info, resp); err != nil {
		return err
	}
	return nil
}

// next implements streamReader.
func (s *grpcClientStream) next(msg any) error {
	if ok, err := s.r.frame(); !ok {
		return err
	}
	return s.r.unmarshal(msg)
}

// release implements streamReader.
func (s *grpcClientStream) release() { s.r.release() }

// ended implements streamReader.
func (s *grpcClientStream) ended() bool { return s.r.ended }
