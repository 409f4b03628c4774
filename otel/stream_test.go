package otelrpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// hasSpan reports whether a span of the kind has ended.
func hasSpan(tel *telemetry, kind trace.SpanKind) bool {
	for _, s := range tel.spans() {
		if s.SpanKind == kind {
			return true
		}
	}
	return false
}

// checkStreamCall checks the spans and metrics of one successful stream
// call of method over p.
func checkStreamCall(t *testing.T, tel *telemetry, pr *pair, p rpc.Protocol, method string) {
	t.Helper()
	spans := tel.spans()
	cs := spanOf(t, spans, method, trace.SpanKindClient)
	ss := spanOf(t, spans, method, trace.SpanKindServer)
	checkChild(t, cs, ss)
	checkAttrs(t, "client span", cs.Attributes, attrs{
		"rpc.system.name":          systemNames[p],
		"rpc.method":               method,
		"server.address":           pr.host(),
		"server.port":              "80",
		"rpc.response.status_code": "OK",
	})
	checkAttrs(t, "server span", ss.Attributes, attrs{
		"rpc.system.name":          systemNames[p],
		"rpc.method":               method,
		"server.address":           pr.host(),
		"server.port":              "80",
		"network.peer.address":     "*",
		"network.peer.port":        "*",
		"rpc.response.status_code": "OK",
	})
	if cs.Status.Code != codes.Unset || ss.Status.Code != codes.Unset {
		t.Errorf("statuses %v and %v, want unset", cs.Status, ss.Status)
	}
	rm := tel.metrics(t)
	for _, name := range []string{"rpc.client.call.duration", "rpc.server.call.duration"} {
		points := durationPoints(t, rm, name)
		if len(points) != 1 || points[0].Count != 1 {
			t.Errorf("%s: %+v, want one call", name, points)
		}
	}
}

// Each kind of stream gets a client and a server span, and the client span
// ends only when the stream does: when Receive reports the end.
func TestStreams(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			t.Run("server", func(t *testing.T) {
				tel := newTelemetry(t)
				otel := tel.interceptor()
				pr := newPair(t, rpc.WithHandlerInterceptors(otel))
				client := newClient[sv, sv](pr, specServer, p, rpc.WithClientInterceptors(otel))
				stream, err := client.CallServerStream(context.Background(), wrapperspb.String("3"))
				if err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					msg, err := stream.Receive()
					if err != nil || msg.Value != strconv.Itoa(i) {
						t.Fatalf("message %d: %v, %v", i, msg, err)
					}
				}
				if hasSpan(tel, trace.SpanKindClient) {
					t.Error("client span ended before the stream did")
				}
				if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
					t.Fatalf("end of stream: %v", err)
				}
				if !hasSpan(tel, trace.SpanKindClient) {
					t.Error("client span still open after io.EOF")
				}
				if err := stream.Close(); err != nil {
					t.Fatal(err)
				}
				checkStreamCall(t, tel, pr, p, methodServer)
			})
			t.Run("client", func(t *testing.T) {
				tel := newTelemetry(t)
				otel := tel.interceptor()
				pr := newPair(t, rpc.WithHandlerInterceptors(otel))
				client := newClient[sv, sv](pr, specClient, p, rpc.WithClientInterceptors(otel))
				stream, err := client.CallClientStream(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for range 3 {
					if err := stream.Send(wrapperspb.String("x")); err != nil {
						t.Fatal(err)
					}
				}
				if hasSpan(tel, trace.SpanKindClient) {
					t.Error("client span ended before the stream did")
				}
				res, err := stream.CloseAndReceive()
				if err != nil || res.Value != "3" {
					t.Fatalf("CloseAndReceive: %v, %v", res, err)
				}
				checkStreamCall(t, tel, pr, p, methodClient)
			})
			t.Run("bidi", func(t *testing.T) {
				tel := newTelemetry(t)
				otel := tel.interceptor()
				pr := newPair(t, rpc.WithHandlerInterceptors(otel))
				client := newClient[sv, sv](pr, specBidi, p, rpc.WithClientInterceptors(otel))
				stream, err := client.CallBidiStream(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					if err := stream.Send(wrapperspb.String(strconv.Itoa(i))); err != nil {
						t.Fatal(err)
					}
					msg, err := stream.Receive()
					if err != nil || msg.Value != strconv.Itoa(i) {
						t.Fatalf("echo %d: %v, %v", i, msg, err)
					}
				}
				if err := stream.CloseSend(); err != nil {
					t.Fatal(err)
				}
				if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
					t.Fatalf("end of stream: %v", err)
				}
				if err := stream.CloseReceive(); err != nil {
					t.Fatal(err)
				}
				checkStreamCall(t, tel, pr, p, methodBidi)
			})
		})
	}
}

// A stream that fails ends both spans with the code, under each side's
// rules.
func TestStreamErrors(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			otel := tel.interceptor()
			pr := newPair(t, rpc.WithHandlerInterceptors(otel))

			// A server fault after one message: an error on both sides.
			server := newClient[sv, sv](pr, specServer, p, rpc.WithClientInterceptors(otel))
			stream, err := server.CallServerStream(context.Background(), wrapperspb.String(failWith(rpc.CodeInternal)))
			if err != nil {
				t.Fatal(err)
			}
			var last error
			for _, err := range stream.All() {
				last = err
			}
			if rpc.CodeOf(last) != rpc.CodeInternal {
				t.Fatalf("stream ended with %v", last)
			}
			spans := tel.spans()
			for _, kind := range []trace.SpanKind{trace.SpanKindClient, trace.SpanKindServer} {
				s := spanOf(t, spans, methodServer, kind)
				a := attrsOf(s.Attributes)
				if a["rpc.response.status_code"] != "INTERNAL" || a["error.type"] != "INTERNAL" || s.Status.Code != codes.Error {
					t.Errorf("%s span: %v, %+v", kind, a, s.Status)
				}
			}

			// The caller's mistake: an error for the client only.
			tel.exporter.Reset()
			cstream, err := newClient[sv, sv](pr, specClient, p, rpc.WithClientInterceptors(otel)).CallClientStream(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := cstream.Send(wrapperspb.String(failWith(rpc.CodeNotFound))); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			if _, err := cstream.CloseAndReceive(); rpc.CodeOf(err) != rpc.CodeNotFound {
				t.Fatalf("CloseAndReceive: %v", err)
			}
			spans = tel.spans()
			cs := spanOf(t, spans, methodClient, trace.SpanKindClient)
			ss := spanOf(t, spans, methodClient, trace.SpanKindServer)
			if a := attrsOf(cs.Attributes); a["error.type"] != "NOT_FOUND" || cs.Status.Code != codes.Error {
				t.Errorf("client span: %v, %+v", a, cs.Status)
			}
			if a := attrsOf(ss.Attributes); a["rpc.response.status_code"] != "NOT_FOUND" || a["error.type"] != "" || ss.Status.Code != codes.Unset {
				t.Errorf("server span: %v, %+v", a, ss.Status)
			}
		})
	}
}

// canceledName is how code 1 is spelled for p.
func canceledName(p rpc.Protocol) string {
	if p == rpc.ProtocolConnect {
		return "CANCELED"
	}
	return "CANCELLED"
}

// A stream canceled by the client's context, or closed before its end,
// ends the client span as canceled (an error for the client) and the
// server span when the handler returns (not a server fault).
func TestStreamCancellation(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			for _, how := range []string{"cancel then receive", "close early", "cancel and walk away"} {
				t.Run(how, func(t *testing.T) {
					tel := newTelemetry(t)
					otel := tel.interceptor()
					pr := newPair(t, rpc.WithHandlerInterceptors(otel))
					client := newClient[sv, sv](pr, specServer, p, rpc.WithClientInterceptors(otel))
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					request := "hold"
					if how == "close early" {
						// Close drains a little of the response before it
						// cancels the call, so the server must be sending.
						request = "flood"
					}
					stream, err := client.CallServerStream(ctx, wrapperspb.String(request))
					if err != nil {
						t.Fatal(err)
					}
					if msg, err := stream.Receive(); err != nil || (msg.Value != "first" && msg.Value != "more") {
						t.Fatalf("first message: %v, %v", msg, err)
					}
					switch how {
					case "cancel then receive":
						cancel()
						if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeCanceled {
							t.Fatalf("Receive after cancel: %v", err)
						}
					case "close early":
						if err := stream.Close(); err != nil {
							t.Fatal(err)
						}
					case "cancel and walk away":
						// No method of the stream runs: the context alone ends the span.
						cancel()
						tel.waitSpans(t, 1)
					}
					// The handler sees its context end either way.
					if err := <-pr.svc.held; !errors.Is(err, context.Canceled) {
						t.Errorf("handler's context ended with %v", err)
					}
					spans := tel.waitSpans(t, 2)
					cs := spanOf(t, spans, methodServer, trace.SpanKindClient)
					if a := attrsOf(cs.Attributes); a["rpc.response.status_code"] != canceledName(p) || a["error.type"] != canceledName(p) || cs.Status.Code != codes.Error {
						t.Errorf("client span: %v, %+v", a, cs.Status)
					}
					ss := spanOf(t, spans, methodServer, trace.SpanKindServer)
					checkChild(t, cs, ss)
					if a := attrsOf(ss.Attributes); a["rpc.response.status_code"] != canceledName(p) || ss.Status.Code != codes.Unset {
						t.Errorf("server span: %v, %+v", a, ss.Status)
					}
					_ = stream.Close()
				})
			}
		})
	}
}

// A handler that outlives the call's deadline and then succeeds is reported
// as DEADLINE_EXCEEDED, as the handler answers it: a server fault. The
// request comes straight from the test, so that no client cancels the call
// before the handler's own deadline passes.
func TestHandlerPastDeadline(t *testing.T) {
	tel := newTelemetry(t)
	late := rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		<-ctx.Done()
		return req, nil
	}, rpc.WithHandlerInterceptors(tel.interceptor()))
	body, err := proto.Marshal(wrapperspb.String("hi"))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, specUnary.Procedure, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Connect-Protocol-Version", "1")
	req.Header.Set("Connect-Timeout-Ms", "1")
	rec := httptest.NewRecorder()
	late.ServeHTTP(rec, req)
	if rec.Code != http.StatusGatewayTimeout {
		t.Errorf("handler answered %d, want 504 (deadline_exceeded)", rec.Code)
	}
	ss := spanOf(t, tel.spans(), methodUnary, trace.SpanKindServer)
	if a := attrsOf(ss.Attributes); a["rpc.response.status_code"] != "DEADLINE_EXCEEDED" || a["error.type"] != "DEADLINE_EXCEEDED" || ss.Status.Code != codes.Error {
		t.Errorf("server span: %v, %+v", a, ss.Status)
	}
}

// WithMessageEvents adds an event per message, on both sides, numbered in
// each direction.
func TestMessageEvents(t *testing.T) {
	tel := newTelemetry(t)
	otel := tel.interceptor(otelrpc.WithMessageEvents())
	pr := newPair(t, rpc.WithHandlerInterceptors(otel))
	client := newClient[sv, sv](pr, specBidi, rpc.ProtocolGRPC, rpc.WithClientInterceptors(otel))
	stream, err := client.CallBidiStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "bb"} {
		if err := stream.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Receive(); err != nil {
			t.Fatal(err)
		}
	}
	_ = stream.CloseSend()
	if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	_ = stream.CloseReceive()
	spans := tel.spans()
	// proto.Size of StringValue{"a"} is 3 bytes, of {"bb"} 4.
	want := map[trace.SpanKind][]string{
		trace.SpanKindClient: {"SENT 1 3", "RECEIVED 1 3", "SENT 2 4", "RECEIVED 2 4"},
		trace.SpanKindServer: {"RECEIVED 1 3", "SENT 1 3", "RECEIVED 2 4", "SENT 2 4"},
	}
	for kind, events := range want {
		s := spanOf(t, spans, methodBidi, kind)
		var got []string
		for _, e := range s.Events {
			if e.Name != "rpc.message" {
				t.Errorf("%s: event %q", kind, e.Name)
			}
			a := attrsOf(e.Attributes)
			got = append(got, a["rpc.message.type"]+" "+a["rpc.message.id"]+" "+a["rpc.message.uncompressed_size"])
		}
		if len(got) != len(events) {
			t.Fatalf("%s: events %q, want %q", kind, got, events)
		}
		for i := range got {
			if got[i] != events[i] {
				t.Errorf("%s: event %d is %q, want %q", kind, i, got[i], events[i])
			}
		}
	}
	// Without the option, no events.
	tel2 := newTelemetry(t)
	plain := tel2.interceptor()
	pr2 := newPair(t, rpc.WithHandlerInterceptors(plain))
	if _, err := newClient[sv, sv](pr2, specUnary, rpc.ProtocolConnect, rpc.WithClientInterceptors(plain)).CallUnary(context.Background(), wrapperspb.String("a")); err != nil {
		t.Fatal(err)
	}
	for _, s := range tel2.spans() {
		if len(s.Events) != 0 {
			t.Errorf("%s span has events without WithMessageEvents", s.SpanKind)
		}
	}
}

// WithMessageMetrics records message sizes and counts per call.
func TestMessageMetrics(t *testing.T) {
	tel := newTelemetry(t)
	otel := tel.interceptor(otelrpc.WithMessageMetrics())
	pr := newPair(t, rpc.WithHandlerInterceptors(otel))
	client := newClient[sv, sv](pr, specClient, rpc.ProtocolConnect, rpc.WithClientInterceptors(otel))
	stream, err := client.CallClientStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "bb", "ccc"} {
		if err := stream.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stream.CloseAndReceive(); err != nil {
		t.Fatal(err)
	}
	rm := tel.metrics(t)
	ints := func(name string) metricdata.HistogramDataPoint[int64] {
		t.Helper()
		m := findMetric(t, rm, name)
		h, ok := m.Data.(metricdata.Histogram[int64])
		if !ok || len(h.DataPoints) != 1 {
			t.Fatalf("%s: %#v", name, m.Data)
		}
		return h.DataPoints[0]
	}
	for _, c := range []struct {
		name       string
		count, sum int64
		unit       string
	}{
		// Three requests of 3, 4 and 5 bytes; one response "3" of 3 bytes.
		{"rpc.client.request.size", 3, 12, "By"},
		{"rpc.client.response.size", 1, 3, "By"},
		{"rpc.server.request.size", 3, 12, "By"},
		{"rpc.server.response.size", 1, 3, "By"},
		{"rpc.client.requests_per_rpc", 1, 3, "{count}"},
		{"rpc.client.responses_per_rpc", 1, 1, "{count}"},
		{"rpc.server.requests_per_rpc", 1, 3, "{count}"},
		{"rpc.server.responses_per_rpc", 1, 1, "{count}"},
	} {
		p := ints(c.name)
		if int64(p.Count) != c.count || p.Sum != c.sum {
			t.Errorf("%s: count %d sum %d, want %d and %d", c.name, p.Count, p.Sum, c.count, c.sum)
		}
		if u := findMetric(t, rm, c.name).Unit; u != c.unit {
			t.Errorf("%s: unit %q, want %q", c.name, u, c.unit)
		}
		if a := attrsOf(p.Attributes.ToSlice()); a["rpc.method"] != methodClient {
			t.Errorf("%s: attributes %v", c.name, a)
		}
	}
}
