// Package grpcwire holds the wire format of gRPC and gRPC-Web: header names,
// Content-Types, grpc-timeout, the status fields (grpc-status, the
// percent-encoded grpc-message, the google.rpc.Status of
// grpc-status-details-bin), the gRPC-Web trailers block and the base64
// bodies of gRPC-Web text. It works on bytes, strings and http.Header and
// returns plain errors; the client and handler sides of package rpc share
// it and turn those errors into their own.
package grpcwire

import "strings"

// The Content-Types of gRPC and gRPC-Web, without a codec suffix.
const (
	ContentType        = "application/grpc"
	WebContentType     = "application/grpc-web"
	WebTextContentType = "application/grpc-web-text"
)

// The request and response header names of gRPC, in canonical form.
const (
	HeaderTimeout        = "Grpc-Timeout"
	HeaderEncoding       = "Grpc-Encoding"
	HeaderAcceptEncoding = "Grpc-Accept-Encoding"
	HeaderStatus         = "Grpc-Status"
	HeaderMessage        = "Grpc-Message"
	HeaderDetails        = "Grpc-Status-Details-Bin"
)

// codecProto is the codec a Content-Type without a suffix means.
const codecProto = "proto"

// Variant tells gRPC from the two forms of gRPC-Web.
type Variant uint8

// The variants.
const (
	Plain     Variant = iota // application/grpc
	WebBinary                // application/grpc-web
	WebText                  // application/grpc-web-text: base64 bodies
)

// Prefix returns the variant's Content-Type without a codec suffix.
func (v Variant) Prefix() string {
	switch v {
	case WebBinary:
		return WebContentType
	case WebText:
		return WebTextContentType
	}
	return ContentType
}

// ParseContentType splits a gRPC or gRPC-Web Content-Type into its variant
// and codec name ("proto" when none is given). ok is false for any other
// Content-Type.
func ParseContentType(ct string) (v Variant, codec string, ok bool) {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	if len(ct) < len(ContentType) || !strings.EqualFold(ct[:len(ContentType)], ContentType) {
		return 0, "", false
	}
	rest := ct[len(ContentType):]
	switch {
	case len(rest) >= 9 && strings.EqualFold(rest[:9], "-web-text"):
		v, rest = WebText, rest[9:]
	case len(rest) >= 4 && strings.EqualFold(rest[:4], "-web"):
		v, rest = WebBinary, rest[4:]
	}
	switch {
	case rest == "":
		return v, codecProto, true
	case len(rest) > 1 && rest[0] == '+':
		return v, strings.ToLower(rest[1:]), true
	}
	return 0, "", false
}
