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
	more  []*savedHeader // other propagators' extra headers
}

type savedHeader struct {
	key  string
	prev []string
	had  bool
	val  [1]string // the value set, so that setting it does not allocate
}

// Get implements propagation.TextMapCarrier.
func (c *injectCarrier) Get(key string) string { return headerCarrier(c.h).Get(key) }

// Set implements propagation.TextMapCarrier, remembering what it replaces.
func (c *injectCarrier) Set(key, value string) {
	key = canonicalKey(key)
	s := c.find(key)
	if s == nil {
		prev, had := c.h[key]
		if c.n < len(c.saved) {
			s = &c.saved[c.n]
			c.n++
		} else {
			c.more = append(c.more, &savedHeader{})
			s = c.more[len(c.more)-1]
		}
		*s = savedHeader{key: key, prev: prev, had: had}
	}
	s.val[0] = value
	c.h[key] = s.val[:]
}

// Keys implements propagation.TextMapCarrier.
func (c *injectCarrier) Keys() []string {
	keys := make([]string, 0, len(c.h))
	for k := range c.h {
		keys = append(keys, k)
	}
	return keys
}

// find returns what was saved for key, or nil.
func (c *injectCarrier) find(key string) *savedHeader {
	for i := range c.saved[:c.n] {
		if c.saved[i].key == key {
			return &c.saved[i]
		}
	}
	for _, s := range c.more {
		if s.key == key {
			return s
		}
	}
	return nil
}

// restore puts back what Set replaced. It is safe to call more than once.
func (c *injectCarrier) restore() {
	for i := range c.saved[:c.n] {
		c.saved[i].put(c.h)
	}
	for _, s := range c.more {
		s.put(c.h)
	}
	c.n, c.more = 0, nil
}

func (s *savedHeader) put(h http.Header) {
	if s.had {
		h[s.key] = s.prev
	} else {
		delete(h, s.key)
	}
}

// canonicalNames are the canonical header names of the keys that the W3C
// propagators use, so that looking them up costs no allocation.
var canonicalNames = map[string]string{
	"traceparent": "Traceparent",
	"tracestate":  "Tracestate",
	"baggage":     "Baggage",
}

// canonicalKey returns key's canonical header name.
func canonicalKey(key string) string {
	if name, ok := canonicalNames[key]; ok {
		return name
	}
	return textproto.CanonicalMIMEHeaderKey(key)
}

// headerCarrier reads propagated headers from a request's headers, as
// propagation.HeaderCarrier does, without allocating for the W3C keys.
type headerCarrier http.Header

// Get implements propagation.TextMapCarrier.
func (c headerCarrier) Get(key string) string {
	if vs := c[canonicalKey(key)]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Set implements propagation.TextMapCarrier.
func (c headerCarrier) Set(key, value string) { c[canonicalKey(key)] = []string{value} }

// Keys implements propagation.TextMapCarrier.
func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
