package rpc

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"

	"polyconnect.dev/protocol/rpc/internal/envelope"
	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

// gRPC-Web differs from gRPC in three ways that matter here: it runs over any
// HTTP version, so the status and trailers travel in the body as a last
// envelope flagged 0x80 whose payload is an HTTP/1-style header block; its
// -text variant (application/grpc-web-text) base64-encodes the body, each
// flushed piece padded on its own; and it needs no HTTP trailers at all.

// base64StreamReader decodes a gRPC-Web text body (grpcwire.TextReader),
// with its decoding error turned into the protocol error of this side.
type base64StreamReader struct {
	grpcwire.TextReader
	server  bool   // decides the code of decoding errors
	corrupt *Error // made once: errors are sticky
}

func newBase64StreamReader(r io.Reader, server bool) *base64StreamReader {
	b := &base64StreamReader{server: server}
	b.Reset(r)
	return b
}

func (b *base64StreamReader) Read(p []byte) (int, error) {
	n, err := b.TextReader.Read(p)
	if err != nil && errors.Is(err, grpcwire.ErrCorruptBase64) {
		if b.corrupt == nil {
			b.corrupt = protocolError(b.server, grpcwire.ErrCorruptBase64.Error())
		}
		return n, b.corrupt
	}
	return n, err
}

// encodeBase64Buffer returns a pooled buffer holding the padded base64 form of
// src, which goes back to the pool.
func encodeBase64Buffer(src *buffer) *buffer {
	dst := getBuffer()
	appendBase64(dst, src.Bytes())
	putBuffer(src)
	return dst
}

// appendBase64 appends the padded base64 encoding of src to dst.
func appendBase64(dst *buffer, src []byte) {
	dst.Grow(base64.StdEncoding.EncodedLen(len(src)))
	dst.setAppended(grpcwire.AppendWebText(dst.AvailableBuffer(), src))
}

// appendGRPCWebTrailers appends the trailers frame (prefix and header block)
// holding the status of e (nil: OK), the trailers and the error's metadata.
// The protocol's own headers are left out of the metadata.
func appendGRPCWebTrailers(dst *buffer, e *Error, trailer http.Header) {
	start := dst.Len()
	var hdr [envelopePrefix]byte
	dst.Write(hdr[:])
	status, message, details := grpcStatusHeaders(e)
	// Appended to the buffer's slice itself, which grows as Write grows it.
	dst.b = grpcwire.AppendStatusLines(dst.b, status[0], message, details)
	dst.b = grpcwire.AppendTrailerBlock(dst.b, trailer, isProtocolHeader)
	if e != nil {
		dst.b = grpcwire.AppendTrailerBlock(dst.b, e.meta, isProtocolHeader)
	}
	envelope.PutPrefix(dst.Bytes()[start:], flagGRPCWebTrail)
}

// parseGRPCWebTrailers parses the header block of a trailers frame
// (grpcwire.ParseTrailers); a malformed block is an Internal error.
func parseGRPCWebTrailers(block []byte) (grpcwire.StatusFields, http.Header, *Error) {
	f, meta, err := grpcwire.ParseTrailers(block)
	if err != nil {
		return f, nil, errorf(CodeInternal, "protocol error: "+err.Error())
	}
	return f, meta, nil
}
