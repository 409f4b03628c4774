package interoptest

import (
	"fmt"
	"strings"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	// The transports, registered by name: http1, h2c, h2 (net/http),
	// h2c-rpc, h2-rpc (transport-h2), h3 (quic-go).
	_ "polyconnect.dev/transport-h2"
	_ "polyconnect.dev/transport-http3"
	_ "polyconnect.dev/transport-nethttp"
)

// TLSTransport reports whether the transport registered as name uses TLS.
func TLSTransport(name string) bool {
	switch name {
	case "http1", "h2c", "h2c-rpc":
		return false
	}
	return true
}

// FullDuplex reports whether streams on the transport are full duplex.
func FullDuplex(name string) bool { return name != "http1" }

// Names returns the registered transport names.
func Names() []string { return transport.Names() }

// ParseProtocol parses "connect", "grpc" or "grpcweb".
func ParseProtocol(s string) (rpc.Protocol, error) {
	switch strings.ToLower(s) {
	case "connect":
		return rpc.ProtocolConnect, nil
	case "grpc":
		return rpc.ProtocolGRPC, nil
	case "grpcweb", "grpc-web":
		return rpc.ProtocolGRPCWeb, nil
	}
	return 0, fmt.Errorf("unknown protocol %q (want connect, grpc or grpcweb)", s)
}
