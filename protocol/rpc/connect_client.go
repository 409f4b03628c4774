package rpc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"polyconnect.dev/protocol/rpc/internal/connectwire"
)

type connectClient struct {
	p              *clientParams
	unaryCT        []string
	streamCT       []string
	acceptEncoding []string
	streamAccept   []string
	sendEncoding   []string
	useGet         bool
	host           string
	body           knownLengthBody
}

func newConnectClient(p *clientParams) protocolClient {
	c := &connectClient{p: p}
	c.unaryCT = []string{connectwire.UnaryPrefix + p.codec.Name()}
	c.streamCT = []string{connectwire.StreamPrefix + p.codec.Name()}
	c.acceptEncoding = []string{p.comps.acceptWithIdentity()}
	c.streamAccept = c.acceptEncoding
	if p.sendName != "" {
		c.sendEncoding = []string{p.sendName}
	}
	c.useGet = !p.noGet && p.spec.StreamType == StreamTypeUnary && p.spec.IdempotencyLevel == IdempotencyNoSideEffects
	if p.url != nil {
		c.host = p.url.Host
	}
	return c
}

// timeoutHeader returns the Connect-Timeout-Ms value for ctx's deadline.
func connectTimeout(ctx context.Context) (string, bool, *Error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return "", false, nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return "", false, errorf(CodeDeadlineExceeded, "deadline exceeded before the call started")
	}
	ms := int64(d / time.Millisecond)
	if ms == 0 {
		ms = 1
	}
	if ms > 9_999_999_999 {
		return "", false, nil
	}
	return strconv.FormatInt(ms, 10), true, nil
}

func (c *connectClient) newRequest(ctx context.Context, info *CallInfo, method string) (*http.Request, *Error) {
	h := attemptRequestHeader(info, 6)
	h[connectwire.VersionHeader] = headerVersion1
	if t, ok, err := connectTimeout(ctx); err != nil {
		return nil, err
	} else if ok {
		h[connectwire.TimeoutHeader] = []string{t}
	}
	return newAttemptRequest(ctx, method, c.p.url, c.host, h), nil
}

func (c *connectClient) unary(ctx context.Context, info *CallInfo, req, res any) error {
	buf := getBuffer()
	m := marshaler{codec: c.p.codec, comp: c.p.sendComp, sendMax: c.p.sendMax, compressMin: c.p.compressMin, sizes: info.sentSize()}
	compressed, err := m.marshal(buf, req)
	if err != nil {
		putBuffer(buf)
		return err
	}
	if c.useGet {
		enc := ""
		if compressed {
			enc = c.p.sendName
		}
		q := connectGetQuery(c.p.codec, buf.Bytes(), enc)
		if len(c.p.urlString)+1+len(q) <= c.p.getURLMax {
			putBuffer(buf)
			return c.unaryGet(ctx, info, q, res)
		}
	}
	hreq, rerr := c.newRequest(ctx, info, http.MethodPost)
	if rerr != nil {
		putBuffer(buf)
		return rerr
	}
	h := hreq.Header
	h["Content-Type"] = c.unaryCT
	h["Accept-Encoding"] = c.acceptEncoding
	if compressed {
		h["Content-Encoding"] = c.sendEncoding
	}
	body := c.body.set(hreq, buf)
	resp, derr := c.p.httpClient.Do(hreq)
	if body != nil {
		body.release()
	}
	if derr != nil {
		return transportError(ctx, derr)
	}
	c.body.observe(resp)
	return c.readUnary(ctx, info, resp, res)
}

func (c *connectClient) unaryGet(ctx context.Context, info *CallInfo, query string, res any) error {
	hreq, rerr := c.newRequest(ctx, info, http.MethodGet)
	if rerr != nil {
		return rerr
	}
	if info != nil {
		info.method = http.MethodGet
	}
	u := *c.p.url
	u.RawQuery = query
	hreq.URL = &u
	delete(hreq.Header, connectwire.VersionHeader)
	hreq.Header["Accept-Encoding"] = c.acceptEncoding
	resp, derr := c.p.httpClient.Do(hreq)
	if derr != nil {
		return transportError(ctx, derr)
	}
	return c.readUnary(ctx, info, resp, res)
}

func (c *connectClient) readUnary(ctx context.Context, info *CallInfo, resp *http.Response, res any) error {
	defer resp.Body.Close()
	adoptResponseHeader(info, resp.Header, true)
	if resp.StatusCode != http.StatusOK {
		return c.unaryError(ctx, resp)
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, connectwire.UnaryPrefix) || connectwire.CodecName(ct, connectwire.UnaryPrefix) != c.p.codec.Name() {
		return unexpectedContentType(ct)
	}
	u := unmarshaler{codec: c.p.codec, readMax: c.p.readMax, sizes: info.receivedSize()}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != compressionIdentity {
		u.comp = c.p.comps.get(enc)
		if u.comp == nil {
			return errorf(CodeInternal, "response uses unknown compression "+strconv.Quote(enc))
		}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := readBody(ctx, buf, resp, c.p.readMax, u.comp != nil); err != nil {
		return err
	}
	return u.unmarshal(buf.Bytes(), u.comp != nil, res)
}

// unexpectedContentType is the error for a successful response whose
// Content-Type is not the one requested. A response that is not even an
// application/… type did not come from an RPC server (a proxy's page, say):
// its code is Unknown. A Connect server answering with another codec or
// stream type is broken: Internal.
func unexpectedContentType(ct string) *Error {
	code := CodeInternal
	if !strings.HasPrefix(ct, connectwire.UnaryPrefix) {
		code = CodeUnknown
	}
	return errorf(code, "unexpected response content type "+strconv.Quote(ct))
}

// readBody reads a whole response body, bounded by limit (0: none).
func readBody(ctx context.Context, buf *buffer, resp *http.Response, limit int64, compressed bool) error {
	if limit > 0 && resp.ContentLength > limit && !compressed {
		return errorf(CodeResourceExhausted, "response size "+strconv.FormatInt(resp.ContentLength, 10)+" exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes")
	}
	if n := resp.ContentLength; n >= 0 && n <= 4<<20 && (limit <= 0 || n <= limit) {
		// The length is known and within bounds: read exactly that much,
		// straight into the buffer, without a limiting reader.
		buf.Grow(int(n))
		b := buf.AvailableBuffer()[:n]
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return transportError(ctx, err)
		}
		buf.setAppended(b)
		return nil
	}
	var r io.Reader = resp.Body
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return transportError(ctx, err)
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return errorf(CodeResourceExhausted, "response exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes")
	}
	return nil
}

// parseConnectError decodes the JSON body of a Connect unary error. A JSON
// error without a valid code gets fallback, the code of the HTTP status, and
// keeps its message. ok is false when body is not a JSON error object.
func parseConnectError(body []byte, fallback Code) (e *Error, ok bool) {
	var wire connectwire.Error
	if json.Unmarshal(body, &wire) != nil {
		return nil, false
	}
	return wireToError(&wire, fallback), true
}

// unaryError decodes a non-200 Connect unary response.
func (c *connectClient) unaryError(ctx context.Context, resp *http.Response) error {
	buf := getBuffer()
	defer putBuffer(buf)
	// A body that fails half-way is a transport failure (the call's
	// deadline passing as it arrives, a lost connection), not an error
	// without details: the HTTP status alone would misname it.
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, 1<<20)); err != nil {
		return transportError(ctx, err)
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != compressionIdentity {
		if pool := c.p.comps.get(enc); pool != nil {
			out := getBuffer()
			defer putBuffer(out)
			if pool.decompress(out, buf.Bytes(), 1<<20) == nil {
				buf, out = out, buf
			}
		}
	}
	meta := resp.Header.Clone()
	code := CodeFromHTTPStatus(resp.StatusCode)
	if e, ok := parseConnectError(buf.Bytes(), code); ok {
		e.meta = meta
		return e
	}
	return &Error{code: code, msg: "HTTP status " + resp.Status, wire: true, meta: meta}
}

func (c *connectClient) stream(ctx context.Context, info *CallInfo) StreamingClientConn {
	s := &connectClientStream{c: c}
	s.init(ctx, info, c.p.httpClient, marshaler{codec: c.p.codec, comp: c.p.sendComp, sendMax: c.p.sendMax, compressMin: c.p.compressMin, sizes: info.sentSize()}, s)
	s.newRequest = s.request
	s.doError = transportError
	return s
}

// connectClientStream is the client side of a Connect streaming call: the
// shared duplexCall sends, and the stream reads the enveloped responses and
// the end-of-stream message.
type connectClientStream struct {
	duplexCall
	c *connectClient

	reader envelopeReader
	u      unmarshaler
	buf    *buffer
	end    bool // the end-of-stream message was read
}

func (s *connectClientStream) Spec() Spec { return s.c.p.spec }

// request builds the streaming request when the call starts.
func (s *connectClientStream) request() (*http.Request, *Error) {
	hreq, err := s.c.newRequest(s.ctx, s.info, http.MethodPost)
	if err != nil {
		return nil, err
	}
	h := hreq.Header
	h["Content-Type"] = s.c.streamCT
	h[connectwire.StreamAccept] = s.c.streamAccept
	if s.c.sendEncoding != nil {
		h[connectwire.StreamEncoding] = s.c.sendEncoding
	}
	return hreq, nil
}

// next implements streamReader.
func (s *connectClientStream) next(msg any) error {
	flags, err := s.reader.read(s.buf)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errorf(CodeInternal, "protocol error: stream ended without an end-of-stream message")
		}
		return transportError(s.ctx, err)
	}
	if flags&flagEndStream != 0 {
		s.end = true
		return s.endStream(flags)
	}
	return s.u.unmarshal(s.buf.Bytes(), flags&flagCompressed != 0, msg)
}

// ended implements streamReader.
func (s *connectClientStream) ended() bool { return s.end }

// begin implements streamReader.
func (s *connectClientStream) begin(resp *http.Response) error {
	adoptResponseHeader(s.info, resp.Header, false)
	if resp.StatusCode != http.StatusOK {
		return &Error{code: CodeFromHTTPStatus(resp.StatusCode), msg: "HTTP status " + resp.Status, wire: true, meta: resp.Header.Clone()}
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, connectwire.StreamPrefix) || connectwire.CodecName(ct, connectwire.StreamPrefix) != s.c.p.codec.Name() {
		return unexpectedContentType(ct)
	}
	s.u = unmarshaler{codec: s.c.p.codec, readMax: s.c.p.readMax, sizes: s.info.receivedSize()}
	if enc := resp.Header.Get(connectwire.StreamEncoding); enc != "" && enc != compressionIdentity {
		s.u.comp = s.c.p.comps.get(enc)
		if s.u.comp == nil {
			return errorf(CodeInternal, "response uses unknown compression "+strconv.Quote(enc))
		}
	}
	s.reader = envelopeReader{r: resp.Body, limit: s.c.p.readMax, buffered: s.c.p.spec.StreamType&StreamTypeServer != 0}
	s.buf = getBuffer()
	return nil
}

// endStream decodes the end-of-stream message into trailers and the status.
func (s *connectClientStream) endStream(flags byte) error {
	payload := s.buf.Bytes()
	if flags&flagCompressed != 0 {
		if s.u.comp == nil {
			return errorf(CodeInternal, "protocol error: compressed end-of-stream without compression")
		}
		out := getBuffer()
		defer putBuffer(out)
		if err := s.u.comp.decompress(out, payload, s.c.p.readMax); err != nil {
			return errorf(CodeInternal, "protocol error: decompress end-of-stream: "+err.Error())
		}
		payload = out.Bytes()
	}
	trailer, status, perr := parseConnectEndStream(payload)
	if perr != nil {
		return perr
	}
	resTrailer := s.info.ResponseTrailer()
	for k, vs := range trailer {
		resTrailer[k] = vs
	}
	if status != nil {
		status.meta = s.info.ResponseHeader().Clone()
		mergeHeaders(status.meta, resTrailer)
		return status
	}
	return io.EOF
}

// parseConnectEndStream decodes the JSON of an end-of-stream message into
// its trailers (canonical keys) and status (nil: success). perr reports a
// message that is not valid.
func parseConnectEndStream(payload []byte) (trailer http.Header, status *Error, perr *Error) {
	var end connectwire.EndStream
	if err := json.Unmarshal(payload, &end); err != nil {
		return nil, nil, errorf(CodeInternal, "protocol error: invalid end-of-stream message: "+err.Error())
	}
	if len(end.Metadata) > 0 {
		trailer = make(http.Header, len(end.Metadata))
		for k, vs := range end.Metadata {
			ck := http.CanonicalHeaderKey(k)
			trailer[ck] = append(trailer[ck], vs...)
		}
	}
	if end.Error != nil {
		status = wireToError(end.Error, CodeUnknown)
	}
	return trailer, status, nil
}

// release implements streamReader.
func (s *connectClientStream) release() {
	if s.buf != nil {
		putBuffer(s.buf)
		s.buf = nil
	}
}

// connectGetQuery builds the query of a Connect GET request. The parameters
// come in the order the protocol recommends (connect, base64, compression,
// encoding, message), so that equal requests make equal URLs for caches.
func connectGetQuery(codec Codec, payload []byte, compression string) string {
	var b strings.Builder
	b.WriteString("connect=v1")
	b64 := isBinaryCodec(codec) || compression != ""
	if b64 {
		b.WriteString("&base64=1")
	}
	if compression != "" {
		b.WriteString("&compression=")
		b.WriteString(url.QueryEscape(compression))
	}
	b.WriteString("&encoding=")
	b.WriteString(url.QueryEscape(codec.Name()))
	b.WriteString("&message=")
	if b64 {
		b.WriteString(base64URLEncode(payload))
	} else {
		b.WriteString(url.QueryEscape(string(payload)))
	}
	return b.String()
}

func base64URLEncode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
