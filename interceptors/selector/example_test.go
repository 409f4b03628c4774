package selector_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/selector"
	"polyconnect.dev/protocol/rpc"
)

// A check that every call but the health check must pass.
func ExampleUnless() {
	requireKey := rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			if conn.RequestHeader().Get("Api-Key") != "secret" {
				return rpc.NewError(rpc.CodeUnauthenticated, "missing API key")
			}
			return next(ctx, conn)
		}
	})
	guard := rpc.WithHandlerInterceptors(selector.Unless(selector.Services("example.v1.Health"), requireKey))

	echo := func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return req, nil }
	health := rpc.Spec{Procedure: "/example.v1.Health/Check"}
	greet := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	mux := http.NewServeMux()
	mux.Handle(health.Procedure, rpc.NewUnaryHandler(health, echo, guard))
	mux.Handle(greet.Procedure, rpc.NewUnaryHandler(greet, echo, guard))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, spec := range []rpc.Spec{health, greet} {
		client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
		_, err := client.CallUnary(context.Background(), wrapperspb.String("hi"))
		fmt.Println(spec.Procedure, err)
	}
	// Output:
	// /example.v1.Health/Check <nil>
	// /example.v1.Greeter/Greet unauthenticated: missing API key
}
