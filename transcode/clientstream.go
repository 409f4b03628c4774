package transcode

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/rpc"
)

// rawChunk is the size of the google.api.HttpBody messages a raw
// client-streaming body is cut into.
const rawChunk = 64 << 10

// errCallEnded stops the body's producer once the RPC handler has returned.
var errCallEnded = errors.New("transcode: the call has ended")

// serveClientStream transcodes a client- or bidi-streaming call. The REST
// body is a sequence of JSON values, each a request message (newline-
// delimited JSON, or values one after the other); for a google.api.HttpBody
// request, the raw body, cut into
// messages of 64 KiB. A goroutine decodes the body into the Connect stream as
// the RPC handler reads it. A client-streaming call answers like a unary one;
// a bidi call streams newline-delimited JSON like a server stream. A body
// that does not decode ends the stream with INVALID_ARGUMENT, which the
// handler's Receive returns.
func (h *Handler) serveClientStream(w http.ResponseWriter, r *http.Request, rt *route) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var produced *status // written by the producer before done is closed
	go func() {
		defer close(done)
		st := h.produce(r, rt, pw)
		if st != nil {
			produced = st
			e := rpc.NewError(st.code, st.message)
			_ = pw.CloseWithError(e)
			return
		}
		_ = pw.Close()
	}()
	req := h.innerRequest(r, rt, nil, streamContentType)
	req.Body = pr
	req.ContentLength = -1
	sw := &streamWriter{h: h, rt: rt, w: w, r: r, header: make(http.Header, 4), out: rt.outType.New(), collect: rt.info.StreamType == rpc.StreamTypeClient}
	h.next.ServeHTTP(sw, req)
	_ = pr.CloseWithError(errCallEnded)
	<-done
	if sw.collect {
		sw.finishUnary(produced)
		return
	}
	sw.finish()
}

// produce writes the request messages of the REST body into the Connect
// stream, enveloped. It returns the status of a body that cannot be
// decoded, or nil once the body has ended or the handler stopped reading.
func (h *Handler) produce(r *http.Request, rt *route, pw *io.PipeWriter) *status {
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = r.Body
	}
	switch enc := r.Header.Get("Content-Encoding"); strings.ToLower(enc) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			if err == io.EOF {
				return nil // an empty body: no messages
			}
			return newStatus(rpc.CodeInvalidArgument, "request body: invalid gzip: "+err.Error())
		}
		body = zr
	default:
		return newStatus(rpc.CodeUnimplemented, "request body: unsupported Content-Encoding "+strconv.Quote(enc)+": gzip and identity are supported")
	}
	limited := &countingReader{r: body, limit: h.readMax}
	buf := getBuffer()
	defer putBuffer(buf)
	send := func(msg protoreflect.Message) (bool, *status) {
		env := append((*buf)[:0], 0, 0, 0, 0, 0)
		env, err := proto.MarshalOptions{}.MarshalAppend(env, msg.Interface())
		if err != nil {
			return false, newStatus(rpc.CodeInternal, "marshal request: "+err.Error())
		}
		binary.BigEndian.PutUint32(env[1:5], uint32(len(env)-5))
		*buf = env
		if _, err := pw.Write(env); err != nil {
			return false, nil // the handler stopped reading
		}
		return true, nil
	}
	if rt.rawBodyIn {
		chunk := make([]byte, rawChunk)
		ct := r.Header.Get("Content-Type")
		for {
			n, err := io.ReadFull(limited, chunk)
			if n > 0 {
				msg := rt.inType.New()
				fields := msg.Descriptor().Fields()
				msg.Set(fields.ByName("content_type"), protoreflect.ValueOfString(ct))
				msg.Set(fields.ByName("data"), protoreflect.ValueOfBytes(append([]byte(nil), chunk[:n]...)))
				if ok, st := send(msg); !ok {
					return st
				}
			}
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				return nil
			case limited.over:
				return tooLarge(h.readMax)
			case err != nil:
				return newStatus(rpc.CodeInvalidArgument, "request body: "+err.Error())
			}
		}
	}
	dec := json.NewDecoder(limited)
	for n := 1; ; n++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		switch {
		case err == io.EOF:
			return nil
		case limited.over:
			return tooLarge(h.readMax)
		case err != nil:
			return newStatus(rpc.CodeInvalidArgument, "request body: message "+strconv.Itoa(n)+": "+err.Error())
		}
		msg := rt.inType.New()
		if err := h.unmarshal.Unmarshal(raw, msg.Interface()); err != nil {
			return newStatus(rpc.CodeInvalidArgument, "request body: message "+strconv.Itoa(n)+": "+err.Error())
		}
		if ok, st := send(msg); !ok {
			return st
		}
	}
}

// countingReader fails once more than limit bytes have been read (limit <=
// 0: no limit).
type countingReader struct {
	r     io.Reader
	limit int64
	n     int64
	over  bool
}

var errTooLarge = errors.New("request body too large")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, errTooLarge
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.limit > 0 && c.n > c.limit {
		c.over = true
		return n, errTooLarge
	}
	return n, err
}

// finishUnary ends a client-streaming call's REST response, which is a
// unary one: the response message as JSON, or the error as a Status. A body
// the transcoder could not decode is reported as such, whatever the handler
// made of it.
func (s *streamWriter) finishUnary(produced *status) {
	res := unaryWriter{header: s.header, body: new([]byte)}
	for k, v := range s.endMeta {
		res.header["Trailer-"+http.CanonicalHeaderKey(k)] = v
	}
	switch {
	case s.status != 0 && s.status != http.StatusOK:
		res.status, *res.body = s.status, s.pending
	case s.endError != nil && produced != nil:
		copyResponseHeaders(s.w.Header(), res.header)
		s.h.writeStatus(s.w, produced)
		return
	case s.endError != nil:
		res.status, *res.body = http.StatusBadRequest, s.endError // the code in the JSON wins
	case !s.ended || !s.gotMsg:
		res.status, *res.body = http.StatusInternalServerError, []byte(`{"code":"internal","message":"the RPC handler's stream ended without a response"}`)
	default:
		res.status, *res.body = http.StatusOK, s.unaryMsg
	}
	s.h.writeUnary(s.w, s.r, s.rt, &res)
}
