package auth_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/selector"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// onlyWraps forwards an interceptor's Wrap functions but hides everything
// else it implements, rpc.HandlerGate included, as a third-party wrapper
// might.
type onlyWraps struct{ rpc.Interceptor }

// A unary call without credentials is refused before its body is read: a
// body that is not even protobuf gets UNAUTHENTICATED, not INVALID_ARGUMENT,
// also through selector.If. Behind a wrapper that hides the gate, the check
// still happens, later.
func TestUnaryCheckedBeforeDecoding(t *testing.T) {
	for name, tc := range map[string]struct {
		ic       rpc.Interceptor
		garbage  int // HTTP status for an undecodable body without credentials
		selected bool
	}{
		"direct":          {auth.NewServer(check), http.StatusUnauthorized, true},
		"selector.If":     {selector.If(selector.Prefix("/test.v1."), auth.NewServer(check)), http.StatusUnauthorized, true},
		"selector.Unless": {selector.Unless(selector.Prefix("/test.v1."), auth.NewServer(check)), http.StatusOK, false},
		"hidden gate":     {onlyWraps{auth.NewServer(check)}, http.StatusBadRequest, true},
	} {
		t.Run(name, func(t *testing.T) {
			mux := testsvc.NewMux(testsvc.Handlers{Handle: func(ctx context.Context, in string) (string, error) { return in, nil }}, rpc.IdempotencyUnknown, rpc.WithInterceptors(tc.ic))
			srv := rpctest.NewServer(t, mux)
			body := []byte{0xff, 0xff, 0xff}
			if !tc.selected {
				body = nil // an empty StringValue: decodes, and no check applies
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL()+testsvc.Unary, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/proto")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.garbage {
				t.Errorf("HTTP %d %s, want %d", resp.StatusCode, got, tc.garbage)
			}
			if tc.selected {
				// A well-formed call without credentials is refused either way.
				clients := testsvc.NewClients(srv.Client(), srv.URL(), testsvc.Variants[0], rpc.IdempotencyUnknown)
				if _, err := testsvc.CallUnary(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
					t.Errorf("call without credentials: %v", err)
				}
			}
		})
	}
}
