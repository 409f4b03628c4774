package validate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"

	"polyconnect.dev/interceptors/validate"
	validatetestv1 "polyconnect.dev/interceptors/validate/internal/gen/validatetest/v1"
	"polyconnect.dev/interceptors/validate/internal/gen/validatetest/v1/validatetestv1rpc"
	"polyconnect.dev/protocol/rpc"
)

// The handler rejects a request that breaks its rules; the client finds the
// violations in the error's details.
func ExampleNew() {
	mux := http.NewServeMux()
	mux.Handle(validatetestv1rpc.NewTestServiceHandler(&service{}, rpc.WithHandlerInterceptors(validate.New())))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client := validatetestv1rpc.NewTestServiceClient(srv.Client(), srv.URL)
	res, err := client.Unary(context.Background(), &validatetestv1.Request{Name: "Ada", Count: 1})
	fmt.Println(res.GetGreeting(), err)

	_, err = client.Unary(context.Background(), &validatetestv1.Request{Name: "", Count: 12})
	fmt.Println(rpc.CodeOf(err))
	var rerr *rpc.Error
	if errors.As(err, &rerr) {
		for _, detail := range rerr.Details() {
			violations := &validatepb.Violations{}
			if detail.UnmarshalTo(violations) == nil {
				for _, v := range violations.GetViolations() {
					fmt.Println(v.GetField().GetElements()[0].GetFieldName(), v.GetRuleId())
				}
			}
		}
	}
	// Output:
	// Hello Ada <nil>
	// invalid_argument
	// name string.min_len
	// count int32.lte
}
