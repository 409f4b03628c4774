package selector_test

import (
	"context"
	"slices"
	"testing"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/selector"
	"polyconnect.dev/protocol/rpc"
)

func TestMatchers(t *testing.T) {
	spec := func(p string) rpc.Spec { return rpc.Spec{Procedure: p} }
	health := "/grpc.health.v1.Health/Check"
	greet := "/greet.v1.GreetService/Greet"
	tests := []struct {
		name string
		m    selector.Matcher
		proc string
		want bool
	}{
		{"procedure hit", selector.Procedures(greet, "/x.Y/Z"), greet, true},
		{"procedure miss", selector.Procedures(greet), health, false},
		{"procedure needs the full name", selector.Procedures("Greet"), greet, false},
		{"service hit", selector.Services("grpc.health.v1.Health"), health, true},
		{"service with slash", selector.Services("/grpc.health.v1.Health"), health, true},
		{"service miss", selector.Services("grpc.health.v1.Health"), greet, false},
		{"service is not a prefix match", selector.Services("grpc.health.v1.Heal"), health, false},
		{"prefix hit", selector.Prefix("/x.", "/grpc."), health, true},
		{"prefix miss", selector.Prefix("/grpc."), greet, false},
		{"not", selector.Not(selector.Services("grpc.health.v1.Health")), greet, true},
		{"any", selector.Any(selector.Prefix("/x"), selector.Procedures(greet)), greet, true},
		{"any none", selector.Any(), greet, false},
		{"all", selector.All(selector.Prefix("/greet."), selector.Procedures(greet)), greet, true},
		{"all one fails", selector.All(selector.Prefix("/greet."), selector.Procedures(health)), greet, false},
		{"func", func(s rpc.Spec) bool { return s.StreamType == rpc.StreamTypeBidi }, greet, false},
	}
	for _, tt := range tests {
		if got := tt.m(spec(tt.proc)); got != tt.want {
			t.Errorf("%s: %s matched %v, want %v", tt.name, tt.proc, got, tt.want)
		}
	}
	if got := selector.ServiceOf("/a.b.C/D"); got != "a.b.C" {
		t.Errorf("ServiceOf = %q", got)
	}
	if got := selector.ServiceOf("nothing"); got != "" {
		t.Errorf("ServiceOf(nothing) = %q", got)
	}
}

// The selected interceptor sees exactly the matching procedures, on both
// sides, for every kind and protocol; the others still reach the handler.
func TestIfAndUnless(t *testing.T) {
	picked := selector.Procedures(testsvc.Unary, testsvc.Bidi)
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			var clientSeen, serverSeen, serverAll testsvc.Recorder
			mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
				rpc.WithInterceptors(&serverAll, selector.Unless(picked, &serverSeen)))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown,
				rpc.WithInterceptors(selector.If(picked, &clientSeen)))
			for _, k := range testsvc.Kinds {
				out, err := k.Call(context.Background(), clients, "hi")
				if err != nil || !slices.Equal(out, []string{"hi"}) {
					t.Fatalf("%s: %v %v", k.Name, out, err)
				}
			}
			if got, want := clientSeen.Calls(), []string{testsvc.Unary, testsvc.Bidi}; !slices.Equal(got, want) {
				t.Errorf("client interceptor saw %v, want %v", got, want)
			}
			if got, want := serverSeen.Calls(), []string{testsvc.ServerStream, testsvc.ClientStream}; !slices.Equal(got, want) {
				t.Errorf("server interceptor saw %v, want %v", got, want)
			}
			if got := serverAll.Calls(); len(got) != 4 {
				t.Errorf("handlers saw %v, want all four calls", got)
			}
		})
	}
}

// A unary call whose context has no call info is treated as selected.
func TestNoCallInfoIsSelected(t *testing.T) {
	var recorded bool
	always := rpc.UnaryInterceptorFunc(func(next rpc.UnaryFunc) rpc.UnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			recorded = true
			return next(ctx, req)
		}
	})
	call := selector.If(selector.Procedures("/never.Matched/X"), always).WrapUnary(func(ctx context.Context, req any) (any, error) { return req, nil })
	if _, err := call(context.Background(), "x"); err != nil || !recorded {
		t.Fatalf("without call info the interceptor did not run: %v", err)
	}
	ctx, _ := rpc.NewCallContext(context.Background())
	recorded = false
	if _, err := call(ctx, "x"); err != nil || recorded {
		t.Fatalf("an unmatched call with call info ran the interceptor")
	}
}
