package rpc

import "encoding/base64"

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
