package otelrpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// retryUnavailable is a small retrying interceptor, as a retry interceptor
// works: it runs next once per attempt, with the same context, until an
// attempt ends with something other than UNAVAILABLE (at most three).
var retryUnavailable = rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		var (
			res any
			err error
		)
		for range 3 {
			res, err = next(ctx, req)
			if rpc.CodeOf(err) != rpc.CodeUnavailable {
				break
			}
		}
		return res, err
	}
})

// flakyServer fails every odd-numbered call with UNAVAILABLE, so that each
// call succeeds on its second attempt.
func flakyServer(t *testing.T, opts ...rpc.HandlerOption) *pair {
	t.Helper()
	var n atomic.Int64
	h := rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		if n.Add(1)%2 == 1 {
			return nil, rpc.NewError(rpc.CodeUnavailable, "try again")
		}
		return req, nil
	}, opts...)
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, h)
	srv := rpctest.NewServer(t, mux)
	return &pair{srv: srv, url: srv.URL()}
}

// With the interceptor before the retry and Attempts after it, the call
// has one CLIENT span with the final outcome and one metric, each attempt
// an INTERNAL child span with its own outcome, and both server spans hang
// under the CLIENT span.
func TestRetryAttemptSpans(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			otel := tel.interceptor()
			pr := flakyServer(t, rpc.WithHandlerInterceptors(otel))
			client := newClient[sv, sv](pr, specUnary, p, rpc.WithClientInterceptors(otel, retryUnavailable, otel.Attempts()))
			if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
				t.Fatal(err)
			}
			spans := tel.spans()
			if len(spans) != 5 {
				t.Fatalf("spans %v, want a client span, two attempt spans and two server spans", spanNames(spans))
			}
			cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
			if a := attrsOf(cs.Attributes); a["rpc.response.status_code"] != "OK" || cs.Status.Code != codes.Unset {
				t.Errorf("client span: %v, %+v", a, cs.Status)
			}
			var attempts, servers []int
			for i, s := range spans {
				switch s.SpanKind {
				case trace.SpanKindInternal:
					attempts = append(attempts, i)
				case trace.SpanKindServer:
					servers = append(servers, i)
				}
			}
			if len(attempts) != 2 || len(servers) != 2 {
				t.Fatalf("spans %v", spanNames(spans))
			}
			wantCode := []string{"UNAVAILABLE", "OK"}
			for n, i := range attempts {
				s := spans[i]
				if s.Name != methodUnary {
					t.Errorf("attempt span named %q", s.Name)
				}
				checkChild(t, cs, s)
				want := attrs{
					"rpc.system.name":          systemNames[p],
					"rpc.method":               methodUnary,
					"polyconnect.rpc.attempt":  []string{"1", "2"}[n],
					"rpc.response.status_code": wantCode[n],
				}
				wantStatus := codes.Unset
				if n == 0 {
					want["error.type"] = "UNAVAILABLE"
					wantStatus = codes.Error
				}
				checkAttrs(t, "attempt span", s.Attributes, want)
				if s.Status.Code != wantStatus {
					t.Errorf("attempt %d: status %+v", n+1, s.Status)
				}
			}
			// The attempts end in order, each before the next starts.
			if !spans[attempts[0]].EndTime.Before(spans[attempts[1]].StartTime) {
				t.Error("attempt spans overlap")
			}
			for n, i := range servers {
				checkChild(t, cs, spans[i])
				if got := attrsOf(spans[i].Attributes)["rpc.response.status_code"]; got != wantCode[n] {
					t.Errorf("server span %d: %s", n+1, got)
				}
			}
			points := durationPoints(t, tel.metrics(t), "rpc.client.call.duration")
			if len(points) != 1 || points[0].Count != 1 || attrsOf(points[0].Attributes.ToSlice())["rpc.response.status_code"] != "OK" {
				t.Errorf("client duration: %+v, want the call once, OK", points)
			}
		})
	}
}

// Other placements: inside the retry, the interceptor (or Attempts alone)
// makes a CLIENT span per attempt, siblings; outside it alone, one CLIENT
// span for the call, under which both server spans hang.
func TestRetryPlacements(t *testing.T) {
	t.Run("inside", func(t *testing.T) {
		for _, attemptsOnly := range []bool{false, true} {
			tel := newTelemetry(t)
			otel := tel.interceptor()
			pr := flakyServer(t, rpc.WithHandlerInterceptors(tel.interceptor()))
			var inner rpc.ClientInterceptor = otel
			if attemptsOnly {
				inner = otel.Attempts()
			}
			client := newClient[sv, sv](pr, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(retryUnavailable, inner))
			if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
				t.Fatal(err)
			}
			spans := tel.spans()
			var clients []int
			for i, s := range spans {
				if s.SpanKind == trace.SpanKindClient {
					clients = append(clients, i)
				}
			}
			if len(clients) != 2 || len(spans) != 4 {
				t.Fatalf("attempts only %v: spans %v, want two client and two server spans", attemptsOnly, spanNames(spans))
			}
			first, second := spans[clients[0]], spans[clients[1]]
			if first.Parent.IsValid() || second.Parent.IsValid() {
				t.Error("per-attempt client spans have a parent")
			}
			if attrsOf(first.Attributes)["rpc.response.status_code"] != "UNAVAILABLE" || attrsOf(second.Attributes)["rpc.response.status_code"] != "OK" {
				t.Errorf("attempt outcomes %v, %v", attrsOf(first.Attributes), attrsOf(second.Attributes))
			}
			if n := len(durationPoints(t, tel.metrics(t), "rpc.client.call.duration")); n != 2 {
				t.Errorf("client duration: %d series, want UNAVAILABLE and OK", n)
			}
		}
	})
	t.Run("outside", func(t *testing.T) {
		tel := newTelemetry(t)
		otel := tel.interceptor()
		pr := flakyServer(t, rpc.WithHandlerInterceptors(otel))
		client := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPC, rpc.WithClientInterceptors(otel, retryUnavailable))
		if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
			t.Fatal(err)
		}
		spans := tel.spans()
		cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
		n := 0
		for _, s := range spans {
			if s.SpanKind == trace.SpanKindServer {
				checkChild(t, cs, s)
				n++
			}
		}
		if n != 2 || len(spans) != 3 {
			t.Errorf("spans %v, want one client span and two server spans", spanNames(spans))
		}
	})
}

// A stream through Attempts gets an attempt span that ends with the
// stream.
func TestAttemptSpanOnStream(t *testing.T) {
	tel := newTelemetry(t)
	otel := tel.interceptor()
	pr := newPair(t, rpc.WithHandlerInterceptors(otel))
	client := newClient[sv, sv](pr, specServer, rpc.ProtocolGRPCWeb, rpc.WithClientInterceptors(otel, otel.Attempts()))
	stream, err := client.CallServerStream(context.Background(), wrapperspb.String("2"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := stream.Receive(); err != nil {
			t.Fatal(err)
		}
	}
	if hasSpan(tel, trace.SpanKindClient) || hasSpan(tel, trace.SpanKindInternal) {
		t.Errorf("spans %v ended before the stream did", spanNames(tel.spans()))
	}
	if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	_ = stream.Close()
	spans := tel.spans()
	cs := spanOf(t, spans, methodServer, trace.SpanKindClient)
	as := spanOf(t, spans, methodServer, trace.SpanKindInternal)
	ss := spanOf(t, spans, methodServer, trace.SpanKindServer)
	checkChild(t, cs, as)
	checkChild(t, cs, ss)
	if attrsOf(as.Attributes)["polyconnect.rpc.attempt"] != "1" {
		t.Errorf("attempt span: %v", attrsOf(as.Attributes))
	}
}

// hedgeTwice runs two attempts at once, each with a CallInfo of its own
// carrying a copy of the caller's request headers, as a hedging interceptor
// must, and returns the one that succeeds.
var hedgeTwice = rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		caller, _ := rpc.ClientCallInfo(ctx)
		type result struct {
			res any
			err error
		}
		results := make(chan result, 2)
		for range 2 {
			actx, info := rpc.NewClientContext(ctx)
			for k, v := range caller.RequestHeader() {
				info.RequestHeader()[k] = v
			}
			go func() {
				res, err := next(actx, req)
				results <- result{res, err}
			}()
		}
		var last result
		for range 2 {
			r := <-results
			if r.err == nil {
				last = r
			} else if last.res == nil {
				last = r
			}
		}
		return last.res, last.err
	}
})

// Concurrent attempts with CallInfos of their own still get attempt spans
// under the call's span, and their server spans hang under it too.
func TestHedgedAttemptSpans(t *testing.T) {
	tel := newTelemetry(t)
	otel := tel.interceptor()
	pr := flakyServer(t, rpc.WithHandlerInterceptors(otel))
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPC, rpc.WithClientInterceptors(otel, hedgeTwice, otel.Attempts()))
	if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	spans := tel.spans()
	if len(spans) != 5 {
		t.Fatalf("spans %v, want a client span, two attempt spans and two server spans", spanNames(spans))
	}
	cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
	outcomes := map[string]int{}
	numbers := map[string]bool{}
	for _, s := range spans {
		switch s.SpanKind {
		case trace.SpanKindInternal:
			checkChild(t, cs, s)
			a := attrsOf(s.Attributes)
			outcomes[a["rpc.response.status_code"]]++
			numbers[a["polyconnect.rpc.attempt"]] = true
		case trace.SpanKindServer:
			checkChild(t, cs, s)
		}
	}
	if outcomes["OK"] != 1 || outcomes["UNAVAILABLE"] != 1 {
		t.Errorf("attempt outcomes %v, want one OK and one UNAVAILABLE", outcomes)
	}
	if !numbers["1"] || !numbers["2"] {
		t.Errorf("attempt numbers %v, want 1 and 2", numbers)
	}
	if a := attrsOf(cs.Attributes); a["rpc.response.status_code"] != "OK" {
		t.Errorf("client span: %v", a)
	}
}
