package auth_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/selector"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// A unary call without credentials is refused before its body is read: a
// body that is not even protobuf gets UNAUTHENTICATED, not INVALID_ARGUMENT,
// also through selector.If.
func TestUnaryCheckedBeforeDecoding(t *testing.T) {
	for name, tc := range map[string]struct {
		ic       rpc.HandlerInterceptor
		garbage  int // HTTP status for an undecodable body without credentials
		selected bool
	}{
		"direct":          {auth.NewServer(check), http.StatusUnauthorized, true},
		"selector.If":     {selector.If(selector.Prefix("/test.v1."), auth.NewServer(check)), http.StatusUnauthorized, true},
		"selector.Unless": {selector.Unless(selector.Prefix("/test.v1."), auth.NewServer(check)), http.StatusOK, false},
	} {
		t.Run(name, func(t *testing.T) {
			mux := testsvc.NewMux(testsvc.Handlers{Handle: func(ctx context.Context, in string) (string, error) { return in, nil }}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(tc.ic))
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

// Interceptors before the check see a refused call end with its code, for
// every kind; those after it never see the call.
func TestRefusalSeenByInterceptorsBefore(t *testing.T) {
	var before, after codeRecorder
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
		rpc.WithHandlerInterceptors(&before, auth.NewServer(check), &after))
	_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown)
	for _, k := range testsvc.Kinds {
		if _, err := k.Call(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
			t.Errorf("%s: %v", k.Name, err)
		}
	}
	want := []string{
		testsvc.Unary + " unauthenticated", testsvc.ServerStream + " unauthenticated",
		testsvc.ClientStream + " unauthenticated", testsvc.Bidi + " unauthenticated",
	}
	if got := before.get(); !slices.Equal(got, want) {
		t.Errorf("the interceptor before auth saw %q, want %q", got, want)
	}
	if got := after.get(); len(got) != 0 {
		t.Errorf("the interceptor after auth saw %q", got)
	}
}

// codeRecorder records the procedure and outcome of each call in the call
// chain.
type codeRecorder struct {
	rpc.HandlerCallInterceptorFunc // for its WrapHandlerUnary, which passes through
	mu                             sync.Mutex
	seen                           []string
}

func (r *codeRecorder) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		err := next(ctx, conn)
		outcome := "ok"
		if err != nil {
			outcome = rpc.CodeOf(err).String()
		}
		r.mu.Lock()
		r.seen = append(r.seen, spec.Procedure+" "+outcome)
		r.mu.Unlock()
		return err
	}
}

func (r *codeRecorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}
