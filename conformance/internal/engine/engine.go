// Package engine lets the programs under test choose whose HTTP/2 they
// speak, from a flag: net/http's, through transport-nethttp ("h2c" and
// "h2", the default), or transport-h2's engine written for RPC ("h2c-rpc"
// and "h2-rpc"). HTTP/1.1 always comes from transport-nethttp, and
// transport-h2 has none: with it, only HTTP/2 configs can run.
package engine

import (
	"flag"
	"fmt"

	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
	// The http1, h2c and h2 transports.
	_ "polyconnect.dev/transport-nethttp"
)

// Engines a program can run on.
const (
	NetHTTP = "nethttp"
	H2      = "h2"
)

// Flag registers the -http2 flag.
func Flag() *string {
	return flag.String("http2", NetHTTP, `whose HTTP/2 to use: "nethttp" (transport-nethttp's h2c and h2) or "h2" (transport-h2's h2c-rpc and h2-rpc)`)
}

// HTTP2Name returns the transport name for HTTP/2 on engine, cleartext or
// over TLS. An empty engine is NetHTTP.
func HTTP2Name(engine string, tls bool) (string, error) {
	switch engine {
	case NetHTTP, "":
		if tls {
			return transport.NameH2, nil
		}
		return transport.NameH2C, nil
	case H2:
		if tls {
			return h2.NameH2, nil
		}
		return h2.NameH2C, nil
	}
	return "", fmt.Errorf("unknown HTTP/2 engine %q (want %q or %q)", engine, NetHTTP, H2)
}

// HTTP1Name returns the transport name for HTTP/1.1, which engine h2 does
// not have.
func HTTP1Name(engine string) (string, error) {
	if engine == H2 {
		return "", fmt.Errorf("transport-h2 speaks HTTP/2 only: run HTTP/1.1 configs with -http2 %s", NetHTTP)
	}
	return transport.NameHTTP1, nil
}
