package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/raw"
)

// rawEchoMux is echoMux built with NewRawHandler: the same behaviour, so
// testEcho's typed clients check the raw handlers on every protocol.
func rawEchoMux(opts ...rpc.HandlerOption) *http.ServeMux {
	mux := http.NewServeMux()
	unary := func(ctx context.Context, call raw.Call) error {
		req := new(sv)
		if err := call.Receive(req); err != nil {
			return err
		}
		res, err := call.Unary(ctx, req, func(ctx context.Context, m proto.Message) (proto.Message, error) {
			req := m.(*sv)
			info, _ := rpc.HandlerCallInfo(ctx)
			info.ResponseHeader().Set("X-Echo", info.RequestHeader().Get("X-Echo"))
			info.ResponseTrailer().Set("X-Method", info.HTTPMethod())
			if req.Value == "fail" {
				e := rpc.NewError(rpc.CodeFailedPrecondition, "told to fail")
				_ = e.AddDetail(wrapperspb.String("detail"))
				e.Meta().Set("X-Err", "yes")
				return nil, e
			}
			return wrapperspb.String(req.Value), nil
		})
		if err != nil {
			return err
		}
		return call.Send(res)
	}
	mux.Handle(specUnary.Procedure, raw.NewHandler(specUnary, unary, opts...))
	mux.Handle(specGet.Procedure, raw.NewHandler(specGet, unary, opts...))
	mux.Handle(specServer.Procedure, raw.NewHandler(specServer, func(ctx context.Context, call raw.Call) error {
		req := new(sv)
		if err := call.Receive(req); err != nil {
			return err
		}
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Count", "3")
		for i := range 3 {
			if err := call.Send(wrapperspb.String(fmt.Sprintf("%s-%d", req.Value, i))); err != nil {
				return err
			}
		}
		if req.Value == "fail" {
			return rpc.NewError(rpc.CodeAborted, "after three")
		}
		return nil
	}, opts...))
	mux.Handle(specClient.Procedure, raw.NewHandler(specClient, func(ctx context.Context, call raw.Call) error {
		var parts []string
		for {
			msg := new(sv)
			err := call.Receive(msg)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			parts = append(parts, msg.Value)
		}
		return call.Send(wrapperspb.String(strings.Join(parts, ",")))
	}, opts...))
	mux.Handle(specBidi.Procedure, raw.NewHandler(specBidi, func(ctx context.Context, call raw.Call) error {
		for {
			msg := new(sv)
			err := call.Receive(msg)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := call.Send(wrapperspb.String("echo:" + msg.Value)); err != nil {
				return err
			}
		}
	}, opts...))
	return mux
}

func TestRawHandlerEveryProtocol(t *testing.T) {
	var seen atomic.Int64
	counter := rpc.HandlerUnaryInterceptorFunc(func(spec rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			if _, ok := req.(*sv); !ok {
				return nil, rpc.NewError(rpc.CodeInternal, fmt.Sprintf("interceptor saw %T", req))
			}
			seen.Add(1)
			return next(ctx, req)
		}
	})
	srv, h2 := newH2CServer(t, rawEchoMux(rpc.WithHandlerInterceptors(counter)))
	t.Run("connect", func(t *testing.T) { testEcho(t, h2, srv.URL, true) })
	t.Run("connect-http1-json", func(t *testing.T) { testEcho(t, srv.Client(), srv.URL, false, rpc.WithProtoJSON()) })
	for _, p := range grpcProtocols {
		t.Run(p.name, func(t *testing.T) {
			testGRPCEcho(t, h2, srv.URL, p.protocol, true, rpc.WithProtocol(p.protocol))
		})
	}
	if seen.Load() == 0 {
		t.Fatal("the unary interceptor never ran")
	}
}

// TestRawClient calls the typed echo service with a RawClient on every
// protocol, with an interceptor, and waits for stream headers.
func TestRawClient(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	var calls atomic.Int64
	counter := rpc.ClientUnaryInterceptorFunc(func(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			calls.Add(1)
			return next(ctx, req)
		}
	})
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		for _, withInterceptor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/interceptor=%v", p, withInterceptor), func(t *testing.T) {
				opts := []rpc.ClientOption{rpc.WithProtocol(p)}
				if withInterceptor {
					opts = append(opts, rpc.WithClientInterceptors(counter))
				}
				ctx := context.Background()
				for _, spec := range []rpc.Spec{specUnary, specGet} {
					c := raw.NewClient(h2, srv.URL, spec, opts...)
					cctx, info := rpc.NewClientContext(ctx)
					info.RequestHeader().Set("X-Echo", "hi")
					res := new(sv)
					if err := c.Invoke(cctx, wrapperspb.String("hello"), res); err != nil {
						t.Fatal(err)
					}
					if res.Value != "hello" || info.ResponseHeader().Get("X-Echo") != "hi" {
						t.Fatalf("res %v, header %v", res, info.ResponseHeader())
					}
					wantMethod := "POST"
					if p == rpc.ProtocolConnect && spec.IdempotencyLevel == rpc.IdempotencyNoSideEffects {
						wantMethod = "GET"
					}
					if got := info.ResponseTrailer().Get("X-Method"); got != wantMethod {
						t.Errorf("X-Method = %q, want %q", got, wantMethod)
					}
					err := c.Invoke(ctx, wrapperspb.String("fail"), new(sv))
					var rerr *rpc.Error
					if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeFailedPrecondition || len(rerr.Details()) != 1 {
						t.Fatalf("error = %v", err)
					}
				}

				stream, err := raw.NewClient(h2, srv.URL, specServer, opts...).NewStream(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := stream.Send(wrapperspb.String("s")); err != nil {
					t.Fatal(err)
				}
				if err := stream.CloseRequest(); err != nil {
					t.Fatal(err)
				}
				if _, err := raw.WaitResponseHeader(stream); err != nil {
					t.Fatal(err)
				}
				var got []string
				for {
					msg := new(sv)
					err := stream.Receive(msg)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, msg.Value)
				}
				if strings.Join(got, " ") != "s-0 s-1 s-2" || stream.ResponseTrailer().Get("X-Count") != "3" {
					t.Fatalf("got %v, trailer %v", got, stream.ResponseTrailer())
				}
			})
		}
	}
	if calls.Load() != 12 {
		t.Errorf("interceptor saw %d unary calls, want 12", calls.Load())
	}
}

// TestWaitResponseHeaderBeforeMessages: a bidi handler sends its headers
// and then waits for the client; the client sees them without a message.
func TestWaitResponseHeaderBeforeMessages(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Early", "yes")
		if err := rpc.SendHeader(ctx); err != nil {
			return err
		}
		_, err := s.Receive() // waits for the client's CloseSend
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}))
	srv, h2 := newH2CServer(t, mux)
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		stream, err := raw.NewClient(h2, srv.URL, specBidi, rpc.WithProtocol(p)).NewStream(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		h, err := raw.WaitResponseHeader(stream)
		if err != nil || h.Get("X-Early") != "yes" {
			t.Fatalf("%v: header %v, %v", p, h, err)
		}
		_ = stream.CloseRequest()
		if err := stream.Receive(new(sv)); !errors.Is(err, io.EOF) {
			t.Fatalf("%v: end %v", p, err)
		}
	}
	// A stream an interceptor wrapped without the wait reports so.
	wrap := rpc.ClientStreamInterceptorFunc(func(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
		return func(ctx context.Context) (rpc.StreamingClientConn, error) {
			conn, err := next(ctx)
			return struct{ rpc.StreamingClientConn }{conn}, err
		}
	})
	stream, err := raw.NewClient(h2, srv.URL, specBidi, rpc.WithClientInterceptors(wrap)).NewStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseResponse()
	if _, err := raw.WaitResponseHeader(stream); !errors.Is(err, raw.ErrHeaderWaitUnsupported) {
		t.Fatalf("wrapped stream: %v", err)
	}
}

func TestSpecOf(t *testing.T) {
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:       proto.String("spec.proto"),
		Package:    proto.String("t.v1"),
		Dependency: []string{"google/protobuf/wrappers.proto"},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("S"),
			Method: []*descriptorpb.MethodDescriptorProto{
				{Name: proto.String("Get"), InputType: proto.String(".google.protobuf.StringValue"), OutputType: proto.String(".google.protobuf.StringValue"),
					Options: &descriptorpb.MethodOptions{IdempotencyLevel: descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum()}},
				{Name: proto.String("Bidi"), InputType: proto.String(".google.protobuf.StringValue"), OutputType: proto.String(".google.protobuf.StringValue"),
					ClientStreaming: proto.Bool(true), ServerStreaming: proto.Bool(true)},
			},
		}},
	}, protoRegistryFiles())
	if err != nil {
		t.Fatal(err)
	}
	methods := fd.Services().Get(0).Methods()
	get, bidi := raw.SpecOf(methods.Get(0)), raw.SpecOf(methods.Get(1))
	if get.Procedure != "/t.v1.S/Get" || get.StreamType != rpc.StreamTypeUnary || get.IdempotencyLevel != rpc.IdempotencyNoSideEffects || get.Schema != methods.Get(0) {
		t.Errorf("Get: %+v", get)
	}
	if bidi.Procedure != "/t.v1.S/Bidi" || bidi.StreamType != rpc.StreamTypeBidi || bidi.IdempotencyLevel != rpc.IdempotencyUnknown {
		t.Errorf("Bidi: %+v", bidi)
	}
}

func protoRegistryFiles() *protoregistry.Files { return protoregistry.GlobalFiles }
