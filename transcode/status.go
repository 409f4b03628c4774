package transcode

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"polyconnect.dev/protocol/rpc"
)

// HTTPStatus returns the HTTP status a REST response carries for an RPC
// error code: the mapping of google/rpc/code.proto that grpc-gateway and
// Google's own REST APIs use (INVALID_ARGUMENT is 400, NOT_FOUND 404,
// UNAVAILABLE 503, CANCELED the non-standard 499, ...). It differs from the
// Connect protocol's mapping ([rpc.Code.HTTPStatus]) where the two
// disagree, such as FAILED_PRECONDITION (400 here, 412 in Connect) and
// RESOURCE_EXHAUSTED (429 in both).
func HTTPStatus(code rpc.Code) int {
	switch code {
	case rpc.CodeCanceled:
		return 499
	case rpc.CodeUnknown:
		return http.StatusInternalServerError
	case rpc.CodeInvalidArgument:
		return http.StatusBadRequest
	case rpc.CodeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case rpc.CodeNotFound:
		return http.StatusNotFound
	case rpc.CodeAlreadyExists:
		return http.StatusConflict
	case rpc.CodePermissionDenied:
		return http.StatusForbidden
	case rpc.CodeUnauthenticated:
		return http.StatusUnauthorized
	case rpc.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case rpc.CodeFailedPrecondition:
		return http.StatusBadRequest
	case rpc.CodeAborted:
		return http.StatusConflict
	case rpc.CodeOutOfRange:
		return http.StatusBadRequest
	case rpc.CodeUnimplemented:
		return http.StatusNotImplemented
	case rpc.CodeInternal:
		return http.StatusInternalServerError
	case rpc.CodeUnavailable:
		return http.StatusServiceUnavailable
	case rpc.CodeDataLoss:
		return http.StatusInternalServerError
	}
	return http.StatusInternalServerError
}

// status is an RPC error on its way to a REST client, rendered as the JSON
// of google.rpc.Status.
type status struct {
	http    int // the HTTP status, when not the code's
	code    rpc.Code
	message string
	details []*anypb.Any
}

func newStatus(code rpc.Code, msg string) *status { return &status{code: code, message: msg} }

// connectError is the Connect protocol's JSON error, as a handler writes it
// in a unary response body or a stream's end message.
type connectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"details"`
}

// toStatus converts a Connect JSON error. fallback is the code to use when
// the error names none (the HTTP status's, for a unary response).
func (e *connectError) toStatus(fallback rpc.Code) *status {
	s := &status{code: fallback, message: e.Message}
	var c rpc.Code
	if e.Code != "" && c.UnmarshalText([]byte(e.Code)) == nil {
		s.code = c
	}
	for _, d := range e.Details {
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			continue
		}
		typeURL := d.Type
		if !strings.Contains(typeURL, "/") {
			typeURL = "type.googleapis.com/" + typeURL
		}
		s.details = append(s.details, &anypb.Any{TypeUrl: typeURL, Value: b})
	}
	return s
}

// statusFromResponse builds the status of a failed unary call from the
// inner handler's response: its Connect JSON error, or for a response that
// is none (a 404 from a mux with no such procedure), the code its HTTP
// status implies.
func statusFromResponse(httpStatus int, body []byte) *status {
	fallback := rpc.CodeFromHTTPStatus(httpStatus)
	var ce connectError
	if len(body) > 0 && json.Unmarshal(body, &ce) == nil && ce.Code != "" {
		return ce.toStatus(fallback)
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" || len(msg) > 512 {
		msg = http.StatusText(httpStatus)
	}
	if httpStatus == http.StatusNotFound {
		msg = "the procedure is not served by the handler the transcoder calls: " + msg
	}
	return newStatus(fallback, msg)
}

// appendJSON appends the status as google.rpc.Status JSON:
// {"code":5,"message":"...","details":[...]}. A detail whose type is not
// linked into the program is written as {"@type": ..., "value": base64}, so
// the error still reaches the client.
func (s *status) appendJSON(b []byte, mo protojson.MarshalOptions) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(s.code), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, s.message)
	b = append(b, `,"details":[`...)
	for i, d := range s.details {
		if i > 0 {
			b = append(b, ',')
		}
		out, err := mo.Marshal(d)
		if err != nil {
			b = append(b, `{"@type":`...)
			b = appendJSONString(b, d.TypeUrl)
			b = append(b, `,"value":"`...)
			b = base64.StdEncoding.AppendEncode(b, d.Value)
			b = append(b, `"}`...)
			continue
		}
		b = append(b, out...)
	}
	return append(b, "]}"...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	out, err := json.Marshal(s)
	if err != nil { // invalid UTF-8 is replaced, never an error; keep a valid document anyway
		return append(b, `""`...)
	}
	return append(b, out...)
}

// writeStatus writes a unary error response with the HTTP status of its
// code.
func (h *Handler) writeStatus(w http.ResponseWriter, s *status) {
	if s.http != 0 {
		h.writeStatusHTTP(w, s, s.http)
		return
	}
	h.writeStatusHTTP(w, s, HTTPStatus(s.code))
}

// writeStatusHTTP writes a unary error response with the given HTTP status.
func (h *Handler) writeStatusHTTP(w http.ResponseWriter, s *status, httpStatus int) {
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = s.appendJSON((*buf)[:0], h.marshal)
	hdr := w.Header()
	hdr["Content-Type"] = jsonContentType
	hdr["Content-Length"] = []string{strconv.Itoa(len(*buf))}
	w.WriteHeader(httpStatus)
	_, _ = w.Write(*buf)
}
