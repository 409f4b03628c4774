package timeout_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/timeout"
	"polyconnect.dev/protocol/rpc"
)

// The handler caps every call at 30 seconds, whatever the client asks for.
func ExampleNew() {
	spec := rpc.Spec{Procedure: "/example.v1.Clock/Budget"}
	budget := func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		deadline, _ := ctx.Deadline()
		left := time.Until(deadline)
		return wrapperspb.String(fmt.Sprint(left > 20*time.Second && left <= 30*time.Second)), nil
	}
	limits := timeout.Limits{Default: 10 * time.Second, Max: 30 * time.Second}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, budget, rpc.WithHandlerInterceptors(timeout.New(limits,
		timeout.ForProcedure("/example.v1.Clock/Report", timeout.Limits{Max: 10 * time.Minute}),
	))))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	res, err := client.CallUnary(ctx, wrapperspb.String(""))
	fmt.Println("an hour asked, the handler has at most 30s:", res.GetValue(), err)
	// Output:
	// an hour asked, the handler has at most 30s: true <nil>
}
