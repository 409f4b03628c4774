package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// A unary method is a plain function; NewUnaryHandler serves it and
// NewClient calls it. Generated code does this wiring for every method.
func Example() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	greet := func(ctx context.Context, name *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if name.Value == "" {
			return nil, rpc.NewError(rpc.CodeInvalidArgument, "name is required")
		}
		return wrapperspb.String("Hello, " + name.Value + "!"), nil
	}
	mux := http.NewServeMux()
	mux.Handle(spec.Procedure, rpc.NewUnaryHandler(spec, greet))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	res, err := client.CallUnary(context.Background(), wrapperspb.String("Ada"))
	fmt.Println(res.GetValue(), err)
	_, err = client.CallUnary(context.Background(), wrapperspb.String(""))
	fmt.Println(rpc.CodeOf(err), err)
	// Output:
	// Hello, Ada! <nil>
	// invalid_argument invalid_argument: name is required
}

// Server-streaming results are consumed with a range loop.
func ExampleNewServerStreamHandler() {
	spec := rpc.Spec{Procedure: "/example.v1.Counter/Count", StreamType: rpc.StreamTypeServer}
	count := func(ctx context.Context, req *wrapperspb.Int32Value, stream *rpc.ServerStream[wrapperspb.Int32Value]) error {
		for i := int32(1); i <= req.Value; i++ {
			if err := stream.Send(wrapperspb.Int32(i)); err != nil {
				return err
			}
		}
		return nil
	}
	srv := httptest.NewServer(rpc.NewServerStreamHandler(spec, count))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.Int32Value, wrapperspb.Int32Value](srv.Client(), srv.URL, spec)
	stream, err := client.CallServerStream(context.Background(), wrapperspb.Int32(3))
	if err != nil {
		fmt.Println(err)
		return
	}
	for msg, err := range stream.All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(msg.Value)
	}
	// Output:
	// 1
	// 2
	// 3
}

// Headers and trailers travel through the context: the handler reads and
// writes them with CallInfoFromContext, the client with NewCallContext.
func ExampleNewCallContext() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Whoami"}
	whoami := func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		info, _ := rpc.CallInfoFromContext(ctx)
		info.ResponseHeader().Set("Served-By", "example")
		info.ResponseTrailer().Set("Request-Cost", "1")
		return wrapperspb.String(info.RequestHeader().Get("User")), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, whoami))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	ctx, call := rpc.NewCallContext(context.Background())
	call.RequestHeader().Set("User", "grace")
	res, err := client.CallUnary(ctx, &wrapperspb.StringValue{})
	fmt.Println(res.GetValue(), err)
	fmt.Println(call.ResponseHeader().Get("Served-By"), call.ResponseTrailer().Get("Request-Cost"))
	// Output:
	// grace <nil>
	// example 1
}

// Errors carry a code, a message for the peer, a local cause that is never
// sent, and typed details.
func ExampleNewError() {
	cause := errors.New("connection to the inventory database refused")
	err := rpc.NewError(rpc.CodeUnavailable, "inventory is unavailable").WithCause(cause)
	_ = err.AddDetail(wrapperspb.String("retry in 5s"))

	fmt.Println(err.Code(), err.Message())
	fmt.Println(errors.Is(err, cause))
	detail, _ := err.Details()[0].UnmarshalNew()
	fmt.Println(detail.(*wrapperspb.StringValue).Value)
	// Output:
	// unavailable inventory is unavailable
	// true
	// retry in 5s
}

// Interceptors wrap calls on both sides; UnaryInterceptorFunc adapts a
// function for unary calls.
func ExampleUnaryInterceptorFunc() {
	logCalls := rpc.UnaryInterceptorFunc(func(next rpc.UnaryFunc) rpc.UnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			info, _ := rpc.CallInfoFromContext(ctx)
			res, err := next(ctx, req)
			side := "handler"
			if info.IsClient() {
				side = "client"
			}
			fmt.Println(side, info.Procedure(), rpc.CodeOf(err))
			return res, err
		}
	})
	spec := rpc.Spec{Procedure: "/example.v1.Echo/Echo"}
	echo := func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return req, nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, echo, rpc.WithInterceptors(logCalls)))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec, rpc.WithInterceptors(logCalls))
	_, _ = client.CallUnary(context.Background(), wrapperspb.String("hi"))
	// Output:
	// handler /example.v1.Echo/Echo code_0
	// client /example.v1.Echo/Echo code_0
}
