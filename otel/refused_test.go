package otelrpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// refuseAll refuses every call in the handler's call chain, before its
// request is read, the way an authentication check does.
var refuseAll = rpc.HandlerCallInterceptorFunc(func(rpc.Spec, rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	return func(context.Context, rpc.StreamingHandlerConn) error {
		return rpc.NewError(rpc.CodeUnauthenticated, "who are you?")
	}
})

// A call that an interceptor after otel refuses before its request is read
// gets a server span and a duration measurement with the refusal's code,
// for every kind of call; an undecodable request is refused with that code,
// not a decoding error.
func TestRefusedBeforeDecoding(t *testing.T) {
	tel := newTelemetry(t)
	pr := newPair(t, rpc.WithHandlerInterceptors(tel.interceptor(), refuseAll))
	ctx := context.Background()

	// Garbage that would fail to decode with INVALID_ARGUMENT.
	req, err := http.NewRequest(http.MethodPost, pr.srv.URL()+specUnary.Procedure, bytes.NewReader([]byte{0xff, 0xff, 0xff}))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/proto")
	res, err := pr.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("undecodable unary call: HTTP %d %s", res.StatusCode, body)
	}

	ss, err := newClient[sv, sv](pr, specServer, rpc.ProtocolGRPC).CallServerStream(ctx, wrapperspb.String("x"))
	if err != nil {
		t.Fatal(err) // the status comes with the first Receive
	}
	if _, err := ss.Receive(); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
		t.Fatalf("server stream: %v", err)
	}
	_ = ss.Close()
	cs, err := newClient[sv, sv](pr, specClient, rpc.ProtocolGRPCWeb).CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CloseAndReceive(); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
		t.Fatalf("client stream: %v", err)
	}
	bidi, err := newClient[sv, sv](pr, specBidi, rpc.ProtocolConnect).CallBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = bidi.CloseSend()
	if _, err := bidi.Receive(); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
		t.Fatalf("bidi: %v", err)
	}
	_ = bidi.CloseReceive()

	// A span ends when its handler returns, which may be after the client
	// has its answer.
	spans := tel.waitSpans(t, 4)
	for _, m := range []string{methodUnary, methodServer, methodClient, methodBidi} {
		s := spanOf(t, spans, m, trace.SpanKindServer)
		if got := attrsOf(s.Attributes)["rpc.response.status_code"]; got != "UNAUTHENTICATED" {
			t.Errorf("%s: server span status code %q, want UNAUTHENTICATED", m, got)
		}
		// A refusal is the caller's fault: no error status on the server.
		if s.Status.Code != codes.Unset {
			t.Errorf("%s: server span status %v", m, s.Status)
		}
	}
	// A call's measurement is recorded just after its span ends: wait for
	// all four (the bound only stops a broken test from hanging).
	deadline := time.Now().Add(20 * time.Second)
	for {
		points := durationPoints(t, tel.metrics(t), "rpc.server.call.duration")
		seen := map[string]bool{}
		for _, p := range points {
			a := attrsOf(p.Attributes.ToSlice())
			if a["rpc.response.status_code"] != "UNAUTHENTICATED" {
				t.Fatalf("%s: a measurement with status code %q", a["rpc.method"], a["rpc.response.status_code"])
			}
			seen[a["rpc.method"]] = true
		}
		if len(seen) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server durations measured for %v, want the four refused calls", seen)
		}
		time.Sleep(time.Millisecond)
	}
}

// A client stream refused as it opens, by an interceptor after otel, ends
// its client span there, with the refusal's code and an error status, and
// is measured.
func TestClientStreamRefusedAtOpen(t *testing.T) {
	tel := newTelemetry(t)
	pr := newPair(t)
	refuse := rpc.ClientStreamInterceptorFunc(func(rpc.Spec, rpc.ClientStreamFunc) rpc.ClientStreamFunc {
		return func(context.Context) (rpc.StreamingClientConn, error) {
			return nil, rpc.NewError(rpc.CodeResourceExhausted, "slow down")
		}
	})
	client := newClient[sv, sv](pr, specBidi, rpc.ProtocolGRPC, rpc.WithClientInterceptors(tel.interceptor(), refuse))
	var rerr *rpc.Error
	if _, err := client.CallBidiStream(context.Background()); !errors.As(err, &rerr) || rerr.Code() != rpc.CodeResourceExhausted {
		t.Fatalf("CallBidiStream: %v", err)
	}
	s := spanOf(t, tel.spans(), methodBidi, trace.SpanKindClient)
	if got := attrsOf(s.Attributes)["rpc.response.status_code"]; got != "RESOURCE_EXHAUSTED" || s.Status.Code != codes.Error {
		t.Errorf("client span: status code %q, status %v", got, s.Status)
	}
	points := durationPoints(t, tel.metrics(t), "rpc.client.call.duration")
	if len(points) != 1 || attrsOf(points[0].Attributes.ToSlice())["rpc.response.status_code"] != "RESOURCE_EXHAUSTED" {
		t.Errorf("client duration: %+v", points)
	}
}
