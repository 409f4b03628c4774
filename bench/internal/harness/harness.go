// Package harness starts a benchmark server and client for one combination
// of implementation, wire protocol and transport, and gives every
// implementation the same small client API, so the benchmarks and the load
// generator drive polyconnect, connect-go, grpc-go and a bare net/http floor
// the same way.
//
// Every implementation serves the bench.v1.BenchService of
// proto/bench/v1/bench.proto with the same behaviour: Unary echoes,
// ServerStream sends the requested number of messages, ClientStream reads
// until the client is done, Bidi echoes each message as it arrives.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
)

// Implementations under test.
const (
	ImplPolyconnect = "polyconnect"
	ImplConnectGo   = "connect-go"
	ImplGRPCGo      = "grpc-go"
	// ImplRaw is a bare net/http handler that echoes bytes with no RPC
	// framework: the floor the others are measured against.
	ImplRaw = "raw"
)

// Wire protocols. ProtocolNone is the raw implementation's: bytes, or
// length-prefixed frames for streams, with no RPC protocol.
const (
	ProtocolConnect = "connect"
	ProtocolGRPC    = "grpc"
	ProtocolGRPCWeb = "grpcweb"
	ProtocolNone    = "none"
)

// Transports. h2 is HTTP/2 over TLS with an in-memory self-signed
// certificate; h2c is cleartext HTTP/2 with prior knowledge; h3 is HTTP/3
// over QUIC with the same certificate (see h3.go). h2c-rpc and h2-rpc are
// h2c and h2 on transport-h2's engine instead of net/http's (see
// h2engine.go); only polyconnect and raw run on them.
const (
	TransportHTTP1  = "http1"
	TransportH2C    = "h2c"
	TransportH2     = "h2"
	TransportH3     = "h3"
	TransportH2CRPC = "h2c-rpc"
	TransportH2RPC  = "h2-rpc"
)

// Impls, Protocols and Transports list every value, in the order the
// benchmarks run them.
var (
	Impls      = []string{ImplPolyconnect, ImplConnectGo, ImplGRPCGo, ImplRaw}
	Protocols  = []string{ProtocolConnect, ProtocolGRPC, ProtocolGRPCWeb, ProtocolNone}
	Transports = []string{TransportHTTP1, TransportH2C, TransportH2, TransportH3, TransportH2CRPC, TransportH2RPC}
)

// Target is one combination of implementation, protocol and transport.
type Target struct {
	Impl      string
	Protocol  string
	Transport string
}

// String returns the sub-benchmark name of t,
// "impl=…/protocol=…/transport=…".
func (t Target) String() string {
	return "impl=" + t.Impl + "/protocol=" + t.Protocol + "/transport=" + t.Transport
}

// Check reports why t is not a meaningful combination, or nil if it is.
func (t Target) Check() error {
	switch t.Transport {
	case TransportHTTP1, TransportH2C, TransportH2, TransportH3:
	case TransportH2CRPC, TransportH2RPC:
		if t.Impl != ImplPolyconnect && t.Impl != ImplRaw {
			return fmt.Errorf("%s runs on net/http or its own HTTP/2, not on transport-h2's %s", t.Impl, t.Transport)
		}
	default:
		return fmt.Errorf("unknown transport %q (want one of %s)", t.Transport, strings.Join(Transports, ", "))
	}
	switch t.Impl {
	case ImplPolyconnect, ImplConnectGo:
		switch t.Protocol {
		case ProtocolConnect, ProtocolGRPCWeb:
		case ProtocolGRPC:
			if t.Transport == TransportHTTP1 {
				return errors.New("gRPC needs HTTP/2: use h2c or h2")
			}
		default:
			return fmt.Errorf("%s speaks connect, grpc and grpcweb, not %q", t.Impl, t.Protocol)
		}
	case ImplGRPCGo:
		if t.Protocol != ProtocolGRPC {
			return fmt.Errorf("grpc-go speaks only grpc, not %q", t.Protocol)
		}
		if t.Transport == TransportHTTP1 {
			return errors.New("grpc-go needs HTTP/2: use h2c or h2")
		}
		if t.Transport == TransportH3 {
			return errors.New("grpc-go has no HTTP/3 transport")
		}
	case ImplRaw:
		if t.Protocol != ProtocolNone {
			return fmt.Errorf("raw speaks no RPC protocol: use protocol %q", ProtocolNone)
		}
	default:
		return fmt.Errorf("unknown implementation %q (want one of %s)", t.Impl, strings.Join(Impls, ", "))
	}
	return nil
}

// FullDuplex reports whether t can interleave sends and receives on one
// stream, which the Bidi ping-pong needs: not over HTTP/1.1.
func (t Target) FullDuplex() bool { return t.Transport != TransportHTTP1 }

// Targets returns every meaningful target, grouped by implementation.
func Targets() []Target {
	var out []Target
	for _, impl := range Impls {
		for _, proto := range Protocols {
			for _, tr := range Transports {
				t := Target{impl, proto, tr}
				if t.Check() == nil {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// Client is the common client API. Its methods are safe for concurrent use.
// Each returns an error if the call fails or if the answer is not what the
// bench service promises (wrong size or count).
type Client interface {
	// Unary sends req and checks that the response has as many bytes.
	Unary(ctx context.Context, req *benchv1.Payload) error
	// ServerStream asks for count messages of size bytes and receives them.
	ServerStream(ctx context.Context, count, size int) error
	// ClientStream sends msg count times and waits for the answer.
	ClientStream(ctx context.Context, count int, msg *benchv1.Payload) error
	// Bidi sends msg and waits for its echo, count times on one stream.
	Bidi(ctx context.Context, count int, msg *benchv1.Payload) error
	// Close releases the client's connections.
	Close()
}

// Server is a running benchmark server.
type Server struct {
	// URL is the base URL to give NewClient: "http://127.0.0.1:port" or
	// "https://127.0.0.1:port".
	URL   string
	close func()
}

// Close stops the server at once.
func (s *Server) Close() { s.close() }

// StartServer starts t's server on 127.0.0.1 with a free port.
func StartServer(t Target) (*Server, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	if t.Impl == ImplGRPCGo {
		return startGRPCGoServer(t.Transport)
	}
	mux := http.NewServeMux()
	switch t.Impl {
	case ImplPolyconnect:
		mountPolyconnect(mux)
	case ImplConnectGo:
		mountConnectGo(mux)
	case ImplRaw:
		mountRaw(mux)
	}
	if t.Transport == TransportH3 {
		return startH3Server(t.Impl, mux)
	}
	if IsH2Engine(t.Transport) {
		return startH2Server(t.Transport, mux)
	}
	return startNetHTTPServer(t.Transport, mux)
}

// ClientOptions adjusts NewClientWith.
type ClientOptions struct {
	// InsecureSkipVerify makes h2 clients accept any server certificate,
	// for servers not started by this package. By default they trust only
	// the in-memory test CA of StartServer.
	InsecureSkipVerify bool
}

// NewClient returns a client of t that calls the server at baseURL.
func NewClient(t Target, baseURL string) (Client, error) {
	return NewClientWith(t, baseURL, ClientOptions{})
}

// NewClientWith is NewClient with options.
func NewClientWith(t Target, baseURL string, opts ClientOptions) (Client, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	if t.Impl == ImplGRPCGo {
		return newGRPCGoClient(t.Transport, baseURL, opts.InsecureSkipVerify)
	}
	var hc HTTPDoer
	var err error
	switch {
	case t.Transport == TransportH3:
		hc, err = newH3Client(t.Impl, opts.InsecureSkipVerify)
	case IsH2Engine(t.Transport):
		hc, err = newH2Client(t.Transport, opts.InsecureSkipVerify)
	default:
		hc, err = newNetHTTPClient(t.Transport, opts.InsecureSkipVerify)
	}
	if err != nil {
		return nil, err
	}
	switch t.Impl {
	case ImplPolyconnect:
		return newPolyconnectClient(hc, baseURL, t.Protocol), nil
	case ImplConnectGo:
		return newConnectGoClient(hc, baseURL, t.Protocol), nil
	default:
		return newRawClient(hc, baseURL), nil
	}
}

// NewPayload returns a message carrying size bytes.
func NewPayload(size int) *benchv1.Payload {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return &benchv1.Payload{Payload: b}
}

// errSize reports a response whose size does not match the request's.
func errSize(what string, got, want int) error {
	return fmt.Errorf("%s: got %d bytes, want %d", what, got, want)
}

// errCount reports a stream that carried the wrong number of messages.
func errCount(what string, got, want int) error {
	return fmt.Errorf("%s: got %d messages, want %d", what, got, want)
}
