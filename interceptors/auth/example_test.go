package auth_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/protocol/rpc"
)

type user struct{ name string }

// The handler checks bearer tokens and greets the caller by name; the
// client sends a token from a cached token source.
func ExampleNewServer() {
	tokens := map[string]*user{"t0ken": {name: "Ada"}}
	check := func(_ context.Context, req *auth.Request) (any, error) {
		token, ok := req.BearerToken()
		if !ok {
			return nil, rpc.NewError(rpc.CodeUnauthenticated, "bearer token required")
		}
		u, ok := tokens[token]
		if !ok {
			return nil, rpc.NewError(rpc.CodeUnauthenticated, "unknown token")
		}
		return u, nil
	}
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	greet := func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		u, _ := auth.Identity[*user](ctx)
		return wrapperspb.String("Hello, " + u.name), nil
	}
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, rpc.WithHandlerInterceptors(auth.NewServer(check))))
	defer srv.Close()

	login := auth.TokenSourceFunc(func(context.Context) (auth.Token, error) {
		return auth.Token{Value: "t0ken", Expiry: time.Now().Add(time.Hour)}, nil
	})
	creds := auth.TokenBearer(auth.CachedTokenSource(login))
	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec,
		rpc.WithClientInterceptors(auth.NewClient(creds)))
	res, err := client.CallUnary(context.Background(), wrapperspb.String(""))
	fmt.Println(res.GetValue(), err)

	anonymous := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	_, err = anonymous.CallUnary(context.Background(), wrapperspb.String(""))
	fmt.Println(err)
	// Output:
	// Hello, Ada <nil>
	// unauthenticated: bearer token required
}
