package otelrpc_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	otelrpc "polyconnect.dev/otel"
	"polyconnect.dev/protocol/rpc"
)

// Message events and size metrics take the sizes from the CallInfo: the
// encoded size (rpc.message.uncompressed_size, the size histograms) and,
// on events, the size on the wire after compression
// (rpc.message.compressed_size), on both sides, for every protocol.
func TestWireSizes(t *testing.T) {
	msg := wrapperspb.String(strings.Repeat("compressible ", 100))
	encoded := proto.Size(msg)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tel := newTelemetry(t)
			otel := tel.interceptor(otelrpc.WithMessageEvents(), otelrpc.WithMessageMetrics())
			pr := newPair(t, rpc.WithHandlerInterceptors(otel))
			client := newClient[sv, sv](pr, specUnary, p, rpc.WithClientInterceptors(otel),
				rpc.WithSendCompression("gzip"), rpc.WithCompressMinBytes(100))
			if _, err := client.CallUnary(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			spans := tel.spans()
			for _, kind := range []trace.SpanKind{trace.SpanKindClient, trace.SpanKindServer} {
				s := spanOf(t, spans, methodUnary, kind)
				if len(s.Events) != 2 {
					t.Fatalf("%s: %d events, want 2", kind, len(s.Events))
				}
				for _, ev := range s.Events {
					a := attrsOf(ev.Attributes)
					u, _ := strconv.Atoi(a["rpc.message.uncompressed_size"])
					c, err := strconv.Atoi(a["rpc.message.compressed_size"])
					if u != encoded || err != nil || c <= 0 {
						t.Errorf("%s %s event: sizes %d, %q, want %d and a compressed size", kind, a["rpc.message.type"], u, a["rpc.message.compressed_size"], encoded)
					}
					// The request was sent compressed; the response is too
					// where the server chooses the client's compression.
					if kind == trace.SpanKindClient && a["rpc.message.type"] == "SENT" && c >= u {
						t.Errorf("request: compressed size %d, not below %d", c, u)
					}
				}
			}
			rm := tel.metrics(t)
			for _, name := range []string{"rpc.client.request.size", "rpc.client.response.size", "rpc.server.request.size", "rpc.server.response.size"} {
				points := findMetric(t, rm, name).Data.(metricdata.Histogram[int64]).DataPoints
				if len(points) != 1 || points[0].Count != 1 || points[0].Sum != int64(encoded) {
					t.Errorf("%s: %+v, want one message of %d bytes", name, points, encoded)
				}
			}
		})
	}
}
