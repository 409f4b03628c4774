package grpcwire

import (
	"bytes"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// A gRPC-Web response carries its status and trailers in the body: a last
// envelope flagged 0x80 whose payload is an HTTP/1-style header block,
// "name: value\r\n" per line with lower-case names.

// FlagWebTrailers marks the envelope of a gRPC-Web response's trailers.
const FlagWebTrailers = 0x80

// appendTrailerLine appends the line "name: value\r\n" to dst. name and
// value are written as they are: see AppendTrailerBlock for what may go in
// a block.
func appendTrailerLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// AppendStatusLines appends the status lines of a trailers block: status
// (grpc-status, always), and message and details when not empty, encoded
// as for SetStatus.
func AppendStatusLines(dst []byte, status, message, details string) []byte {
	dst = appendTrailerLine(dst, "grpc-status", status)
	if message != "" {
		dst = appendTrailerLine(dst, "grpc-message", message)
	}
	if details != "" {
		dst = appendTrailerLine(dst, "grpc-status-details-bin", details)
	}
	return dst
}

// AppendTrailerBlock appends the metadata h as trailer lines, sorted by
// name, to dst. The block is parsed line by line, so what would break a
// line is left out, as net/http leaves such fields out of HTTP/2 trailers:
// a name that is not a token, and a value holding CR, LF or another control
// character. So are the names for which omit (given the canonical form of
// the name; nil omits nothing) reports true: the protocol's own headers,
// which metadata must not forge. A handler echoing a request id cannot
// inject a line, let alone a second grpc-status.
func AppendTrailerBlock(dst []byte, h http.Header, omit func(canonicalName string) bool) []byte {
	if len(h) == 0 {
		return dst
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		if validTrailerName(k) && (omit == nil || !omit(http.CanonicalHeaderKey(k))) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := strings.ToLower(k)
		for _, v := range h[k] {
			if validTrailerValue(v) {
				dst = appendTrailerLine(dst, name, v)
			}
		}
	}
	return dst
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

// ParseTrailers parses the header block of a gRPC-Web trailers frame into
// its status entries and the other trailers (nil when there are none, keys
// canonical). Names are case-insensitive; line endings may be CRLF or LF,
// blank lines are skipped and spaces around names and values dropped. A
// line without a name, or whose name is not a token or whose value holds a
// control character, is an error naming the line.
func ParseTrailers(block []byte) (StatusFields, http.Header, error) {
	var f StatusFields
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
			return f, nil, errors.New("malformed gRPC-Web trailer line " + quoteShort(line))
		}
		name := bytes.Trim(line[:colon], " \t")
		rawValue := bytes.Trim(line[colon+1:], " \t")
		// A name must be a token and a value free of control characters:
		// a stray CR or NUL is a broken (or injected) line, not metadata.
		if !validTrailerName(name) || !validTrailerValue(rawValue) {
			return f, nil, errors.New("invalid gRPC-Web trailer line " + quoteShort(line))
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

// quoteShort quotes the first 64 bytes of b, for an error message.
func quoteShort(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	return strconv.Quote(string(b))
}
