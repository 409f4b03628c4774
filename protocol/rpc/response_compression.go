package rpc

import (
	"context"
	"strconv"
	"strings"
)

// SetResponseCompression chooses how the handler of the call in ctx
// compresses its responses, overriding the default (the negotiated algorithm,
// for messages of DefaultHandlerCompressMinBytes and more).
//
// Before the response headers are sent, name may be any algorithm the handler
// supports and the client accepts, or "identity": messages sent from then on
// are compressed with it whatever their size. Once headers are out (a stream
// has sent a message, or SendHeader was called) the algorithm is fixed, and
// only switching between it and "identity" for the following messages is
// possible. Unary handlers can call it any time before they return.
func SetResponseCompression(ctx context.Context, name string) error {
	ci, ok := HandlerCallInfo(ctx)
	if !ok || ci.compression == nil {
		return errorf(CodeInternal, "SetResponseCompression: no handler call in the context")
	}
	return ci.compression.setCompression(name)
}

// responseCompression is a handler conn's state for SetResponseCompression.
type responseCompression struct {
	accept string // the client's accept list, as sent
}

// choose applies a SetResponseCompression call to a conn's marshaler and
// response encoding. headersSent says whether the encoding is fixed.
func (rc *responseCompression) choose(set *compressionSet, m *marshaler, enc *string, headersSent bool, name string) error {
	if name == "" || name == compressionIdentity {
		m.comp = nil
		if !headersSent {
			*enc = ""
		}
		return nil
	}
	if headersSent {
		if name != *enc {
			return errorf(CodeInternal, "SetResponseCompression: the response headers already announced "+strconv.Quote(*enc)+", so "+strconv.Quote(name)+" cannot be used")
		}
		m.comp = set.get(name)
		m.compressMin = 0
		return nil
	}
	pool := set.get(name)
	if pool == nil {
		return errorf(CodeInternal, "SetResponseCompression: unknown compression "+strconv.Quote(name))
	}
	if !acceptsEncoding(rc.accept, name) {
		return errorf(CodeInternal, "SetResponseCompression: the client does not accept "+strconv.Quote(name))
	}
	*enc = name
	m.comp = pool
	m.compressMin = 0
	return nil
}

// acceptsEncoding reports whether an accept list names the algorithm.
func acceptsEncoding(accept, name string) bool {
	for accept != "" {
		var tok string
		tok, accept, _ = strings.Cut(accept, ",")
		if i := strings.IndexByte(tok, ';'); i >= 0 {
			tok = tok[:i]
		}
		if strings.TrimSpace(tok) == name {
			return true
		}
	}
	return false
}
