package transcode

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// DefaultCompressMinBytes is the smallest unary response body a [Handler]
// gzips for a client that accepts gzip, unless [WithCompressMinBytes] says
// otherwise: below it, compression costs more than it saves. It is the rpc
// package's default for handlers.
const DefaultCompressMinBytes = 1024

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed
// (or "*") without q=0.
func acceptsGzip(h http.Header) bool {
	for _, v := range h["Accept-Encoding"] {
		for tok := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(tok), ";")
			name = strings.TrimSpace(name)
			if !strings.EqualFold(name, "gzip") && name != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}

// maybeCompress gzips body into out when the client accepts gzip, the body
// is large enough and compression makes it smaller; it reports whether it
// did.
func (h *Handler) maybeCompress(r *http.Request, body []byte, out *[]byte) bool {
	if h.compressMin < 0 || len(body) < h.compressMin || !acceptsGzip(r.Header) {
		return false
	}
	buf := bytes.NewBuffer((*out)[:0])
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(buf)
	if _, err := zw.Write(body); err != nil {
		return false
	}
	if err := zw.Close(); err != nil {
		return false
	}
	*out = buf.Bytes()
	return len(*out) < len(body)
}
