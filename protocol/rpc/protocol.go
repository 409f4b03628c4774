package rpc

// Protocol is one of the wire protocols: Connect, gRPC or gRPC-Web. Handlers
// answer all three; a client speaks the one WithProtocol chooses. CallInfo
// and Peer report the protocol of a call as a Protocol, so compare it with
// the constants (info.Protocol() == rpc.ProtocolGRPC) and print it with
// String.
type Protocol uint8

// The protocols. Handlers answer all three; clients speak one.
const (
	// ProtocolConnect is the Connect protocol, over any HTTP version.
	ProtocolConnect Protocol = iota
	// ProtocolGRPC is gRPC. It needs HTTP/2 or HTTP/3: give the client an
	// HTTPClient that speaks one (h2, h2c with prior knowledge, h3), since
	// gRPC carries the status in HTTP trailers; over HTTP/1.1 calls fail.
	ProtocolGRPC
	// ProtocolGRPCWeb is gRPC-Web, over any HTTP version. Bidirectional
	// streams are full duplex only over HTTP/2 and later.
	ProtocolGRPCWeb
)

// String returns "connect", "grpc" or "grpcweb".
func (p Protocol) String() string {
	switch p {
	case ProtocolConnect:
		return protocolNameConnect
	case ProtocolGRPC:
		return protocolNameGRPC
	case ProtocolGRPCWeb:
		return protocolNameGRPCWeb
	}
	return "invalid"
}

const (
	protocolNameConnect = "connect"
	protocolNameGRPC    = "grpc"
	protocolNameGRPCWeb = "grpcweb"
)
