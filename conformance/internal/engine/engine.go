// Package engine lets the programs under test choose whose HTTP/2 they
// speak, from a flag: net/http's, through transport-nethttp ("h2c" and
// "h2", the default), or transport-h2's engine written for RPC ("h2c-rpc"
// and "h2-rpc"). A transport-h2 server serves HTTP/1.1 on the same port
// (its one-port mode hands those connections to net/http), so HTTP/1.1
// server configs run on it too; an HTTP/1.1 client always comes from
// transport-nethttp.
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

// HTTP1Name returns the transport name for an HTTP/1.1 client, which
// engine h2 does not have.
func HTTP1Name(engine string) (string, error) {
	if engine == H2 {
		return "", fmt.Errorf("transport-h2 has no HTTP/1.1 client: run HTTP/1.1 client configs with -http2 %s", NetHTTP)
	}
	return transport.NameHTTP1, nil
}

// ServerHTTP1Name returns the transport name for a server that HTTP/1.1
// clients reach, cleartext or over TLS: on engine h2 the same server as
// for HTTP/2, whose one-port mode hands HTTP/1.1 to net/http.
func ServerHTTP1Name(engine string, tls bool) (string, error) {
	if engine == H2 {
		return HTTP2Name(engine, tls)
	}
	return HTTP1Name(engine)
}
