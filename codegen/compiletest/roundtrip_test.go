package compiletest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"

	ctxv1 "polyconnect.dev/codegen/compiletest/gen/clash/ctx"
	httpv1 "polyconnect.dev/codegen/compiletest/gen/clash/http"
	rpcv1 "polyconnect.dev/codegen/compiletest/gen/clash/rpc"
	"polyconnect.dev/codegen/compiletest/gen/clash/rpc/rpcrpc"
	greetv1 "polyconnect.dev/codegen/compiletest/gen/greet/v1"
	"polyconnect.dev/codegen/compiletest/gen/greet/v1/greetv1rpc"
	"polyconnect.dev/codegen/compiletest/gen/multi/v1/multiv1rpc"
	streamsv1 "polyconnect.dev/codegen/compiletest/gen/streams/v1"
	"polyconnect.dev/codegen/compiletest/gen/streams/v1/streamsv1rpc"
	samepkgv1 "polyconnect.dev/codegen/compiletest/gensame/samepkg/v1"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// serve mounts the handlers on an in-memory server and returns its client and base URL.
func serve(t *testing.T, handlers ...func() (string, http.Handler)) (rpc.HTTPClient, string) {
	t.Helper()
	mux := http.NewServeMux()
	for _, h := range handlers {
		mux.Handle(h())
	}
	srv := rpctest.NewServer(t, mux)
	return srv.HTTP2Client(), srv.URL()
}

// checkSpec checks the spec of the current call, which the generated code built.
func checkSpec(ctx context.Context, procedure string, streamType rpc.StreamType, idempotency rpc.IdempotencyLevel) error {
	info, ok := rpc.HandlerCallInfo(ctx)
	if !ok {
		return rpc.NewError(rpc.CodeInternal, "no call info")
	}
	spec := info.Spec()
	md, ok := spec.Schema.(protoreflect.MethodDescriptor)
	switch {
	case spec.Procedure != procedure:
		return rpc.NewError(rpc.CodeInternal, "procedure "+spec.Procedure)
	case spec.StreamType != streamType || spec.IdempotencyLevel != idempotency:
		return rpc.NewError(rpc.CodeInternal, "wrong stream type or idempotency level")
	case !ok:
		return rpc.NewError(rpc.CodeInternal, "schema is not a method descriptor")
	case "/"+string(md.Parent().FullName())+"/"+string(md.Name()) != procedure:
		return rpc.NewError(rpc.CodeInternal, "schema is "+string(md.FullName()))
	}
	return nil
}

type greeter struct {
	greetv1rpc.UnimplementedGreetServiceHandler
}

func (greeter) Greet(ctx context.Context, req *greetv1.GreetRequest) (*greetv1.GreetResponse, error) {
	if err := checkSpec(ctx, greetv1rpc.GreetServiceGreetProcedure, rpc.StreamTypeUnary, rpc.IdempotencyNoSideEffects); err != nil {
		return nil, err
	}
	return &greetv1.GreetResponse{Greeting: "Hello, " + req.GetName()}, nil
}

func TestGreet(t *testing.T) {
	path, _ := greetv1rpc.NewGreetServiceHandler(greeter{})
	if path != "/greet.v1.GreetService/" || greetv1rpc.GreetServiceName != "greet.v1.GreetService" {
		t.Errorf("mount path %q, service name %q", path, greetv1rpc.GreetServiceName)
	}
	httpClient, url := serve(t, func() (string, http.Handler) { return greetv1rpc.NewGreetServiceHandler(greeter{}) })
	client := greetv1rpc.NewGreetServiceClient(httpClient, url)
	res, err := client.Greet(t.Context(), &greetv1.GreetRequest{Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetGreeting() != "Hello, Ada" {
		t.Errorf("greeting %q", res.GetGreeting())
	}
}

// streamer implements the four stream kinds of StreamService; the other methods come from the
// embedded UnimplementedStreamServiceHandler.
type streamer struct {
	streamsv1rpc.UnimplementedStreamServiceHandler
}

func (streamer) Unary(ctx context.Context, req *streamsv1.Number) (*streamsv1.Number, error) {
	if err := checkSpec(ctx, streamsv1rpc.StreamServiceUnaryProcedure, rpc.StreamTypeUnary, rpc.IdempotencyIdempotent); err != nil {
		return nil, err
	}
	return &streamsv1.Number{Value: -req.GetValue()}, nil
}

func (streamer) ServerStream(ctx context.Context, req *streamsv1.Number, stream *rpc.ServerStream[streamsv1.Number]) error {
	if err := checkSpec(ctx, streamsv1rpc.StreamServiceServerStreamProcedure, rpc.StreamTypeServer, rpc.IdempotencyNoSideEffects); err != nil {
		return err
	}
	for i := range req.GetValue() {
		if err := stream.Send(&streamsv1.Number{Value: i}); err != nil {
			return err
		}
	}
	return nil
}

func (streamer) ClientStream(ctx context.Context, stream *rpc.ClientStream[streamsv1.Number]) (*streamsv1.Number, error) {
	if err := checkSpec(ctx, streamsv1rpc.StreamServiceClientStreamProcedure, rpc.StreamTypeClient, rpc.IdempotencyUnknown); err != nil {
		return nil, err
	}
	sum := &streamsv1.Number{}
	for n, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		sum.Value += n.GetValue()
	}
	return sum, nil
}

func (streamer) BidiStream(ctx context.Context, stream *rpc.BidiStream[streamsv1.Number, streamsv1.Number]) error {
	if err := checkSpec(ctx, streamsv1rpc.StreamServiceBidiStreamProcedure, rpc.StreamTypeBidi, rpc.IdempotencyUnknown); err != nil {
		return err
	}
	for {
		n, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&streamsv1.Number{Value: 2 * n.GetValue()}); err != nil {
			return err
		}
	}
}

func TestStreamKinds(t *testing.T) {
	httpClient, url := serve(t, func() (string, http.Handler) { return streamsv1rpc.NewStreamServiceHandler(streamer{}) })
	client := streamsv1rpc.NewStreamServiceClient(httpClient, url)
	ctx := t.Context()

	t.Run("unary", func(t *testing.T) {
		res, err := client.Unary(ctx, &streamsv1.Number{Value: 7})
		if err != nil || res.GetValue() != -7 {
			t.Fatalf("Unary = %v, %v", res, err)
		}
	})
	t.Run("server", func(t *testing.T) {
		call, err := client.ServerStream(ctx, &streamsv1.Number{Value: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer call.Close()
		var got []int64
		for n, err := range call.All() {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n.GetValue())
		}
		if len(got) != 4 || got[3] != 3 {
			t.Errorf("received %v, want [0 1 2 3]", got)
		}
	})
	t.Run("client", func(t *testing.T) {
		call, err := client.ClientStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := int64(1); i <= 4; i++ {
			if err := call.Send(&streamsv1.Number{Value: i}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := call.CloseAndReceive()
		if err != nil || res.GetValue() != 10 {
			t.Fatalf("CloseAndReceive = %v, %v", res, err)
		}
	})
	t.Run("bidi", func(t *testing.T) {
		call, err := client.BidiStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := int64(1); i <= 3; i++ {
			if err := call.Send(&streamsv1.Number{Value: i}); err != nil {
				t.Fatal(err)
			}
			n, err := call.Receive()
			if err != nil || n.GetValue() != 2*i {
				t.Fatalf("Receive = %v, %v; want %d", n, err, 2*i)
			}
		}
		if err := call.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := call.Receive(); !errors.Is(err, io.EOF) {
			t.Errorf("Receive after CloseSend = %v, want io.EOF", err)
		}
		if err := call.CloseReceive(); err != nil {
			t.Error(err)
		}
	})
	t.Run("unimplemented", func(t *testing.T) {
		_, err := client.Nothing(ctx, &emptypb.Empty{})
		if rpc.CodeOf(err) != rpc.CodeUnimplemented || !strings.Contains(err.Error(), "streams.v1.StreamService.Nothing is not implemented") {
			t.Errorf("Nothing = %v, want the Unimplemented handler's error", err)
		}
	})
}

func TestUnknownService(t *testing.T) {
	httpClient, url := serve(t, func() (string, http.Handler) {
		return multiv1rpc.NewPingServiceHandler(multiv1rpc.UnimplementedPingServiceHandler{})
	})
	// A method of a service that is not mounted, and a path under a mounted service's prefix
	// that is not one of its methods.
	echo := multiv1rpc.NewEchoServiceClient(httpClient, url)
	if _, err := echo.Echo(t.Context(), nil); rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Errorf("unmounted service: %v, want CodeUnimplemented", err)
	}
	ping := rpc.NewClient[emptypb.Empty, emptypb.Empty](httpClient, url, rpc.Spec{Procedure: "/" + multiv1rpc.PingServiceName + "/Missing"})
	if _, err := ping.CallUnary(t.Context(), &emptypb.Empty{}); rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Errorf("unknown method of a mounted service: %v, want CodeUnimplemented", err)
	}
}

type clasher struct {
	rpcrpc.UnimplementedClashServiceHandler
}

func (clasher) Unary(_ context.Context, req *ctxv1.Message) (*httpv1.Message, error) {
	return &httpv1.Message{Text: req.GetText()}, nil
}

func (clasher) Own(_ context.Context, req *rpcv1.Message) (*rpcv1.Message, error) {
	return &rpcv1.Message{Text: req.GetText() + "!"}, nil
}

// TestImportClashes calls a service whose message packages are named rpc, http, ctx and context.
func TestImportClashes(t *testing.T) {
	httpClient, url := serve(t, func() (string, http.Handler) { return rpcrpc.NewClashServiceHandler(clasher{}) })
	client := rpcrpc.NewClashServiceClient(httpClient, url)
	res, err := client.Unary(t.Context(), &ctxv1.Message{Text: "a"})
	if err != nil || res.GetText() != "a" {
		t.Fatalf("Unary = %v, %v", res, err)
	}
	own, err := client.Own(t.Context(), &rpcv1.Message{Text: "b"})
	if err != nil || own.GetText() != "b!" {
		t.Fatalf("Own = %v, %v", own, err)
	}
}

type thing struct {
	samepkgv1.UnimplementedThingServiceHandler_
}

func (thing) Make(ctx context.Context, _ *samepkgv1.Request) (*samepkgv1.Response, error) {
	if err := checkSpec(ctx, samepkgv1.ThingServiceMakeProcedure, rpc.StreamTypeUnary, rpc.IdempotencyUnknown); err != nil {
		return nil, err
	}
	return &samepkgv1.Response{}, nil
}

// TestSamePackage calls code generated into protoc-gen-go's package, whose specs get their
// schema from an init function.
func TestSamePackage(t *testing.T) {
	httpClient, url := serve(t, func() (string, http.Handler) { return samepkgv1.NewThingServiceHandler(thing{}) })
	client := samepkgv1.NewThingServiceClient(httpClient, url)
	if _, err := client.Make(t.Context(), &samepkgv1.Request{}); err != nil {
		t.Fatal(err)
	}
	call, err := client.Watch(t.Context(), &samepkgv1.Request{})
	if err == nil {
		_, err = call.Receive()
		call.Close()
	}
	if rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Errorf("Watch: %v, want CodeUnimplemented", err)
	}
}
