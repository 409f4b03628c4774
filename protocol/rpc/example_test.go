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
// writes them with HandlerCallInfo, the client with NewClientContext.
func ExampleNewClientContext() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Whoami"}
	whoami := func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("Served-By", "example")
		info.ResponseTrailer().Set("Request-Cost", "1")
		return wrapperspb.String(info.RequestHeader().Get("User")), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, whoami))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	ctx, call := rpc.NewClientContext(context.Background())
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

// A client interceptor wraps each call of a client; ClientUnaryInterceptorFunc
// adapts a function for unary calls. The Spec is given once, when the client
// is made.
func ExampleClientUnaryInterceptorFunc() {
	logCalls := rpc.ClientUnaryInterceptorFunc(func(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			res, err := next(ctx, req)
			fmt.Println("client", spec.Procedure, rpc.CodeOf(err) == 0)
			return res, err
		}
	})
	spec := rpc.Spec{Procedure: "/example.v1.Echo/Echo"}
	echo := func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return req, nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, echo))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec, rpc.WithClientInterceptors(logCalls))
	_, _ = client.CallUnary(context.Background(), wrapperspb.String("hi"))
	// Output:
	// client /example.v1.Echo/Echo true
}

// A handler interceptor joins the call chain, which runs before the request
// is decoded, and can refuse a call there: the interceptors before it see
// the refusal and its code. Here a check wants a header, and a logger
// placed first records every call, refused or not.
func ExampleHandlerCallInterceptorFunc() {
	logCalls := rpc.HandlerCallInterceptorFunc(func(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			err := next(ctx, conn)
			outcome := "ok"
			if err != nil {
				outcome = rpc.CodeOf(err).String()
			}
			fmt.Println("handler", spec.Procedure, outcome)
			return err
		}
	})
	requireKey := rpc.HandlerCallInterceptorFunc(func(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			if conn.RequestHeader().Get("Api-Key") == "" {
				return rpc.NewError(rpc.CodeUnauthenticated, "Api-Key required")
			}
			return next(ctx, conn)
		}
	})
	spec := rpc.Spec{Procedure: "/example.v1.Echo/Echo"}
	echo := func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return req, nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, echo, rpc.WithHandlerInterceptors(logCalls, requireKey)))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	_, err := client.CallUnary(context.Background(), wrapperspb.String("hi"))
	fmt.Println("client got", rpc.CodeOf(err))
	ctx, call := rpc.NewClientContext(context.Background())
	call.RequestHeader().Set("Api-Key", "k")
	_, err = client.CallUnary(ctx, wrapperspb.String("hi"))
	fmt.Println("client got", err)
	// Output:
	// handler /example.v1.Echo/Echo unauthenticated
	// client got unauthenticated
	// handler /example.v1.Echo/Echo ok
	// client got <nil>
}
