package rpc

import (
	"context"
	"net/http"
	"strings"

	"polyconnect.dev/protocol/rpc/internal/connectwire"
)

// clientContext is the context of an outgoing call together with the
// call's CallInfo, which ClientCallInfo finds: one allocation for both,
// where context.WithValue and a CallInfo would be two. It is what
// NewClientContext returns, and what a client attaches for its
// interceptors and streams when the caller has not.
//
// The CallInfo's header and trailer maps are made only when someone asks
// for them (CallInfo.lazyMap), and a response's header map is taken as it
// is rather than copied (adoptResponseHeader), so that a call whose
// interceptors do nothing with them pays nothing for them. Every reader
// goes through the accessors, so nobody sees the difference: a map handed
// out before the response arrived is filled in, as it always was.
type clientContext struct {
	context.Context
	info CallInfo
}

// newClientContext returns ctx with a fresh client-side CallInfo.
func newClientContext(ctx context.Context) (context.Context, *CallInfo) {
	c := &clientContext{Context: ctx}
	return c, &c.info
}

// Value implements context.Context.
func (c *clientContext) Value(key any) any {
	if _, ok := key.(clientCallInfoKey); ok {
		return &c.info
	}
	return c.Context.Value(key)
}

// adoptResponseHeader gives info the response headers h of an attempt,
// splitting Connect unary trailers ("Trailer-" prefix) into the trailers
// when split is set. When nobody holds a header map yet and there is
// nothing to split off, h itself becomes the call's map: the response is
// the call's own and nothing else writes to it. Otherwise the headers are
// copied into the map that is there, as readers of it expect.
func adoptResponseHeader(info *CallInfo, h http.Header, split bool) {
	if info == nil {
		return
	}
	if split && hasUnaryTrailers(h) {
		resTrailer := info.ResponseTrailer()
		resHeader := info.ResponseHeader()
		for k, vs := range h {
			if name, ok := strings.CutPrefix(k, connectwire.UnaryTrailerPrefix); ok && name != "" {
				resTrailer[http.CanonicalHeaderKey(name)] = vs
				continue
			}
			resHeader[k] = vs
		}
		return
	}
	info.mapMu.Lock()
	defer info.mapMu.Unlock()
	if info.resHeader == nil && h != nil {
		info.resHeader = h
		info.resHeaderShared = true
		return
	}
	if info.resHeader == nil {
		info.resHeader = make(http.Header, len(h))
	}
	for k, vs := range h {
		info.resHeader[k] = vs
	}
}

// hasUnaryTrailers reports whether h carries Connect unary trailers.
func hasUnaryTrailers(h http.Header) bool {
	for k := range h {
		if len(k) > len(connectwire.UnaryTrailerPrefix) && strings.HasPrefix(k, connectwire.UnaryTrailerPrefix) {
			return true
		}
	}
	return false
}

// ownResponseHeader makes the call's response header map its own, no
// longer the response's (see adoptResponseHeader), before rpc changes it.
func ownResponseHeader(info *CallInfo) {
	info.mapMu.Lock()
	defer info.mapMu.Unlock()
	if info.resHeaderShared {
		info.resHeader = info.resHeader.Clone()
		info.resHeaderShared = false
	}
}
