package rpc_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// A gRPC error before any message is a trailers-only response: its metadata
// is trailers, and a gRPC client reports it as trailers only. (gRPC-Web
// clients report it in both, which the conformance suite expects.)
func TestGRPCTrailersOnlyMetadata(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.Fail/Now"}
	h := rpc.NewUnaryHandler(spec, func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-T", "tv")
		return nil, rpc.NewError(rpc.CodeNotFound, "nothing here")
	})
	srv, h2 := newH2CServer(t, h)
	for _, p := range []rpc.Protocol{rpc.ProtocolGRPC} {
		ctx, info := rpc.NewClientContext(context.Background())
		_, err := rpc.NewClient[sv, sv](h2, srv.URL, spec, rpc.WithProtocol(p)).CallUnary(ctx, wrapperspb.String("x"))
		if rpc.CodeOf(err) != rpc.CodeNotFound {
			t.Fatalf("%v: %v", p, err)
		}
		// The error's metadata, read from the same response headers, keeps
		// everything.
		var e *rpc.Error
		if !errors.As(err, &e) || e.Meta().Get("X-T") != "tv" {
			t.Errorf("%v: error metadata lacks X-T: %v", p, err)
		}
		if info.ResponseTrailer().Get("X-T") != "tv" {
			t.Errorf("%v: trailers %v", p, info.ResponseTrailer())
		}
		for _, k := range []string{"X-T", "Grpc-Status", "Grpc-Message"} {
			if v := info.ResponseHeader().Get(k); v != "" {
				t.Errorf("%v: header %s = %q, want it in trailers only", p, k, v)
			}
		}
	}
}
