package rpc

import (
	"io"
	"net/http"
)

// discardBody drains a little of a response body so the connection can be
// reused, then closes it.
func discardBody(res *http.Response) {
	_, _ = io.CopyN(io.Discard, res.Body, 4<<10)
	_ = res.Body.Close()
}

// copyResponseHeaders copies response headers into the call info, splitting
// Connect unary trailers ("Trailer-" prefix) into trailers when split is set.
func copyResponseHeaders(info *CallInfo, h http.Header, split bool) {
	if info == nil {
		return
	}
	for k, vs := range h {
		if split && len(k) > len(connectUnaryTrailerPre) && k[:len(connectUnaryTrailerPre)] == connectUnaryTrailerPre {
			info.resTrailer[http.CanonicalHeaderKey(k[len(connectUnaryTrailerPre):])] = vs
			continue
		}
		info.resHeader[k] = vs
	}
}
