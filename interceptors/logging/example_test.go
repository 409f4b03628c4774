package logging_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/logging"
	"polyconnect.dev/protocol/rpc"
)

// One option on the handler logs every call it serves.
func ExampleNew() {
	// Drop what changes from run to run (time, duration, the client's
	// port), so the output below stays the same.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "rpc.duration", "rpc.peer":
				return slog.Attr{}
			}
			return a
		},
	}))
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	greet := func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if req.Value == "" {
			return nil, rpc.NewError(rpc.CodeInvalidArgument, "name is required")
		}
		return wrapperspb.String("Hello, " + req.Value), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, rpc.WithHandlerInterceptors(logging.New(logger))))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	_, _ = client.CallUnary(context.Background(), wrapperspb.String("Ada"))
	_, _ = client.CallUnary(context.Background(), wrapperspb.String(""))
	// Output:
	// level=INFO msg="rpc call" rpc.side=server rpc.procedure=/example.v1.Greeter/Greet rpc.kind=unary rpc.protocol=connect rpc.code=ok rpc.request.messages=1 rpc.response.messages=1 rpc.request.bytes=5 rpc.response.bytes=12 rpc.request.wire_bytes=5 rpc.response.wire_bytes=12
	// level=WARN msg="rpc call" rpc.side=server rpc.procedure=/example.v1.Greeter/Greet rpc.kind=unary rpc.protocol=connect rpc.code=invalid_argument rpc.request.messages=1 rpc.response.messages=0 rpc.request.bytes=0 rpc.response.bytes=0 rpc.request.wire_bytes=0 rpc.response.wire_bytes=0 error="invalid_argument: name is required"
}
