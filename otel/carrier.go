package otelrpc

import (
	"net/http"
	"net/textproto"
)

// injectCarrier writes the propagated headers into the caller's request
// header map for one call and puts the map back as it was afterwards.
//
// A client call copies the CallInfo's request headers into each attempt's
// request and never writes into them, so a CallInfo can serve several calls.
// The propagated headers must reach the request, so they go into the map
// for the duration of the call; restore then removes them (or puts back what
// the caller had there), so that a CallInfo used for a second call carries
// no stale traceparent, tracestate or baggage into it.
type injectCarrier struct {
	h     http.Header
	saved [3]savedHeader // traceparent, tracestate, baggage: enough for W3C
	n     int
	more  []savedHeader // other propagators' extra headers
}

type savedHeader struct {
	key  string
	prev []string
	had  bool
}

// Get implements propagation.TextMapCarrier.
func (c *injectCarrier) Get(key string) string { return c.h.Get(key) }

// Set implements propagation.TextMapCarrier, remembering what it replaces.
func (c *injectCarrier) Set(key, value string) {
	key = textproto.CanonicalMIMEHeaderKey(key)
	if !c.isSaved(key) {
		prev, had := c.h[key]
		s := savedHeader{key: key, prev: prev, had: had}
		if c.n < len(c.saved) {
			c.saved[c.n] = s
			c.n++
		} else {
			c.more = append(c.more, s)
		}
	}
	c.h[key] = []string{value}
}

// Keys implements propagation.TextMapCarrier.
func (c *injectCarrier) Keys() []string {
	keys := make([]string, 0, len(c.h))
	for k := range c.h {
		keys = append(keys, k)
	}
	return keys
}

func (c *injectCarrier) isSaved(key string) bool {
	for _, s := range c.saved[:c.n] {
		if s.key == key {
			return true
		}
	}
	for _, s := range c.more {
		if s.key == key {
			return true
		}
	}
	return false
}

// restore puts back what Set replaced. It is safe to call more than once.
func (c *injectCarrier) restore() {
	for _, s := range c.saved[:c.n] {
		s.put(c.h)
	}
	for _, s := range c.more {
		s.put(c.h)
	}
	c.n, c.more = 0, nil
}

func (s savedHeader) put(h http.Header) {
	if s.had {
		h[s.key] = s.prev
	} else {
		delete(h, s.key)
	}
}
