package rpc

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// EncodeBinaryHeader encodes a binary metadata value for a header whose key
// ends in "-Bin", as gRPC, gRPC-Web and Connect all expect: unpadded
// standard base64.
func EncodeBinaryHeader(b []byte) string {
	return base64.RawStdEncoding.EncodeToString(b)
}

// DecodeBinaryHeader decodes the value of a "-Bin" header. It accepts padded
// and unpadded, standard and URL-safe base64, since peers differ.
func DecodeBinaryHeader(s string) ([]byte, error) {
	return decodeBase64(s)
}

// decodeBase64 accepts standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// mergeHeaders adds every value of src to dst.
func mergeHeaders(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append(dst[k], vs...)
	}
}

// isProtocolHeader reports headers that the protocols own and user metadata
// must not overwrite.
func isProtocolHeader(k string) bool {
	switch k {
	case "Content-Type", "Content-Length", "Content-Encoding", "Accept-Encoding",
		"Connect-Protocol-Version", "Connect-Timeout-Ms", "Connect-Content-Encoding", "Connect-Accept-Encoding",
		"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Grpc-Timeout", "Grpc-Encoding", "Grpc-Accept-Encoding",
		"Te", "Trailer", "Transfer-Encoding", "Date":
		return true
	}
	return false
}
