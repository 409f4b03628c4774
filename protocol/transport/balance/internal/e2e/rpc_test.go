package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport/balance"
)

var echoSpec = rpc.Spec{
	Procedure:        "/test.v1.Echo/Echo",
	StreamType:       rpc.StreamTypeUnary,
	IdempotencyLevel: rpc.IdempotencyIdempotent,
}

func rpcMux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(echoSpec.Procedure, rpc.NewUnaryHandler(echoSpec, func(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String(req.GetValue()), nil
	}))
	return mux
}

// retryUnavailable is a minimal retry interceptor for idempotent unary
// calls, standing in for polyconnect.dev/interceptors/retry so that this
// module's tests need no sibling: up to five attempts on UNAVAILABLE.
func retryUnavailable(retries *atomic.Int64) rpc.ClientInterceptor {
	return rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			for attempt := 1; ; attempt++ {
				res, err := next(ctx, req)
				if err == nil || rpc.CodeOf(err) != rpc.CodeUnavailable || attempt == 5 {
					return res, err
				}
				retries.Add(1)
			}
		}
	})
}

// TestKillOneOfThreeUnderLoad kills a replica while 16 callers make
// idempotent calls through the balancer, on every protocol and HTTP
// version, and requires that no call fails: calls refused by the dead
// replica go elsewhere inside the balancer, calls it dropped mid-flight
// are retried by the interceptor, and the retries find it ejected.
func TestKillOneOfThreeUnderLoad(t *testing.T) {
	cases := []struct {
		kind     string
		protocol rpc.Protocol
	}{
		{"http1", rpc.ProtocolConnect},
		{"http1", rpc.ProtocolGRPCWeb},
		{"h2c", rpc.ProtocolConnect},
		{"h2c", rpc.ProtocolGRPC},
		{"h2c", rpc.ProtocolGRPCWeb},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.kind, "/", tc.protocol), func(t *testing.T) {
			rs := []*replica{newReplica(t, "127.0.0.1", "0", rpcMux()), newReplica(t, "127.0.0.1", "0", rpcMux()), newReplica(t, "127.0.0.1", "0", rpcMux())}
			c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor(tc.kind),
				balance.WithPolicy(balance.LeastLoaded), balance.WithEjection(time.Hour, time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			var retries atomic.Int64
			client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](c, "http://"+target, echoSpec,
				rpc.WithProtocol(tc.protocol), rpc.WithClientInterceptors(retryUnavailable(&retries)))

			const callers, calls = 16, 60
			var (
				wg       sync.WaitGroup
				done     atomic.Int64
				failures atomic.Int64
				killed   = make(chan struct{})
			)
			for g := range callers {
				wg.Go(func() {
					for i := range calls {
						want := fmt.Sprint(g, "-", i)
						res, err := client.CallUnary(t.Context(), wrapperspb.String(want))
						if err != nil || res.GetValue() != want {
							failures.Add(1)
							t.Errorf("call %s: %v, %v", want, res, err)
						}
						if done.Add(1) == callers*calls/3 {
							rs[1].kill()
							close(killed)
						}
					}
				})
			}
			wg.Wait()
			<-killed
			if failures.Load() > 0 {
				t.Fatalf("%d of %d idempotent calls failed", failures.Load(), callers*calls)
			}
			if rs[1].hits.Load() == 0 {
				t.Error("the killed replica served nothing before it died")
			}
			t.Logf("hits %d/%d/%d, %d retries", rs[0].hits.Load(), rs[1].hits.Load(), rs[2].hits.Load(), retries.Load())
		})
	}
}

// TestNoLeakAfterLoad checks that a client used from many goroutines
// leaves no goroutine of its own behind.
func TestNoLeakAfterLoad(t *testing.T) {
	rs := []*replica{newReplica(t, "127.0.0.1", "0", rpcMux()), newReplica(t, "127.0.0.1", "0", rpcMux())}
	c, err := balance.New(target, balance.Static(addrsOf(rs...)...), backendFor("h2c"))
	if err != nil {
		t.Fatal(err)
	}
	client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](c, "http://"+target, echoSpec)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := client.CallUnary(t.Context(), wrapperspb.String("x")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	c.CloseIdleConnections()
	checkNoBalanceGoroutines(t)
}
