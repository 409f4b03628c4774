package otelrpc_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

// A unary call makes a CLIENT span and a SERVER span in one trace, with the
// conventions' names and attributes, and one measurement in each duration
// histogram; on every protocol.
func TestUnarySpansAndMetrics(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			otel := tel.interceptor()
			pr := newPair(t, rpc.WithHandlerInterceptors(otel))
			client := newClient[sv, sv](pr, specUnary, p, rpc.WithClientInterceptors(otel))
			res, err := client.CallUnary(context.Background(), wrapperspb.String("hi"))
			if err != nil || res.Value != "hi" {
				t.Fatalf("CallUnary: %v, %v", res, err)
			}
			spans := tel.spans()
			if len(spans) != 2 {
				t.Fatalf("spans %v, want a client and a server span", spanNames(spans))
			}
			cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
			ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
			checkChild(t, cs, ss)
			if !ss.Parent.IsRemote() {
				t.Error("server span's parent is not remote")
			}
			if cs.Parent.IsValid() {
				t.Errorf("client span has a parent %s; the call had none", cs.Parent.SpanID())
			}
			checkAttrs(t, "client span", cs.Attributes, attrs{
				"rpc.system.name":          systemNames[p],
				"rpc.method":               methodUnary,
				"server.address":           pr.host(),
				"server.port":              "80",
				"rpc.response.status_code": "OK",
			})
			checkAttrs(t, "server span", ss.Attributes, attrs{
				"rpc.system.name":          systemNames[p],
				"rpc.method":               methodUnary,
				"server.address":           pr.host(),
				"server.port":              "80",
				"network.peer.address":     "*",
				"network.peer.port":        "*",
				"rpc.response.status_code": "OK",
			})
			for _, s := range spans {
				if s.Status.Code != codes.Unset {
					t.Errorf("%s span: status %v, want unset", s.SpanKind, s.Status)
				}
				if s.InstrumentationScope.Name != "polyconnect.dev/otel" || s.InstrumentationScope.Version == "" {
					t.Errorf("%s span: scope %+v", s.SpanKind, s.InstrumentationScope)
				}
				if s.InstrumentationScope.SchemaURL != "https://opentelemetry.io/schemas/1.43.0" {
					t.Errorf("%s span: schema %q", s.SpanKind, s.InstrumentationScope.SchemaURL)
				}
			}

			rm := tel.metrics(t)
			for _, side := range []struct {
				name string
				want attrs
			}{
				{"rpc.client.call.duration", attrs{
					"rpc.system.name":          systemNames[p],
					"rpc.method":               methodUnary,
					"server.address":           pr.host(),
					"server.port":              "80",
					"rpc.response.status_code": "OK",
				}},
				// No peer address on metrics: it would make a series per
				// client. Nor, by default, the server's address: it is
				// the Host header the caller chose (opt-in, see
				// TestServerAddressMetrics).
				{"rpc.server.call.duration", attrs{
					"rpc.system.name":          systemNames[p],
					"rpc.method":               methodUnary,
					"rpc.response.status_code": "OK",
				}},
			} {
				points := durationPoints(t, rm, side.name)
				if len(points) != 1 || points[0].Count != 1 {
					t.Fatalf("%s: %d points, want one with one call: %+v", side.name, len(points), points)
				}
				checkAttrs(t, side.name, points[0].Attributes.ToSlice(), side.want)
				if points[0].Sum <= 0 || points[0].Sum > 60 {
					t.Errorf("%s: %v seconds", side.name, points[0].Sum)
				}
			}
			// Nothing else is recorded by default.
			for _, name := range []string{"rpc.client.request.size", "rpc.server.requests_per_rpc"} {
				if hasMetric(rm, name) {
					t.Errorf("%s recorded without WithMessageMetrics", name)
				}
			}
		})
	}
}

// Errors set rpc.response.status_code and, where the call failed for that
// side, error.type and an error status: every code on a client, only the
// server-fault codes on a handler.
func TestUnaryErrors(t *testing.T) {
	serverFaults := map[rpc.Code]bool{
		rpc.CodeUnknown: true, rpc.CodeDeadlineExceeded: true, rpc.CodeUnimplemented: true,
		rpc.CodeInternal: true, rpc.CodeUnavailable: true, rpc.CodeDataLoss: true,
	}
	names := map[rpc.Code]string{
		rpc.CodeCanceled: "CANCELLED", rpc.CodeUnknown: "UNKNOWN", rpc.CodeInvalidArgument: "INVALID_ARGUMENT",
		rpc.CodeDeadlineExceeded: "DEADLINE_EXCEEDED", rpc.CodeNotFound: "NOT_FOUND",
		rpc.CodeAlreadyExists: "ALREADY_EXISTS", rpc.CodePermissionDenied: "PERMISSION_DENIED",
		rpc.CodeResourceExhausted: "RESOURCE_EXHAUSTED", rpc.CodeFailedPrecondition: "FAILED_PRECONDITION",
		rpc.CodeAborted: "ABORTED", rpc.CodeOutOfRange: "OUT_OF_RANGE", rpc.CodeUnimplemented: "UNIMPLEMENTED",
		rpc.CodeInternal: "INTERNAL", rpc.CodeUnavailable: "UNAVAILABLE", rpc.CodeDataLoss: "DATA_LOSS",
		rpc.CodeUnauthenticated: "UNAUTHENTICATED",
	}
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			otel := tel.interceptor()
			pr := newPair(t, rpc.WithHandlerInterceptors(otel))
			client := newClient[sv, sv](pr, specUnary, p, rpc.WithClientInterceptors(otel))
			for code := rpc.CodeCanceled; code <= rpc.CodeUnauthenticated; code++ {
				tel.exporter.Reset()
				_, err := client.CallUnary(context.Background(), wrapperspb.String(failWith(code)))
				if rpc.CodeOf(err) != code {
					t.Fatalf("code %v: call returned %v", code, err)
				}
				want := names[code]
				if code == rpc.CodeCanceled && p == rpc.ProtocolConnect {
					want = "CANCELED" // Connect's spelling
				}
				spans := tel.spans()
				cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
				ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
				got := attrsOf(cs.Attributes)
				if got["rpc.response.status_code"] != want || got["error.type"] != want {
					t.Errorf("%v: client status_code %q, error.type %q, want %q", code, got["rpc.response.status_code"], got["error.type"], want)
				}
				if cs.Status.Code != codes.Error || cs.Status.Description != "failed as asked" {
					t.Errorf("%v: client status %+v, want an error with the message", code, cs.Status)
				}
				got = attrsOf(ss.Attributes)
				if got["rpc.response.status_code"] != want {
					t.Errorf("%v: server status_code %q, want %q", code, got["rpc.response.status_code"], want)
				}
				if serverFaults[code] {
					if got["error.type"] != want || ss.Status.Code != codes.Error || ss.Status.Description != "failed as asked" {
						t.Errorf("%v: server error.type %q, status %+v, want an error", code, got["error.type"], ss.Status)
					}
				} else if _, ok := got["error.type"]; ok || ss.Status.Code != codes.Unset {
					t.Errorf("%v: server error.type %q, status %+v, want neither: not a server fault", code, got["error.type"], ss.Status)
				}
			}
			// The metrics carry error.type on the same terms.
			rm := tel.metrics(t)
			for _, point := range durationPoints(t, rm, "rpc.server.call.duration") {
				a := attrsOf(point.Attributes.ToSlice())
				_, hasType := a["error.type"]
				faulty := false
				for code, name := range names {
					if a["rpc.response.status_code"] == name || (code == rpc.CodeCanceled && a["rpc.response.status_code"] == "CANCELED") {
						faulty = serverFaults[code]
					}
				}
				if hasType != faulty {
					t.Errorf("server metric point %v: error.type present %v, want %v", a, hasType, faulty)
				}
			}
			if n := len(durationPoints(t, rm, "rpc.client.call.duration")); n != 16 {
				t.Errorf("client duration: %d series, want one per code (16)", n)
			}
		})
	}
}

// A client whose call cannot reach a server records the code the client
// made up (UNAVAILABLE), and a call canceled by its context records
// CANCELED.
func TestUnaryClientSideErrors(t *testing.T) {
	tel := newTelemetry(t)
	otel := tel.interceptor()
	pr := newPair(t)
	// A host the in-memory server does not serve.
	client := rpc.NewClient[sv, sv](pr.srv.HTTP2Client(), "http://nowhere.rpctest.invalid", specUnary, rpc.WithClientInterceptors(otel))
	_, err := client.CallUnary(context.Background(), wrapperspb.String("hi"))
	if rpc.CodeOf(err) != rpc.CodeUnavailable {
		t.Fatalf("call to nowhere: %v", err)
	}
	cs := spanOf(t, tel.spans(), methodUnary, trace.SpanKindClient)
	checkAttrs(t, "client span", cs.Attributes, attrs{
		"rpc.system.name":          "connectrpc",
		"rpc.method":               methodUnary,
		"server.address":           "nowhere.rpctest.invalid",
		"rpc.response.status_code": "UNAVAILABLE",
		"error.type":               "UNAVAILABLE",
	})
	if cs.Status.Code != codes.Error {
		t.Errorf("status %+v", cs.Status)
	}

	tel.exporter.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = client.CallUnary(ctx, wrapperspb.String("hi"))
	if rpc.CodeOf(err) != rpc.CodeCanceled {
		t.Fatalf("canceled call: %v", err)
	}
	cs = spanOf(t, tel.spans(), methodUnary, trace.SpanKindClient)
	if a := attrsOf(cs.Attributes); a["rpc.response.status_code"] != "CANCELED" || a["error.type"] != "CANCELED" {
		t.Errorf("canceled call: %v", a)
	}
}

// The trace continues from the caller's span, and baggage reaches the
// handler's context, on every protocol.
func TestPropagation(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			otel := tel.interceptor()
			pr := newPair(t, rpc.WithHandlerInterceptors(otel))
			client := newClient[sv, sv](pr, specUnary, p, rpc.WithClientInterceptors(otel))

			ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "parent")
			member, _ := baggage.NewMember("k", "v1")
			bag, _ := baggage.New(member)
			ctx = baggage.ContextWithBaggage(ctx, bag)
			ctx, info := rpc.NewClientContext(ctx)
			info.RequestHeader().Set("X-Own", "mine")
			res, err := client.CallUnary(ctx, wrapperspb.String("baggage"))
			parent.End()
			if err != nil {
				t.Fatal(err)
			}
			if res.Value != "v1" {
				t.Errorf("handler saw baggage k=%q, want v1", res.Value)
			}
			// The propagated headers went out with the request but are not
			// left in the caller's map.
			for k := range info.RequestHeader() {
				if k != "X-Own" {
					t.Errorf("caller's request headers keep %s", k)
				}
			}
			spans := tel.spans()
			ps := spanOf(t, spans, "parent", trace.SpanKindInternal)
			cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
			ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
			checkChild(t, ps, cs)
			checkChild(t, cs, ss)
		})
	}
}

// A header that the caller had set under a propagated name is put back.
func TestPropagationRestoresCallerHeaders(t *testing.T) {
	tel := newTelemetry(t)
	otel := tel.interceptor()
	pr := newPair(t, rpc.WithHandlerInterceptors(otel))
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(otel))
	ctx, info := rpc.NewClientContext(context.Background())
	info.RequestHeader().Set("Baggage", "theirs=1")
	for range 2 { // a CallInfo serves two calls
		if _, err := client.CallUnary(ctx, wrapperspb.String("hi")); err != nil {
			t.Fatal(err)
		}
		if got := info.RequestHeader().Get("Baggage"); got != "theirs=1" {
			t.Errorf("caller's baggage header is %q after the call", got)
		}
		if got := info.RequestHeader().Get("Traceparent"); got != "" {
			t.Errorf("traceparent %q left in the caller's headers", got)
		}
	}
	spans := tel.spans()
	if len(spans) != 4 {
		t.Fatalf("spans: %v", spanNames(spans))
	}
	// Each server span is the child of its own call's client span.
	for i := 0; i < 4; i += 2 {
		server, client := spans[i], spans[i+1]
		if server.SpanKind != trace.SpanKindServer || client.SpanKind != trace.SpanKindClient {
			t.Fatalf("spans in order %v", spanNames(spans))
		}
		checkChild(t, client, server)
	}
}

// WithPublicEndpoint: the handler span starts a new trace, linked to the
// caller's span, and the caller's baggage is ignored.
func TestPublicEndpoint(t *testing.T) {
	tel := newTelemetry(t)
	pr := newPair(t, rpc.WithHandlerInterceptors(tel.interceptor(otelrpc.WithPublicEndpoint())))
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolGRPC, rpc.WithClientInterceptors(tel.interceptor()))
	member, _ := baggage.NewMember("k", "v1")
	bag, _ := baggage.New(member)
	res, err := client.CallUnary(baggage.ContextWithBaggage(context.Background(), bag), wrapperspb.String("baggage"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Value != "" {
		t.Errorf("a public endpoint's handler saw the caller's baggage %q", res.Value)
	}
	spans := tel.spans()
	cs := spanOf(t, spans, methodUnary, trace.SpanKindClient)
	ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
	if ss.Parent.IsValid() || ss.SpanContext.TraceID() == cs.SpanContext.TraceID() {
		t.Errorf("server span continues the caller's trace: parent %v", ss.Parent)
	}
	if len(ss.Links) != 1 || ss.Links[0].SpanContext.SpanID() != cs.SpanContext.SpanID() {
		t.Errorf("server span links %+v, want one to the client span %s", ss.Links, cs.SpanContext.SpanID())
	}
}

// A span already on the handler's context (an HTTP middleware's) is the
// parent; the headers are not read then.
func TestHandlerUnderExistingSpan(t *testing.T) {
	tel := newTelemetry(t)
	svc := &service{}
	mux := svc.mux(rpc.WithHandlerInterceptors(tel.interceptor()))
	outer := tel.tp.Tracer("middleware")
	pr := &pair{svc: svc}
	pr.srv = rpctest.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := outer.Start(r.Context(), "middleware")
		defer span.End()
		mux.ServeHTTP(w, r.WithContext(ctx))
	}))
	pr.url = pr.srv.URL()
	client := newClient[sv, sv](pr, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(tel.interceptor()))
	if _, err := client.CallUnary(context.Background(), wrapperspb.String("hi")); err != nil {
		t.Fatal(err)
	}
	spans := tel.spans()
	ms := spanOf(t, spans, "middleware", trace.SpanKindInternal)
	ss := spanOf(t, spans, methodUnary, trace.SpanKindServer)
	checkChild(t, ms, ss)
}

// WithRequestMetadata and WithResponseMetadata record the named headers
// (and trailers) only.
func TestMetadataAttributes(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			otel := tel.interceptor(
				otelrpc.WithRequestMetadata("x-tenant", "X-Absent"),
				otelrpc.WithResponseMetadata("X-Res", "x-trl"),
			)
			pr := newPair(t, rpc.WithHandlerInterceptors(otel))
			client := newClient[sv, sv](pr, specUnary, p, rpc.WithClientInterceptors(otel))
			ctx, info := rpc.NewClientContext(context.Background())
			info.RequestHeader().Add("X-Tenant", "a")
			info.RequestHeader().Add("X-Tenant", "b")
			info.RequestHeader().Set("Authorization", "secret")
			if _, err := client.CallUnary(ctx, wrapperspb.String("header")); err != nil {
				t.Fatal(err)
			}
			for _, kind := range []trace.SpanKind{trace.SpanKindClient, trace.SpanKindServer} {
				s := spanOf(t, tel.spans(), methodUnary, kind)
				a := attrsOf(s.Attributes)
				if got := a["rpc.request.metadata.x-tenant"]; got != `["a","b"]` {
					t.Errorf("%s: rpc.request.metadata.x-tenant = %s", kind, got)
				}
				if got := a["rpc.response.metadata.x-res"]; got != `["res-value"]` {
					t.Errorf("%s: rpc.response.metadata.x-res = %s", kind, got)
				}
				if got := a["rpc.response.metadata.x-trl"]; got != `["trl-value"]` {
					t.Errorf("%s: rpc.response.metadata.x-trl = %s", kind, got)
				}
				for k := range a {
					if k == "rpc.request.metadata.authorization" || k == "rpc.request.metadata.x-absent" {
						t.Errorf("%s: recorded %s", kind, k)
					}
				}
			}
			// Metadata never reaches metrics.
			rm := tel.metrics(t)
			for _, name := range []string{"rpc.client.call.duration", "rpc.server.call.duration"} {
				for _, kv := range durationPoints(t, rm, name)[0].Attributes.ToSlice() {
					if kv.Key == attribute.Key("rpc.request.metadata.x-tenant") {
						t.Errorf("%s carries %s", name, kv.Key)
					}
				}
			}
		})
	}
}
