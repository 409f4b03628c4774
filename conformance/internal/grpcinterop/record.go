package grpcinterop

import (
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"sync"

	"polyconnect.dev/protocol/rpc"
)

// recordingHTTPClient passes requests on and notes, for each response
// message, whether it arrived compressed: the one thing about compression
// the rpc package does not report and the server_compressed tests check.
type recordingHTTPClient struct {
	next rpc.HTTPClient
	rec  *responseRecorder
}

func (c *recordingHTTPClient) Do(req *http.Request) (*http.Response, error) {
	res, err := c.next.Do(req)
	if err != nil || res.Body == nil {
		return res, err
	}
	ct := strings.ToLower(res.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "application/grpc-web-text"):
		// Base64 text: not parsed.
	case strings.HasPrefix(ct, "application/grpc"), strings.HasPrefix(ct, "application/connect+"):
		res.Body = &envelopeRecorder{ReadCloser: res.Body, rec: c.rec}
	case res.StatusCode == http.StatusOK:
		// A Connect unary response: one message, compressed per Content-Encoding.
		enc := res.Header.Get("Content-Encoding")
		c.rec.add(enc != "" && enc != "identity")
	}
	return res, err
}

// responseRecorder collects the compressed flags of response messages.
type responseRecorder struct {
	mu         sync.Mutex
	compressed []bool
}

func (r *responseRecorder) add(compressed bool) {
	r.mu.Lock()
	r.compressed = append(r.compressed, compressed)
	r.mu.Unlock()
}

func (r *responseRecorder) reset() {
	r.mu.Lock()
	r.compressed = nil
	r.mu.Unlock()
}

// messages returns the flags recorded since the last reset.
func (r *responseRecorder) messages() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.compressed...)
}

// envelopeRecorder reads through a body of length-prefixed messages (five
// bytes: flags and a big-endian length) and records each data message's
// compressed flag. End-of-stream frames (gRPC-Web trailers, flag 0x80;
// Connect end of stream, flag 0x02) are skipped.
type envelopeRecorder struct {
	io.ReadCloser
	rec    *responseRecorder
	prefix [5]byte
	have   int    // bytes of prefix read so far
	skip   uint32 // message bytes still to pass over
}

func (e *envelopeRecorder) Read(p []byte) (int, error) {
	n, err := e.ReadCloser.Read(p)
	b := p[:n]
	for len(b) > 0 {
		if e.skip > 0 {
			k := min(uint32(len(b)), e.skip)
			e.skip -= k
			b = b[k:]
			continue
		}
		c := copy(e.prefix[e.have:], b)
		e.have += c
		b = b[c:]
		if e.have == len(e.prefix) {
			e.have = 0
			if flags := e.prefix[0]; flags&0x82 == 0 {
				e.rec.add(flags&0x01 != 0)
			}
			e.skip = binary.BigEndian.Uint32(e.prefix[1:])
		}
	}
	return n, err
}
