package interop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/otel"
	"polyconnect.dev/transcode"

	lib "polyconnect.dev/interop/internal/gen/transcodetest/v1"
	"polyconnect.dev/interop/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

// TestTranscodedCallsAreTraced puts otelrpc on the RPC handler behind the
// transcoder: a REST call gets the server span of its method, a child of the
// caller's span (the traceparent header goes through the transcoder), and one
// that fails with INTERNAL an error status.
func TestTranscodedCallsAreTraced(t *testing.T) {
	sdk := newOtelSDK(t)
	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(pcLibrary{},
		otelrpc.Telemetry(otelrpc.WithTracerProvider(sdk.tp), otelrpc.WithPropagators(w3cPropagator))))
	sd := lib.File_transcodetest_v1_library_proto.Services().ByName("LibraryService")
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{sd})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)

	ctx, parent := sdk.tp.Tracer("test").Start(context.Background(), "caller")
	for _, c := range []struct{ method, target, body string }{
		{"GET", "/v1/shelves/s/books/b", ""},
		{"POST", "/v1/echo", `{"failCode":13}`}, // INTERNAL: an error on a server span
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		w3cPropagator.Inject(ctx, propagation.HeaderCarrier(r.Header))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
	}
	parent.End()
	var spans []string
	for _, s := range sdk.exporter.GetSpans() {
		if s.InstrumentationScope.Name != otelrpc.ScopeName {
			continue
		}
		spans = append(spans, s.Name)
		if s.SpanKind != trace.SpanKindServer || !strings.HasPrefix(s.Name, "polyconnect.transcodetest.v1.LibraryService/") {
			t.Errorf("span %q of kind %s", s.Name, s.SpanKind)
		}
		if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanContext.TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %q is not a child of the caller's span", s.Name)
		}
	}
	if len(spans) != 2 {
		t.Fatalf("%d server spans, want 2: %v", len(spans), spans)
	}
	stubs := sdk.exporter.GetSpans()
	var failed int
	for _, s := range stubs {
		if s.InstrumentationScope.Name == otelrpc.ScopeName && s.Status.Code.String() == "Error" {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d spans with an error status, want 1 (the INTERNAL call)", failed)
	}
}
