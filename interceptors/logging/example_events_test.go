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

// stableLogger writes text records without what changes from run to run.
func stableLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "rpc.duration", "rpc.peer":
				return slog.Attr{}
			}
			return a
		},
	}))
}

// A record when each call starts as well as when it ends, and the
// requests the handler receives (for debugging: they may hold secrets).
func ExampleWithEvents() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	greet := func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String("Hello, " + req.Value), nil
	}
	logger := logging.New(stableLogger(), logging.WithEvents(logging.StartCall, logging.FinishCall, logging.PayloadReceived), logging.WithoutSizes())
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, rpc.WithHandlerInterceptors(logger)))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	_, _ = client.CallUnary(context.Background(), wrapperspb.String("Ada"))
	// Output:
	// level=INFO msg="rpc call started" rpc.side=server rpc.procedure=/example.v1.Greeter/Greet rpc.kind=unary rpc.protocol=connect
	// level=INFO msg="rpc call" rpc.side=server rpc.procedure=/example.v1.Greeter/Greet rpc.kind=unary rpc.protocol=connect rpc.code=ok rpc.request.messages=1 rpc.response.messages=1 rpc.request="\"Ada\""
}

type tenantKey struct{}

// Every record of a call carries the tenant that an authentication step
// before the logger put on the context.
func ExampleWithFieldsFromContext() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	greet := func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String("Hello, " + req.Value), nil
	}
	authenticate := rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			return next(context.WithValue(ctx, tenantKey{}, "acme"), conn)
		}
	})
	logger := logging.New(stableLogger(), logging.WithoutSizes(), logging.WithFieldsFromContext(func(ctx context.Context) []slog.Attr {
		if tenant, ok := ctx.Value(tenantKey{}).(string); ok {
			return []slog.Attr{slog.String("tenant", tenant)}
		}
		return nil
	}))
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, rpc.WithHandlerInterceptors(authenticate, logger)))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	_, _ = client.CallUnary(context.Background(), wrapperspb.String("Ada"))
	// Output:
	// level=INFO msg="rpc call" rpc.side=server rpc.procedure=/example.v1.Greeter/Greet rpc.kind=unary rpc.protocol=connect rpc.code=ok rpc.request.messages=1 rpc.response.messages=1 tenant=acme
}
