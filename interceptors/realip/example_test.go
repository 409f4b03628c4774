package realip_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/realip"
	"polyconnect.dev/protocol/rpc"
)

// A server behind load balancers on 10.0.0.0/8 learns its clients'
// addresses from the X-Forwarded-For header they add; a client that writes
// the header itself does not fool it.
func ExampleNew() {
	spec := rpc.Spec{Procedure: "/example.v1.Greeter/Greet"}
	greet := func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		ip, _ := realip.FromContext(ctx)
		return wrapperspb.String("Hello, " + ip.String()), nil
	}
	proxies := realip.WithTrustedProxies(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8"))
	srv := httptest.NewServer(rpc.NewUnaryHandler(spec, greet, rpc.WithHandlerInterceptors(realip.New(proxies))))
	defer srv.Close()

	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.Client(), srv.URL, spec)
	// The test server's peer is 127.0.0.1, a trusted proxy here, which
	// received the call from 198.51.100.7; "6.6.6.6" is what that client
	// claimed.
	ctx, info := rpc.NewClientContext(context.Background())
	info.RequestHeader().Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
	res, err := client.CallUnary(ctx, wrapperspb.String("x"))
	fmt.Println(res.GetValue(), err)
	// Output:
	// Hello, 198.51.100.7 <nil>
}
