package main

// The transports the demo serves on and -transport chooses from: each
// module registers its names with package transport when imported, and
// the demo serves on every registered name. A transport is one line here.
import (
	"slices"

	"polyconnect.dev/protocol/transport"

	h2 "polyconnect.dev/transport-h2"     // h2c-rpc, h2-rpc
	_ "polyconnect.dev/transport-http3"   // h3
	_ "polyconnect.dev/transport-nethttp" // http1, h2c, h2
)

// defaultTransport is what -serve uses, and -url for http:// URLs, when
// neither -transport nor a config names one: HTTP/2 on transport-h2's
// engine, with HTTP/1.1 on the same port. defaultTLSTransport is the same
// over TLS, for https:// URLs.
const (
	defaultTransport    = h2.NameH2C
	defaultTLSTransport = h2.NameH2
)

// servesHTTP1 reports whether a transport's server also takes HTTP/1.1
// clients on its port: transport-h2's one-port mode hands them to
// net/http. The demo calls such servers with an HTTP/1.1 client too.
func servesHTTP1(name string) bool {
	return slices.Contains([]string{h2.NameH2C, h2.NameH2}, name) && slices.Contains(transport.Names(), transport.NameHTTP1)
}
