package rpc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

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
			code := CodeInternal
			if b.server {
				code = CodeInvalidArgument
			}
			b.corrupt = errorf(code, "protocol error: "+grpcwire.ErrCorruptBase64.Error())
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
func appendGRPCWebTrailers(dst *buffer, e *Error, trailer http.Header) {
	start := dst.Len()
	var hdr [envelopePrefix]byte
	dst.Write(hdr[:])
	status, message, details := grpcStatusHeaders(e)
	writeTrailerLine(dst, "grpc-status", status[0])
	if message != "" {
		writeTrailerLine(dst, "grpc-message", message)
	}
	if details != "" {
		writeTrailerLine(dst, "grpc-status-details-bin", details)
	}
	writeTrailerBlock(dst, trailer)
	if e != nil {
		writeTrailerBlock(dst, e.meta)
	}
	writeEnvelopeHeader(dst.Bytes()[start:], flagGRPCWebTrail)
}

// writeTrailerBlock writes the metadata h as trailer lines. The block is
// parsed line by line, so what would break a line is left out, as net/http
// leaves such fields out of HTTP/2 trailers: a name that is not a token
// (or names a protocol header in any case), and a value holding CR, LF or
// another control character. A handler echoing a request id cannot inject
// a line, let alone a second grpc-status.
func writeTrailerBlock(dst *buffer, h http.Header) {
	if len(h) == 0 {
		return
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		if validTrailerName(k) && !isProtocolHeader(http.CanonicalHeaderKey(k)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.ToLower(k)
		for _, v := range h[k] {
			if validTrailerValue(v) {
				writeTrailerLine(dst, name, v)
			}
		}
	}
}

// validTrailerName reports whether s is an RFC 9110 token.
func validTrailerName[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// validTrailerValue reports whether s is a field value without control
// characters (tab aside): no CR, LF or NUL to end or split a line.
func validTrailerValue[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// isTokenByte reports whether c may appear in an RFC 9110 token.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func writeTrailerLine(dst *buffer, name, value string) {
	dst.WriteString(name)
	dst.WriteString(": ")
	dst.WriteString(value)
	dst.WriteString("\r\n")
}

// parseGRPCWebTrailers parses the header block of a trailers frame into the
// status entries and the other trailers (nil when there are none). Names are
// case-insensitive.
func parseGRPCWebTrailers(block []byte) (grpcwire.StatusFields, http.Header, *Error) {
	var f grpcwire.StatusFields
	var meta http.Header
	for len(block) > 0 {
		var line []byte
		if i := bytes.IndexByte(block, '\n'); i >= 0 {
			line, block = block[:i], block[i+1:]
		} else {
			line, block = block, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.Trim(line, " \t")) == 0 {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return f, nil, errorf(CodeInternal, "protocol error: malformed gRPC-Web trailer line "+quoteShort(line))
		}
		name := bytes.Trim(line[:colon], " \t")
		rawValue := bytes.Trim(line[colon+1:], " \t")
		// A name must be a token and a value free of control characters:
		// a stray CR or NUL is a broken (or injected) line, not metadata.
		if !validTrailerName(name) || !validTrailerValue(rawValue) {
			return f, nil, errorf(CodeInternal, "protocol error: invalid gRPC-Web trailer line "+quoteShort(line))
		}
		value := string(rawValue)
		switch {
		case bytes.EqualFold(name, []byte("grpc-status")):
			if f.StatusCount == 0 {
				f.Status = value
			}
			f.StatusCount++
		case bytes.EqualFold(name, []byte("grpc-message")):
			if !f.HasMessage {
				f.Message, f.HasMessage = value, true
			}
		case bytes.EqualFold(name, []byte("grpc-status-details-bin")):
			if f.Details == "" {
				f.Details = value
			}
		default:
			if meta == nil {
				meta = make(http.Header)
			}
			key := http.CanonicalHeaderKey(string(name))
			meta[key] = append(meta[key], value)
		}
	}
	return f, meta, nil
}

func quoteShort(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	return strconv.Quote(string(b))
}
