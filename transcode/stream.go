package transcode

import (
	"encoding/binary"
	"encoding/json"
	"net/http"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/rpc"
)

// Envelope flags of the Connect streaming protocol.
const (
	flagCompressed = 0x01
	flagEndStream  = 0x02
)

// maxStreamMessage bounds one message of a transcoded stream as the RPC
// handler frames it. The handler is the server's own, but the transcoder must
// not buffer without bound on anything.
const maxStreamMessage = 1 << 30

// serveStream transcodes a server-streaming call into newline-delimited JSON:
// one {"result": ...} line a message, as grpc-gateway writes them, and an
// {"error": ...} line if the call fails. A failure before the first message
// gets the HTTP status of its code; after it, the status is 200 and the error
// line ends the body. A google.api.HttpBody stream is written as its raw
// bytes, with the content type of the first message.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, rt *route, vals []string) {
	buf := getBuffer()
	defer putBuffer(buf)
	msg := rt.inType.New()
	if st := h.decodeRequest(r, rt, vals, msg, buf); st != nil {
		h.writeStreamError(w, st, false)
		return
	}
	payload := append((*buf)[:0], 0, 0, 0, 0, 0)
	payload, err := proto.MarshalOptions{}.MarshalAppend(payload, msg.Interface())
	if err != nil {
		h.writeStreamError(w, newStatus(rpc.CodeInternal, "marshal request: "+err.Error()), false)
		return
	}
	binary.BigEndian.PutUint32(payload[1:5], uint32(len(payload)-5))
	*buf = payload
	sw := &streamWriter{h: h, rt: rt, w: w, header: make(http.Header, 4), out: rt.outType.New()}
	h.next.ServeHTTP(sw, h.innerRequest(r, rt, payload, streamContentType))
	sw.finish()
	putBuffer(&sw.pending)
}

// writeStreamError writes the error line of a stream; wrote says whether the
// response has started.
func (h *Handler) writeStreamError(w http.ResponseWriter, st *status, wrote bool) {
	b := getBuffer()
	defer putBuffer(b)
	line := append((*b)[:0], `{"error":`...)
	line = st.appendJSON(line, h.marshal)
	line = append(line, "}\n"...)
	*b = line
	if !wrote {
		w.Header()["Content-Type"] = jsonContentType
		code := HTTPStatus(st.code)
		if st.http != 0 {
			code = st.http
		}
		w.WriteHeader(code)
	}
	_, _ = w.Write(line)
}

// streamWriter receives the RPC handler's Connect streaming response and
// writes it to the REST client as it arrives. The handler writes from one
// goroutine at a time, and flushes when its queue is empty: the writer
// flushes the REST response then too.
type streamWriter struct {
	h       *Handler
	rt      *route
	w       http.ResponseWriter // the REST response
	header  http.Header         // the RPC handler's
	status  int
	pending []byte // bytes of an incomplete envelope, or a non-stream body
	out     protoreflect.Message
	wrote   bool // the REST response has started
	ended   bool // the end-of-stream message arrived
	failed  bool // a malformed response: everything after is dropped
	line    []byte

	// A client-streaming call's response is collected, for finishUnary.
	r        *http.Request
	collect  bool
	unaryMsg []byte              // the response message
	gotMsg   bool                // unaryMsg is set (it may be empty)
	endError json.RawMessage     // the end message's error
	endMeta  map[string][]string // the end message's trailers
}

func (s *streamWriter) Header() http.Header { return s.header }

func (s *streamWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

// Unwrap gives http.ResponseController the REST response, so the RPC
// handler's write deadlines apply to the REST connection.
func (s *streamWriter) Unwrap() http.ResponseWriter { return s.w }

// Flush flushes the REST response.
func (s *streamWriter) Flush() {
	if s.wrote {
		_ = http.NewResponseController(s.w).Flush()
	}
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.status != http.StatusOK {
		if len(s.pending) < 64<<10 {
			s.pending = append(s.pending, p...)
		}
		return len(p), nil
	}
	if s.failed || s.ended {
		return len(p), nil
	}
	s.pending = append(s.pending, p...)
	for len(s.pending) >= 5 {
		size := binary.BigEndian.Uint32(s.pending[1:5])
		if size > maxStreamMessage {
			s.fail(newStatus(rpc.CodeInternal, "the RPC handler sent a message larger than the transcoder accepts"))
			return len(p), nil
		}
		if len(s.pending) < 5+int(size) {
			break
		}
		flags, data := s.pending[0], s.pending[5:5+int(size)]
		if err := s.envelope(flags, data); err != nil {
			return len(p), err
		}
		s.pending = s.pending[:copy(s.pending, s.pending[5+int(size):])]
	}
	return len(p), nil
}

// envelope handles one message of the RPC handler's response.
func (s *streamWriter) envelope(flags byte, data []byte) error {
	if flags&flagCompressed != 0 {
		s.fail(newStatus(rpc.CodeInternal, "the RPC handler compressed its response unasked"))
		return nil
	}
	if flags&flagEndStream != 0 {
		s.ended = true
		var end struct {
			Error    *connectError       `json:"error"`
			Metadata map[string][]string `json:"metadata"`
		}
		if err := json.Unmarshal(data, &end); err != nil {
			s.fail(newStatus(rpc.CodeInternal, "the RPC handler ended its stream with malformed JSON"))
			return nil
		}
		if s.collect {
			var raw struct {
				Error json.RawMessage `json:"error"`
			}
			_ = json.Unmarshal(data, &raw)
			if end.Error != nil {
				s.endError = raw.Error
			}
			s.endMeta = end.Metadata
			return nil
		}
		if end.Error != nil {
			s.fail(end.Error.toStatus(rpc.CodeUnknown))
			s.trailers(end.Metadata)
			return nil
		}
		// An empty stream: no body, so no Content-Type either, as with
		// grpc-gateway.
		s.start(false)
		s.trailers(end.Metadata)
		return nil
	}
	if s.collect {
		s.unaryMsg = append(s.unaryMsg[:0], data...)
		s.gotMsg = true
		return nil
	}
	proto.Reset(s.out.Interface())
	if err := proto.Unmarshal(data, s.out.Interface()); err != nil {
		s.fail(newStatus(rpc.CodeInternal, "unmarshal response: "+err.Error()))
		return nil
	}
	var line []byte
	if s.rt.rawBodyOut {
		ct, body := httpBodyParts(s.out)
		if !s.wrote && ct != "" {
			s.w.Header()["Content-Type"] = []string{ct}
		}
		line = body
	} else {
		line = append(s.line[:0], `{"result":`...)
		var st *status
		line, st = s.h.appendJSON(line, s.rt, s.out)
		if st != nil {
			s.fail(st)
			return nil
		}
		line = append(line, "}\n"...)
		s.line = line
	}
	s.start(true)
	_, err := s.w.Write(line)
	return err
}

// start writes the REST response's headers, once.
func (s *streamWriter) start(body bool) {
	if s.wrote {
		return
	}
	s.wrote = true
	hdr := s.w.Header()
	copyResponseHeaders(hdr, s.header)
	if _, ok := hdr["Content-Type"]; !ok && body {
		hdr["Content-Type"] = jsonContentType
	}
	s.w.WriteHeader(http.StatusOK)
}

// trailers sends the stream's trailers as HTTP trailers.
func (s *streamWriter) trailers(md map[string][]string) {
	if !s.wrote {
		// Nothing was written: the trailers go out with the headers.
		for k, v := range md {
			if forwardTrailer(k) {
				s.w.Header()[http.CanonicalHeaderKey(k)] = v
			}
		}
		return
	}
	for k, v := range md {
		if forwardTrailer(k) {
			s.w.Header()[http.TrailerPrefix+http.CanonicalHeaderKey(k)] = v
		}
	}
}

// fail ends the REST response with an error line.
func (s *streamWriter) fail(st *status) {
	s.failed = true
	if s.collect {
		var b []byte
		b = append(b, `{"code":`...)
		code, _ := st.code.MarshalText()
		b = appendJSONString(b, string(code))
		b = append(b, `,"message":`...)
		b = appendJSONString(b, st.message)
		s.endError = append(b, '}')
		s.ended = true
		return
	}
	if s.wrote {
		s.h.writeStreamError(s.w, st, true)
		return
	}
	copyResponseHeaders(s.w.Header(), s.header)
	s.h.writeStreamError(s.w, st, false)
	s.wrote = true
}

// finish ends the REST response once the RPC handler has returned.
func (s *streamWriter) finish() {
	switch {
	case s.failed || s.ended:
	case s.status == 0:
		s.fail(newStatus(rpc.CodeInternal, "the RPC handler wrote no response"))
	case s.status != http.StatusOK:
		s.fail(statusFromResponse(s.status, s.pending))
	default:
		s.fail(newStatus(rpc.CodeInternal, "the RPC handler's stream ended without its end message"))
	}
}
