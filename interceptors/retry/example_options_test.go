package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
)

// flakyStore fails its first failures calls with code.
func flakyStore(failures int32, code rpc.Code) (*httptest.Server, rpc.Spec) {
	spec := rpc.Spec{Procedure: "/example.v1.Store/Get", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	var calls atomic.Int32
	get := func(_ context.Context, key *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if calls.Add(1) <= failures {
			return nil, rpc.NewError(code, "try again")
		}
		return wrapperspb.String("value of " + key.Value), nil
	}
	return httptest.NewServer(rpc.NewUnaryHandler(spec, get)), spec
}

// Count retries, or log them, with a hook.
func ExampleWithOnRetry() {
	srv, spec := flakyStore(2, rpc.CodeUnavailable)
	defer srv.Close()
	onRetry := func(_ context.Context, attempt int, err error, _ time.Duration) {
		fmt.Printf("attempt %d after %v\n", attempt, rpc.CodeOf(err))
	}
	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec,
		rpc.WithClientInterceptors(retry.New(retry.WithOnRetry(onRetry), retry.WithBackoff(time.Millisecond, time.Millisecond))))
	res, err := client.CallUnary(context.Background(), wrapperspb.String("k"))
	fmt.Println(res.GetValue(), err)
	// Output:
	// attempt 2 after unavailable
	// attempt 3 after unavailable
	// value of k <nil>
}

// Retry what a service says is worth retrying: here ABORTED (a lost
// optimistic-locking race) as well as UNAVAILABLE, but not when the call's
// own deadline ran out.
func ExampleWithRetryable() {
	srv, spec := flakyStore(1, rpc.CodeAborted)
	defer srv.Close()
	retryable := func(err error) bool {
		if errors.Is(err, context.DeadlineExceeded) {
			return false
		}
		code := rpc.CodeOf(err)
		return code == rpc.CodeAborted || code == rpc.CodeUnavailable
	}
	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec,
		rpc.WithClientInterceptors(retry.New(retry.WithRetryable(retryable))))
	res, err := client.CallUnary(context.Background(), wrapperspb.String("k"))
	fmt.Println(res.GetValue(), err)
	// Output:
	// value of k <nil>
}

// One call fails fast, without retries, where the client's others retry.
func ExampleContextWithOptions() {
	srv, spec := flakyStore(1, rpc.CodeUnavailable)
	defer srv.Close()
	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec,
		rpc.WithClientInterceptors(retry.New()))
	ctx := retry.ContextWithOptions(context.Background(), retry.WithMaxAttempts(1))
	_, err := client.CallUnary(ctx, wrapperspb.String("k"))
	fmt.Println("fail fast:", rpc.CodeOf(err))
	res, err := client.CallUnary(context.Background(), wrapperspb.String("k"))
	fmt.Println("default:", res.GetValue(), err)
	// Output:
	// fail fast: unavailable
	// default: value of k <nil>
}
