package recovery_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/recovery"
	"polyconnect.dev/protocol/rpc"
)

// A panicking handler answers INTERNAL; the panic value stays on the server.
func ExampleNew() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	greet := func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if req.Value == "" {
			var names map[string]string
			names["oops"] = "a bug" // panics: assignment to entry in nil map
		}
		return wrapperspb.String("Hello, " + req.Value), nil
	}
	onPanic := func(_ context.Context, v any, _ []byte) error {
		fmt.Println("server saw:", v)
		return nil // the client gets the default INTERNAL "internal error"
	}
	h := rpc.NewUnaryHandler(spec, greet, rpc.WithHandlerInterceptors(recovery.New(
		recovery.WithLogger(nil), // the default logs to slog.Default(), stack included
		recovery.WithHandler(onPanic),
	)))
	srv := httptest.NewServer(h)
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	_, err := client.CallUnary(context.Background(), wrapperspb.String(""))
	fmt.Println("client got:", err)
	res, err := client.CallUnary(context.Background(), wrapperspb.String("Ada"))
	fmt.Println("next call:", res.GetValue(), err)
	// Output:
	// server saw: assignment to entry in nil map
	// client got: internal: internal error
	// next call: Hello, Ada <nil>
}
