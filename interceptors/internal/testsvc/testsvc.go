// Package testsvc is the test service the interceptors' tests share: four
// procedures, one of each kind, on google.protobuf.StringValue messages,
// served in memory by rpctest, and clients for every protocol and HTTP
// version, so each interceptor is tested for unary calls and every stream kind
// on Connect, gRPC and gRPC-Web.
package testsvc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// Msg is the message of every procedure.
type Msg = wrapperspb.StringValue

// The procedures.
const (
	Service      = "test.v1.TestService"
	Unary        = "/test.v1.TestService/Unary"
	ServerStream = "/test.v1.TestService/ServerStream"
	ClientStream = "/test.v1.TestService/ClientStream"
	Bidi         = "/test.v1.TestService/Bidi"
)

// Spec returns the spec of the procedure of stream type st, at idempotency
// level idem.
func Spec(st rpc.StreamType, idem rpc.IdempotencyLevel) rpc.Spec {
	procs := map[rpc.StreamType]string{
		rpc.StreamTypeUnary: Unary, rpc.StreamTypeServer: ServerStream,
		rpc.StreamTypeClient: ClientStream, rpc.StreamTypeBidi: Bidi,
	}
	return rpc.Spec{Procedure: procs[st], StreamType: st, IdempotencyLevel: idem}
}

// Handlers says how the service answers. Handle, if set, serves every kind:
// each request message's value goes through it and its result is sent back
// (a server stream sends one response; a client stream answers with the
// results joined by ","); a nil Handle echoes. The per-kind fields, when set,
// replace Handle for their kind.
type Handlers struct {
	Handle       func(ctx context.Context, in string) (string, error)
	Unary        func(context.Context, *Msg) (*Msg, error)
	ServerStream func(context.Context, *Msg, *rpc.ServerStream[Msg]) error
	ClientStream func(context.Context, *rpc.ClientStream[Msg]) (*Msg, error)
	Bidi         func(context.Context, *rpc.BidiStream[Msg, Msg]) error
}

func (h Handlers) handle(ctx context.Context, in string) (string, error) {
	if h.Handle == nil {
		return in, nil
	}
	return h.Handle(ctx, in)
}

// NewMux returns a mux serving the four procedures at idempotency level idem.
func NewMux(h Handlers, idem rpc.IdempotencyLevel, opts ...rpc.HandlerOption) *http.ServeMux {
	unary := h.Unary
	if unary == nil {
		unary = func(ctx context.Context, req *Msg) (*Msg, error) {
			out, err := h.handle(ctx, req.GetValue())
			if err != nil {
				return nil, err
			}
			return wrapperspb.String(out), nil
		}
	}
	server := h.ServerStream
	if server == nil {
		server = func(ctx context.Context, req *Msg, s *rpc.ServerStream[Msg]) error {
			out, err := h.handle(ctx, req.GetValue())
			if err != nil {
				return err
			}
			return s.Send(wrapperspb.String(out))
		}
	}
	client := h.ClientStream
	if client == nil {
		client = func(ctx context.Context, s *rpc.ClientStream[Msg]) (*Msg, error) {
			var outs []string
			for msg, err := range s.All() {
				if err != nil {
					return nil, err
				}
				out, err := h.handle(ctx, msg.GetValue())
				if err != nil {
					return nil, err
				}
				outs = append(outs, out)
			}
			return wrapperspb.String(strings.Join(outs, ",")), nil
		}
	}
	bidi := h.Bidi
	if bidi == nil {
		bidi = func(ctx context.Context, s *rpc.BidiStream[Msg, Msg]) error {
			for msg, err := range s.All() {
				if err != nil {
					return err
				}
				out, err := h.handle(ctx, msg.GetValue())
				if err != nil {
					return err
				}
				if err := s.Send(wrapperspb.String(out)); err != nil {
					return err
				}
			}
			return nil
		}
	}
	mux := http.NewServeMux()
	mux.Handle(Unary, rpc.NewUnaryHandler(Spec(rpc.StreamTypeUnary, idem), unary, opts...))
	mux.Handle(ServerStream, rpc.NewServerStreamHandler(Spec(rpc.StreamTypeServer, idem), server, opts...))
	mux.Handle(ClientStream, rpc.NewClientStreamHandler(Spec(rpc.StreamTypeClient, idem), client, opts...))
	mux.Handle(Bidi, rpc.NewBidiStreamHandler(Spec(rpc.StreamTypeBidi, idem), bidi, opts...))
	return mux
}

// Variant is one protocol over one HTTP version.
type Variant struct {
	Name     string
	Protocol rpc.Protocol
	HTTP2    bool
}

// Variants are the protocol and HTTP version pairs the tests cover: Connect
// and gRPC-Web over HTTP/1.1 and h2c, gRPC over h2c.
var Variants = []Variant{
	{"connect/h1", rpc.ProtocolConnect, false},
	{"connect/h2c", rpc.ProtocolConnect, true},
	{"grpc/h2c", rpc.ProtocolGRPC, true},
	{"grpcweb/h1", rpc.ProtocolGRPCWeb, false},
	{"grpcweb/h2c", rpc.ProtocolGRPCWeb, true},
}

// HTTPClient returns srv's client for v's HTTP version.
func (v Variant) HTTPClient(srv *rpctest.Server) *http.Client {
	if v.HTTP2 {
		return srv.HTTP2Client()
	}
	return srv.Client()
}

// Clients holds a client for each procedure.
type Clients struct {
	Unary        *rpc.Client[Msg, Msg]
	ServerStream *rpc.Client[Msg, Msg]
	ClientStream *rpc.Client[Msg, Msg]
	Bidi         *rpc.Client[Msg, Msg]
}

// NewClients returns clients of the four procedures, at idempotency level
// idem, that speak v's protocol to baseURL through hc.
func NewClients(hc rpc.HTTPClient, baseURL string, v Variant, idem rpc.IdempotencyLevel, opts ...rpc.ClientOption) Clients {
	opts = append([]rpc.ClientOption{rpc.WithProtocol(v.Protocol)}, opts...)
	return Clients{
		Unary:        rpc.NewClient[Msg, Msg](hc, baseURL, Spec(rpc.StreamTypeUnary, idem), opts...),
		ServerStream: rpc.NewClient[Msg, Msg](hc, baseURL, Spec(rpc.StreamTypeServer, idem), opts...),
		ClientStream: rpc.NewClient[Msg, Msg](hc, baseURL, Spec(rpc.StreamTypeClient, idem), opts...),
		Bidi:         rpc.NewClient[Msg, Msg](hc, baseURL, Spec(rpc.StreamTypeBidi, idem), opts...),
	}
}

// Start serves h in memory for the test's lifetime and returns the server
// with clients for v.
func Start(tb testing.TB, h http.Handler, v Variant, idem rpc.IdempotencyLevel, opts ...rpc.ClientOption) (*rpctest.Server, Clients) {
	tb.Helper()
	srv := rpctest.NewServer(tb, h)
	return srv, NewClients(v.HTTPClient(srv), srv.URL(), v, idem, opts...)
}

// Kind is one kind of call made the same way for every stream type: send
// the values in, collect the values out.
type Kind struct {
	Name       string
	StreamType rpc.StreamType
	// Call sends ins (a unary or server-streaming call sends only the
	// first) and returns the responses.
	Call func(ctx context.Context, c Clients, ins ...string) ([]string, error)
}

// Kinds are the four kinds of call.
var Kinds = []Kind{
	{"unary", rpc.StreamTypeUnary, CallUnary},
	{"server", rpc.StreamTypeServer, CallServerStream},
	{"client", rpc.StreamTypeClient, CallClientStream},
	{"bidi", rpc.StreamTypeBidi, CallBidi},
}

// CallUnary calls Unary with ins[0].
func CallUnary(ctx context.Context, c Clients, ins ...string) ([]string, error) {
	res, err := c.Unary.CallUnary(ctx, wrapperspb.String(first(ins)))
	if err != nil {
		return nil, err
	}
	return []string{res.GetValue()}, nil
}

// CallServerStream calls ServerStream with ins[0] and collects the responses.
func CallServerStream(ctx context.Context, c Clients, ins ...string) ([]string, error) {
	s, err := c.ServerStream.CallServerStream(ctx, wrapperspb.String(first(ins)))
	if err != nil {
		return nil, err
	}
	var outs []string
	for msg, err := range s.All() {
		if err != nil {
			return outs, err
		}
		outs = append(outs, msg.GetValue())
	}
	return outs, nil
}

// CallClientStream sends ins on ClientStream and returns the response.
func CallClientStream(ctx context.Context, c Clients, ins ...string) ([]string, error) {
	s, err := c.ClientStream.CallClientStream(ctx)
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		if err := s.Send(wrapperspb.String(in)); err != nil {
			if errors.Is(err, io.EOF) {
				break // the status comes from CloseAndReceive
			}
			return nil, err
		}
	}
	res, err := s.CloseAndReceive()
	if err != nil {
		return nil, err
	}
	return []string{res.GetValue()}, nil
}

// CallBidi sends ins on Bidi, closes the request side and collects the
// responses (half duplex, so it works over HTTP/1.1 as well).
func CallBidi(ctx context.Context, c Clients, ins ...string) ([]string, error) {
	s, err := c.Bidi.CallBidiStream(ctx)
	if err != nil {
		return nil, err
	}
	defer s.CloseReceive()
	for _, in := range ins {
		if err := s.Send(wrapperspb.String(in)); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
	}
	if err := s.CloseSend(); err != nil {
		return nil, err
	}
	var outs []string
	for msg, err := range s.All() {
		if err != nil {
			return outs, err
		}
		outs = append(outs, msg.GetValue())
	}
	return outs, nil
}

func first(ins []string) string {
	if len(ins) == 0 {
		return ""
	}
	return ins[0]
}
