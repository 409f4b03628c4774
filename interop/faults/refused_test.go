package faults_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/recovery"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

// A call that authentication refuses in the handler's call chain, before
// its request is read, is traced, logged and counted by the interceptors
// placed before it (issue 22): a SERVER span with the refusal's code, a
// measurement of rpc.server.call.duration, a log record. A request whose
// body would not even decode is refused the same way: auth runs first.
func TestRefusedCallsObserved(t *testing.T) {
	for _, lp := range leakProtocols {
		t.Run(lp.name, func(t *testing.T) {
			s := newSinks(t)
			o, l := s.telemetry()
			refuse := auth.NewServer(func(context.Context, *auth.Request) (any, error) {
				return nil, rpc.NewError(rpc.CodeUnauthenticated, "no credentials")
			})
			reached := false
			h := rpc.NewUnaryHandler(leakOK, func(_ context.Context, req *sv) (*sv, error) {
				reached = true
				return req, nil
			}, rpc.WithHandlerInterceptors(o, l, recovery.New(recovery.WithLogger(slog.New(s.logs))), refuse))
			mux := http.NewServeMux()
			mux.Handle(leakOK.Procedure, h)
			srv := serve(t, transport.NameH2C, mux)
			opts := append([]rpc.ClientOption{rpc.WithProtocol(lp.protocol)}, lp.opts...)
			c := rpc.NewClient[sv, sv](newClient(t, transport.NameH2C), srv.URL(), leakOK, opts...)
			if _, err := c.CallUnary(context.Background(), wrapperspb.String("x")); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
				t.Fatalf("call: %v, want unauthenticated", err)
			}
			calls := 1
			if lp.name == "connect-post" {
				// Bytes that are no protobuf message: still refused by
				// auth, before decoding.
				res, err := http.Post(srv.URL()+leakOK.Procedure, "application/proto", bytes.NewReader([]byte{0xff, 0xff, 0xff}))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusUnauthorized {
					t.Fatalf("undecodable request: HTTP %d %s, want 401", res.StatusCode, body)
				}
				calls++
			}
			if reached {
				t.Fatal("the method ran for a refused call")
			}
			// The server's handler has returned before the response was
			// complete; its span and measurement are recorded by then.
			var spans int
			for _, span := range s.spans.GetSpans() {
				if span.SpanKind != trace.SpanKindServer {
					continue
				}
				spans++
				got := ""
				for _, kv := range span.Attributes {
					if kv.Key == "rpc.response.status_code" {
						got = kv.Value.Emit()
					}
				}
				if got != "UNAUTHENTICATED" {
					t.Errorf("server span with status code %q, want UNAUTHENTICATED", got)
				}
			}
			if spans != calls {
				t.Errorf("%d server spans, want %d", spans, calls)
			}
			var rm metricdata.ResourceMetrics
			if err := s.reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			var counted uint64
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if m.Name != "rpc.server.call.duration" {
						continue
					}
					for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
						if v, _ := p.Attributes.Value("rpc.response.status_code"); v.Emit() == "UNAUTHENTICATED" {
							counted += p.Count
						}
					}
				}
			}
			if counted != uint64(calls) {
				t.Errorf("rpc.server.call.duration counted %d refused calls, want %d", counted, calls)
			}
			var logged int
			for _, line := range s.logs.texts() {
				if strings.Contains(line, "rpc.side=server") && strings.Contains(line, "rpc.code=unauthenticated") {
					logged++
				}
			}
			if logged != calls {
				t.Errorf("%d server log records of the refusal, want %d: %v", logged, calls, s.logs.texts())
			}
		})
	}
}
