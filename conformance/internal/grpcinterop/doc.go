// Package grpcinterop runs gRPC's interop tests with polyconnect: a
// grpc.testing.TestService implementation for the interop server, and the
// client-side test cases for the interop client. The test cases are those
// of gRPC's interop test descriptions
// (https://github.com/grpc/grpc/blob/master/doc/interop-test-descriptions.md)
// that need no cloud credentials and no load balancing; cmd/interopserver
// and cmd/interopclient are the command-line wrappers, and
// conformance/grpc-interop.sh runs them against grpc-go's interop client
// and server.
//
// Both sides work over every protocol polyconnect speaks (gRPC, gRPC-Web
// and Connect), which lets the package's tests check them in memory.
package grpcinterop

// Metadata keys the interop tests echo: a server copies the first value of
// EchoInitialKey from the request headers into its response headers, and
// of EchoTrailingKey into its response trailers. EchoTrailingKey is a
// binary ("-bin") key: its value travels base64-encoded, and the server
// echoes it as it arrived.
const (
	EchoInitialKey  = "X-Grpc-Test-Echo-Initial"
	EchoTrailingKey = "X-Grpc-Test-Echo-Trailing-Bin"
)
