package raw_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/raw"
)

// A unary procedure served and called with messages chosen at run time,
// here wrapperspb.StringValue: the handler decodes into the message it
// chooses and runs its method through the handler's unary interceptors.
func Example() {
	spec := rpc.Spec{Procedure: "/example.v1.Upper/Say", StreamType: rpc.StreamTypeUnary}
	handler := raw.NewHandler(spec, func(ctx context.Context, call raw.Call) error {
		req := new(wrapperspb.StringValue)
		if err := call.Receive(req); err != nil {
			return err
		}
		res, err := call.Unary(ctx, req, func(_ context.Context, req proto.Message) (proto.Message, error) {
			return wrapperspb.String(strings.ToUpper(req.(*wrapperspb.StringValue).GetValue())), nil
		})
		if err != nil {
			return err
		}
		return call.Send(res)
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	client := raw.NewClient(srv.Client(), srv.URL, spec)
	res := new(wrapperspb.StringValue)
	if err := client.Invoke(context.Background(), wrapperspb.String("hello"), res); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.GetValue())
	// Output: HELLO
}
