package selector_test

import (
	"context"
	"reflect"
	"slices"
	"sync/atomic"
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
				rpc.WithHandlerInterceptors(&serverAll, selector.Unless(picked, &serverSeen)))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown,
				rpc.WithClientInterceptors(selector.If(picked, &clientSeen)))
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

// The matcher runs once per procedure, when the chains are built, not per
// call; an unselected procedure gets next itself.
func TestMatchAtWrapTime(t *testing.T) {
	var matched atomic.Int32
	counting := selector.Matcher(func(spec rpc.Spec) bool {
		matched.Add(1)
		return spec.Procedure == testsvc.Unary
	})
	var seen testsvc.Recorder
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(selector.If(counting, &seen)))
	// Four handlers, each building its call chain and (for the unary one)
	// its unary chain.
	if n := matched.Load(); n != 5 {
		t.Errorf("the matcher ran %d times building four handlers, want 5", n)
	}
	_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown)
	for range 3 {
		for _, k := range testsvc.Kinds {
			if _, err := k.Call(context.Background(), clients, "x"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := matched.Load(); n != 5 {
		t.Errorf("the matcher ran %d times, want 5: it ran per call", n)
	}
	if got := seen.Calls(); !slices.Equal(got, []string{testsvc.Unary, testsvc.Unary, testsvc.Unary}) {
		t.Errorf("selected interceptor saw %v", got)
	}

	next := rpc.HandlerCallFunc(func(context.Context, rpc.StreamingHandlerConn) error { return nil })
	got := selector.If(selector.Procedures("/x.v1.S/M"), &seen).WrapHandlerCall(rpc.Spec{Procedure: "/y.v1.S/M"}, next)
	if reflect.ValueOf(got).Pointer() != reflect.ValueOf(next).Pointer() {
		t.Error("an unselected procedure did not get next itself")
	}
}

// An interceptor of one side only passes the other side's calls through.
func TestOneSidedInterceptor(t *testing.T) {
	refuse := rpc.HandlerCallInterceptorFunc(func(rpc.Spec, rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(context.Context, rpc.StreamingHandlerConn) error {
			return rpc.NewError(rpc.CodePermissionDenied, "no")
		}
	})
	sel := selector.If(selector.Prefix("/"), refuse)
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown)
	_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown, rpc.WithClientInterceptors(sel))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
		t.Errorf("a handler interceptor ran on a client: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("If accepted something that is no interceptor")
		}
	}()
	selector.If(selector.Prefix("/"), "not an interceptor")
}
