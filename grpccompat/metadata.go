package grpccompat

import (
	"net/http"
	"net/textproto"
	"strings"

	"google.golang.org/grpc/metadata"

	"polyconnect.dev/protocol/rpc"
)

// reservedKey reports whether the canonical header key k belongs to the
// protocols or the transport, so that metadata may neither set nor see it.
func reservedKey(k string) bool {
	switch k {
	case "Content-Length", "Content-Encoding", "Accept-Encoding", "Te", "Trailer",
		"Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Host", "Date":
		return true
	}
	return strings.HasPrefix(k, "Grpc-") || strings.HasPrefix(k, "Connect-") || strings.HasPrefix(k, "Trailer-")
}

// isBinaryKey reports whether k (any case) carries binary values.
func isBinaryKey(k string) bool {
	n := len(k)
	return n > 4 && strings.EqualFold(k[n-4:], "-bin")
}

// addMetadata adds md to h: keys canonicalised, binary values base64-encoded,
// reserved keys and Content-Type left out.
func addMetadata(h http.Header, md metadata.MD) {
	for k, vs := range md {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if reservedKey(ck) || ck == "Content-Type" || ck == "User-Agent" {
			continue
		}
		if isBinaryKey(k) {
			for _, v := range vs {
				h[ck] = append(h[ck], rpc.EncodeBinaryHeader([]byte(v)))
			}
			continue
		}
		h[ck] = append(h[ck], vs...)
	}
}

// toMetadata converts headers to metadata: lower-case keys, binary values
// decoded (values that do not decode are dropped), reserved keys left out.
func toMetadata(h http.Header) metadata.MD {
	md := make(metadata.MD, len(h))
	for k, vs := range h {
		if reservedKey(k) {
			continue
		}
		lk := strings.ToLower(k)
		if isBinaryKey(k) {
			for _, v := range vs {
				for _, part := range strings.Split(v, ",") {
					if b, err := rpc.DecodeBinaryHeader(strings.TrimSpace(part)); err == nil {
						md[lk] = append(md[lk], string(b))
					}
				}
			}
			continue
		}
		md[lk] = append(md[lk], vs...)
	}
	return md
}
