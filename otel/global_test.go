package otelrpc_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// The global providers are process-wide, so the test that sets them runs in
// a process of its own: the test binary again, told by an environment
// variable to run TestGlobalProvidersChild.
const globalChildEnv = "OTELRPC_GLOBAL_CHILD"

func TestGlobalProviders(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGlobalProvidersChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), globalChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestGlobalProvidersChild") {
		t.Fatalf("the child ran no test:\n%s", out)
	}
}

// TestGlobalProvidersChild: an interceptor made before the program sets the
// global providers costs nothing while they are unset, and records through
// them once they are set.
func TestGlobalProvidersChild(t *testing.T) {
	if os.Getenv(globalChildEnv) == "" {
		t.Skip("run by TestGlobalProviders")
	}
	otelI := otelrpc.NewInterceptor()
	// Unset globals: no span, and no allocation beyond a pass-through.
	checkNoAllocations(t, otelI)
	checkNoExtraAllocations(t, otelI)

	tel := newTelemetry(t)
	otel.SetTracerProvider(tel.tp)
	otel.SetMeterProvider(tel.mp)
	otel.SetTextMapPropagator(w3c)
	mux := http.NewServeMux()
	svc := &service{}
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, svc.unary, rpc.WithHandlerInterceptors(otelI)))
	srv := rpctest.NewServer(t, mux)
	client := rpc.NewClient[sv, sv](srv.HTTP2Client(), srv.URL(), specUnary, rpc.WithClientInterceptors(otelI))
	if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	spans := tel.spans()
	cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
	ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
	checkChild(t, cs, ss)
	durationPoints(t, tel.metrics(t), "rpc.client.call.duration")
}

// With no-op providers, a service in the middle still passes the trace
// context on: the front client's trace reaches the back server.
func TestNoopProvidersStillPropagate(t *testing.T) {
	tel := newTelemetry(t)
	back := newPair(t, rpc.WithHandlerInterceptors(tel.interceptor()))
	noop := otelrpc.NewInterceptor(noopOptions()...)
	backClient := newClient[sv, sv](back, specUnary, rpc.ProtocolGRPC, rpc.WithClientInterceptors(noop))
	middle := rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		return backClient.CallUnary(ctx, req)
	}, rpc.WithHandlerInterceptors(noop))
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, middle)
	front := &pair{srv: rpctest.NewServer(t, mux)}
	front.url = front.srv.URL()
	client := newClient[sv, sv](front, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(tel.interceptor()))
	if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	spans := tel.spans()
	if len(spans) != 2 {
		t.Fatalf("spans %v, want the front client's and the back server's", spanNames(spans))
	}
	cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
	ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
	// The middle made no span, so the back server's parent is the client.
	checkChild(t, cs, ss)
}
