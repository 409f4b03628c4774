package interceptors_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/logging"
	"polyconnect.dev/interceptors/ratelimit"
	"polyconnect.dev/interceptors/recovery"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/interceptors/selector"
	"polyconnect.dev/interceptors/timeout"
	"polyconnect.dev/protocol/rpc"
)

// A handler and a client each with a typical stack: every interceptor is
// one more entry in rpc.WithHandlerInterceptors or
// rpc.WithClientInterceptors.
func Example() {
	logger := slog.New(slog.DiscardHandler) // slog.Default() in a real server
	check := func(_ context.Context, req *auth.Request) (any, error) {
		if token, _ := req.BearerToken(); token != "s3cret" {
			return nil, rpc.NewError(rpc.CodeUnauthenticated, "bad token")
		}
		return "ada", nil
	}
	serverStack := rpc.WithHandlerInterceptors(
		recovery.New(recovery.WithLogger(logger)),
		logging.New(logger),
		selector.Unless(selector.Services("grpc.health.v1.Health"), auth.NewServer(check)),
		timeout.New(timeout.Limits{Default: 10 * time.Second, Max: time.Minute}),
		ratelimit.New(ratelimit.NewTokenBucket(100, 20), ratelimit.WithKey(ratelimit.ByPeer)),
	)
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	greet := func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		user, _ := auth.Identity[string](ctx)
		return wrapperspb.String("Hello " + req.Value + ", from " + user), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, serverStack))
	defer srv.Close()

	clientStack := rpc.WithClientInterceptors(
		logging.New(logger),
		retry.New(),
		auth.NewClient(auth.Bearer("s3cret")),
		timeout.New(timeout.Limits{Default: 5 * time.Second}),
	)
	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec, clientStack)
	res, err := client.CallUnary(context.Background(), wrapperspb.String("Bob"))
	fmt.Println(res.GetValue(), err)
	// Output:
	// Hello Bob, from ada <nil>
}
