package ratelimit_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/ratelimit"
	"polyconnect.dev/protocol/rpc"
)

// Each client host may make bursts of two calls, and one call a minute after that.
func ExampleNew() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	echo := func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) { return req, nil }
	limiter := ratelimit.NewTokenBucket(1.0/60, 2)
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, echo,
		rpc.WithHandlerInterceptors(ratelimit.New(limiter, ratelimit.WithKey(ratelimit.ByPeer)))))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	for range 3 {
		_, err := client.CallUnary(context.Background(), wrapperspb.String("hi"))
		fmt.Println(err)
	}
	// Output:
	// <nil>
	// <nil>
	// resource_exhausted: rate limit exceeded
}
