package rpc

import (
	"net/http"
	"strconv"
)

// This file holds the answers to requests that reach no procedure: an
// unknown path and a content type no protocol speaks. Both say what was
// wrong and what would have worked, so a user who mistyped a name or forgot
// a header reads the fix in the response.

// writeUnknownProcedure answers a request that is not gRPC or gRPC-Web for
// a procedure that does not exist: HTTP 404 with a Connect error body
// (unimplemented), which Connect clients read as the call's error and which
// names the path for a person with curl. The status is 404 rather than
// unimplemented's own 501 because Connect streaming clients, which read no
// body from a failed response, map 404 to unimplemented, and because a
// path that serves nothing is what 404 means to HTTP tools.
func writeUnknownProcedure(w http.ResponseWriter, r *http.Request) {
	e := errorf(CodeUnimplemented, "unknown procedure "+strconv.Quote(r.URL.Path)+
		": this server has no handler for it; check the service's package, the service name and the method name")
	body := marshalConnectError(e)
	h := w.Header()
	h["Content-Type"] = headerJSONContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(body)
}

// writeUnsupportedMediaType answers a request whose Content-Type this
// procedure does not accept: HTTP 415, the accepted types in Accept-Post
// and, for a person reading the response, in a plain-text body.
func (h *Handler) writeUnsupportedMediaType(w http.ResponseWriter, contentType string) {
	accept := h.acceptPost()
	hdr := w.Header()
	hdr["Accept-Post"] = accept
	var msg string
	if contentType == "" {
		msg = "the request has no Content-Type header"
	} else {
		msg = "the Content-Type " + strconv.Quote(contentType) + " is not accepted"
	}
	msg += " by " + h.spec.Procedure + "; it accepts " + accept[0] + "\n"
	hdr["Content-Type"] = []string{"text/plain; charset=utf-8"}
	hdr["X-Content-Type-Options"] = []string{"nosniff"}
	hdr["Content-Length"] = []string{strconv.Itoa(len(msg))}
	w.WriteHeader(http.StatusUnsupportedMediaType)
	_, _ = w.Write([]byte(msg))
}
