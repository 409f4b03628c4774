package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/rpc"
)

var (
	jsonContentType       = []string{"application/json"}
	unaryContentType      = []string{"application/proto"}
	streamContentType     = []string{"application/connect+proto"}
	connectProtocolHeader = []string{"1"}
	varyAcceptEncoding    = []string{"Accept-Encoding"}
)

// bufferPool holds byte slices for bodies and payloads.
var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

// putBuffer returns a buffer to the pool, unless it grew past 1 MiB: one
// large request must not pin its memory in the pool.
func putBuffer(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	*b = (*b)[:0]
	bufferPool.Put(b)
}

// serveUnary transcodes a unary call: REST request to message, an in-process
// Connect call with the message in the proto codec, its response to JSON.
func (h *Handler) serveUnary(w http.ResponseWriter, r *http.Request, rt *route, vals []string) {
	buf := getBuffer()
	defer putBuffer(buf)
	msg := rt.inType.New()
	if st := h.decodeRequest(r, rt, vals, msg, buf); st != nil {
		h.writeStatus(w, st)
		return
	}
	payload, err := proto.MarshalOptions{}.MarshalAppend((*buf)[:0], msg.Interface())
	if err != nil {
		h.writeStatus(w, newStatus(rpc.CodeInternal, "marshal request: "+err.Error()))
		return
	}
	*buf = payload
	res := getUnaryWriter()
	defer putUnaryWriter(res)
	h.next.ServeHTTP(res, h.innerRequest(r, rt, payload, unaryContentType))
	h.writeUnary(w, r, rt, res)
}

// unaryWriters holds unaryWriters with their header maps, reused once a
// call's response has been copied out of them.
var unaryWriters = sync.Pool{New: func() any { return &unaryWriter{header: make(http.Header, 4)} }}

func getUnaryWriter() *unaryWriter {
	w := unaryWriters.Get().(*unaryWriter)
	w.body = getBuffer()
	return w
}

// putUnaryWriter returns w to the pool. The RPC handler is done with it (its
// ServeHTTP has returned) and writeUnary copied what the REST response needs.
func putUnaryWriter(w *unaryWriter) {
	putBuffer(w.body)
	w.body, w.status = nil, 0
	if len(w.header) > 16 {
		w.header = make(http.Header, 4) // an unusual response: do not keep its map
	} else {
		clear(w.header)
	}
	unaryWriters.Put(w)
}

// payloadReader is the body of an in-process call.
type payloadReader struct{ bytes.Reader }

func (*payloadReader) Close() error { return nil }

// innerCall holds the parts of an in-process call's request that live as
// long as the request: its context, URL and body, allocated together.
type innerCall struct {
	ctx  routeContext
	url  url.URL
	body payloadReader
}

// routeContext is the context of a transcoded call: the REST request's,
// with the route under routeKey. It does what context.WithValue would, in
// the innerCall's allocation; Done, Err, Deadline and every other key are
// the parent's, so cancellation propagates as through any value context.
type routeContext struct {
	context.Context
	rt *route
}

// Value returns the route for routeKey and the parent's value otherwise.
func (c *routeContext) Value(key any) any {
	if _, ok := key.(routeKey); ok {
		return c.rt
	}
	return c.Context.Value(key)
}

// innerRequest builds the Connect request of a transcoded call. It carries
// the REST request's context (with the route on it), peer, host and headers,
// less those that describe the REST body or the connection, so
// authentication and other metadata reach the RPC handler as sent.
func (h *Handler) innerRequest(r *http.Request, rt *route, payload []byte, contentType []string) *http.Request {
	hdr := make(http.Header, len(r.Header)+2)
	for k, v := range r.Header {
		if forwardRequestHeader(k) {
			hdr[k] = v
		}
	}
	hdr["Content-Type"] = contentType
	hdr["Connect-Protocol-Version"] = connectProtocolHeader
	ic := &innerCall{
		ctx: routeContext{Context: r.Context(), rt: rt},
		url: url.URL{Path: rt.info.Procedure},
	}
	ic.body.Reset(payload)
	// The template stays on the stack: WithContext copies it into the one
	// Request that escapes.
	req := http.Request{
		Method:        http.MethodPost,
		URL:           &ic.url,
		Proto:         r.Proto,
		ProtoMajor:    r.ProtoMajor,
		ProtoMinor:    r.ProtoMinor,
		Header:        hdr,
		Body:          &ic.body,
		ContentLength: int64(len(payload)),
		Host:          r.Host,
		RemoteAddr:    r.RemoteAddr,
		RequestURI:    rt.info.Procedure,
		TLS:           r.TLS,
	}
	return req.WithContext(&ic.ctx)
}

// forwardRequestHeader reports whether a REST request header goes on to
// the RPC handler. Headers that describe the REST body, its encodings and
// the connection do not; neither do the protocols' own (Connect's, gRPC's),
// which the transcoder sets itself, except Connect-Timeout-Ms, which lets a
// REST client give its call a deadline.
func forwardRequestHeader(k string) bool {
	switch k {
	case "Content-Type", "Content-Length", "Content-Encoding", "Accept-Encoding", "Transfer-Encoding",
		"Te", "Trailer", "Connection", "Keep-Alive", "Upgrade", "Proxy-Connection",
		"Connect-Protocol-Version", "Connect-Content-Encoding", "Connect-Accept-Encoding":
		return false
	}
	return !strings.HasPrefix(k, "Grpc-")
}

// copyResponseHeaders copies the headers the RPC handler set (and, for a
// unary call, its trailers, which Connect sends as Trailer- headers) to the
// REST response, less the protocol's own.
func copyResponseHeaders(dst, src http.Header) {
	for k, v := range src {
		switch k {
		case "Content-Type", "Content-Length", "Content-Encoding", "Accept-Encoding", "Transfer-Encoding", "Trailer":
			continue
		}
		switch {
		case strings.HasPrefix(k, "Connect-"), strings.HasPrefix(k, "Grpc-"):
		case strings.HasPrefix(k, "Trailer-"):
			if name := k[len("Trailer-"):]; name != "" && forwardTrailer(name) {
				dst[http.CanonicalHeaderKey(name)] = append(dst[http.CanonicalHeaderKey(name)], v...)
			}
		default:
			dst[k] = append(dst[k], v...)
		}
	}
}

// forwardTrailer reports whether an RPC trailer goes on to the REST
// response.
func forwardTrailer(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Trailer":
		return false
	}
	return true
}

// unaryWriter records the RPC handler's response to an in-process unary
// call.
type unaryWriter struct {
	header http.Header
	status int
	body   *[]byte
}

func (w *unaryWriter) Header() http.Header { return w.header }

func (w *unaryWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *unaryWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	*w.body = append(*w.body, p...)
	return len(p), nil
}

// Flush does nothing: the response is sent once the call is over.
func (w *unaryWriter) Flush() {}

// writeUnary turns the RPC handler's response into the REST response.
func (h *Handler) writeUnary(w http.ResponseWriter, r *http.Request, rt *route, res *unaryWriter) {
	if res.status == 0 {
		h.writeStatus(w, newStatus(rpc.CodeInternal, "the RPC handler wrote no response"))
		return
	}
	if res.status != http.StatusOK {
		copyResponseHeaders(w.Header(), res.header)
		h.writeStatus(w, statusFromResponse(res.status, *res.body))
		return
	}
	if enc := res.header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		h.writeStatus(w, newStatus(rpc.CodeInternal, "the RPC handler compressed its response ("+enc+") unasked"))
		return
	}
	out := rt.outType.New()
	if err := (proto.UnmarshalOptions{}).Unmarshal(*res.body, out.Interface()); err != nil {
		h.writeStatus(w, newStatus(rpc.CodeInternal, "unmarshal response: "+err.Error()))
		return
	}
	hdr := w.Header()
	copyResponseHeaders(hdr, res.header)
	buf := getBuffer()
	defer putBuffer(buf)
	var body []byte
	if rt.rawBodyOut {
		ct, data := httpBodyParts(out)
		if ct != "" {
			hdr["Content-Type"] = []string{ct}
		}
		body = data
	} else {
		var st *status
		body, st = h.appendJSON((*buf)[:0], rt, out)
		if st != nil {
			h.writeStatus(w, st)
			return
		}
		*buf = body
		hdr["Content-Type"] = jsonContentType
	}
	if h.compressMin >= 0 {
		if v := hdr["Vary"]; len(v) > 0 {
			hdr["Vary"] = append(v, "Accept-Encoding")
		} else {
			hdr["Vary"] = varyAcceptEncoding
		}
		zipped := getBuffer()
		defer putBuffer(zipped)
		if h.maybeCompress(r, body, zipped) {
			body = *zipped
			hdr["Content-Encoding"] = []string{"gzip"}
		}
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// appendJSON appends the JSON of a response: the whole message, or its
// response_body field.
func (h *Handler) appendJSON(b []byte, rt *route, out protoreflect.Message) ([]byte, *status) {
	fd := rt.respField
	if fd == nil {
		b, err := h.marshalAppend(b, out, rt.outPlan)
		if err != nil {
			return nil, newStatus(rpc.CodeInternal, "marshal response: "+err.Error())
		}
		return b, nil
	}
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		b, err := h.marshalAppend(b, out.Get(fd).Message(), rt.respPlan)
		if err != nil {
			return nil, newStatus(rpc.CodeInternal, "marshal response: "+err.Error())
		}
		return b, nil
	}
	// A repeated, map or scalar field: write the message with only that
	// field and take the field's value out of the JSON object.
	only := rt.outType.New()
	if out.Has(fd) {
		only.Set(fd, out.Get(fd))
	}
	whole, err := h.marshal.Marshal(only.Interface())
	if err != nil {
		return nil, newStatus(rpc.CodeInternal, "marshal response: "+err.Error())
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(whole, &obj); err != nil {
		return nil, newStatus(rpc.CodeInternal, "marshal response: "+err.Error())
	}
	key := fd.JSONName()
	if h.marshal.UseProtoNames {
		key = string(fd.Name())
	}
	v, ok := obj[key]
	if !ok {
		// An unset field that the marshal options leave out: its zero value.
		switch {
		case fd.IsList():
			v = json.RawMessage("[]")
		case fd.IsMap():
			v = json.RawMessage("{}")
		default:
			v = json.RawMessage("null")
		}
	}
	return append(b, v...), nil
}

// marshalAppend appends the JSON of m, as h.marshal writes it: with the
// encoder's plan p when there is one, with protojson otherwise or when the
// encoder declines the message.
func (h *Handler) marshalAppend(b []byte, m protoreflect.Message, p *messagePlan) ([]byte, error) {
	if p != nil {
		if out, ok := h.json.appendMessage(b, m, p); ok {
			return out, nil
		}
	}
	return h.marshal.MarshalAppend(b, m.Interface())
}

// httpBodyParts returns the content type and data of a google.api.HttpBody.
func httpBodyParts(m protoreflect.Message) (string, []byte) {
	fields := m.Descriptor().Fields()
	return m.Get(fields.ByName("content_type")).String(), m.Get(fields.ByName("data")).Bytes()
}
