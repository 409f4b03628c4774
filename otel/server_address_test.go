package otelrpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// serveWithHost makes a Connect unary call straight into h with the
// request's Host header set to host, as any caller may set it.
func serveWithHost(t *testing.T, h http.Handler, host string) {
	t.Helper()
	body, err := proto.Marshal(wrapperspb.String("hi"))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+host+specUnary.Procedure, strings.NewReader(string(body)))
	req.Host = host
	req.Header.Set("Content-Type", "application/proto")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("Host %s: status %d: %s", host, rec.Code, rec.Body)
	}
}

var threeHosts = []string{"a.example:8080", "b.example:8081", "c.example"}

// By default the server's metric has no server.address or server.port,
// whatever Host headers the callers send: the conventions make them
// opt-in, and the caller chooses their values. The server span keeps them.
func TestServerAddressNotOnMetricsByDefault(t *testing.T) {
	tel := newTelemetry(t)
	svc := &service{}
	h := svc.mux(rpc.WithHandlerInterceptors(tel.interceptor()))
	for _, host := range threeHosts {
		serveWithHost(t, h, host)
	}
	points := durationPoints(t, tel.metrics(t), "rpc.server.call.duration")
	if len(points) != 1 || points[0].Count != 3 {
		t.Fatalf("%d points, want one with the three calls: %+v", len(points), points)
	}
	for _, kv := range points[0].Attributes.ToSlice() {
		if strings.HasPrefix(string(kv.Key), "server.") {
			t.Errorf("rpc.server.call.duration has %s=%s without WithServerAddressMetrics", kv.Key, kv.Value.Emit())
		}
	}
	spans := tel.spans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	for i, s := range spans {
		host, port, _ := strings.Cut(threeHosts[i], ":")
		want := attrs{"server.address": host}
		if port != "" {
			want["server.port"] = port
		}
		got := attrsOf(s.Attributes)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("span %d: %s=%q, want %q", i, k, got[k], v)
			}
		}
	}
}

// With WithServerAddressMetrics each call is recorded with the authority it
// was addressed to: three Host headers make three points, each with its own
// address (the attribute sets used to be cached without the address, so
// every call got the first call's).
func TestServerAddressMetrics(t *testing.T) {
	tel := newTelemetry(t)
	svc := &service{}
	h := svc.mux(rpc.WithHandlerInterceptors(tel.interceptor(otelrpc.WithServerAddressMetrics(), otelrpc.WithMessageMetrics())))
	for _, host := range threeHosts {
		serveWithHost(t, h, host)
	}
	rm := tel.metrics(t)
	want := map[string]bool{"a.example/8080": true, "b.example/8081": true, "c.example/": true}
	check := func(name string, sets []map[string]string) {
		got := map[string]bool{}
		for _, a := range sets {
			got[a["server.address"]+"/"+a["server.port"]] = true
		}
		if len(got) != len(want) {
			t.Errorf("%s: addresses %v, want %v", name, got, want)
		}
		for k := range want {
			if !got[k] {
				t.Errorf("%s: no point for %s; got %v", name, k, got)
			}
		}
	}
	var sets []map[string]string
	for _, p := range durationPoints(t, rm, "rpc.server.call.duration") {
		if p.Count != 1 {
			t.Errorf("a point with %d calls, want 1: %+v", p.Count, p.Attributes.ToSlice())
		}
		sets = append(sets, stringAttrs(attrsOf(p.Attributes.ToSlice())))
	}
	check("rpc.server.call.duration", sets)
	sets = nil
	m := findMetric(t, rm, "rpc.server.request.size")
	for _, p := range m.Data.(metricdata.Histogram[int64]).DataPoints {
		sets = append(sets, stringAttrs(attrsOf(p.Attributes.ToSlice())))
	}
	check("rpc.server.request.size", sets)
}

func stringAttrs(a attrs) map[string]string {
	m := make(map[string]string, len(a))
	for k, v := range a {
		m[string(k)] = v
	}
	return m
}
