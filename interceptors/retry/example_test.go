package retry_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
)

// An idempotent call that meets a briefly unavailable server succeeds on
// its second attempt.
func ExampleNew() {
	spec := rpc.Spec{Procedure: "/example.v1.Store/Get", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	var calls atomic.Int32
	get := func(ctx context.Context, key *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		fmt.Printf("server: call %d, %s=%q\n", calls.Add(1), retry.AttemptHeader, info.RequestHeader().Get(retry.AttemptHeader))
		if calls.Load() == 1 {
			return nil, rpc.NewError(rpc.CodeUnavailable, "warming up")
		}
		return wrapperspb.String("value of " + key.Value), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, get))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec,
		rpc.WithClientInterceptors(retry.New()))
	res, err := client.CallUnary(context.Background(), wrapperspb.String("k"))
	fmt.Println(res.GetValue(), err)
	// Output:
	// server: call 1, Polyconnect-Attempt=""
	// server: call 2, Polyconnect-Attempt="2"
	// value of k <nil>
}
