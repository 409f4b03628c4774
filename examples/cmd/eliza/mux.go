package main

import (
	"net/http"

	"polyconnect.dev/examples/eliza"
	"polyconnect.dev/examples/gen/connectrpc/eliza/v1/elizav1rpc"
	"polyconnect.dev/health"
	"polyconnect.dev/protocol/cors"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/reflection"
)

// elizaService is the service every mode serves and calls.
const elizaService = elizav1rpc.ElizaServiceName

// newMux returns the services every mode serves. It is the one place where
// handlers are mounted: a service added here is served by the demo, by
// -serve on every transport, and through CORS to browsers.
//
// Beside Eliza it serves the standard health service (grpc.health.v1, for
// load balancers and probes) and server reflection (v1 and v1alpha, so
// grpcurl and buf curl need no .proto files).
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(elizav1rpc.NewElizaServiceHandler(eliza.NewService()))

	checker := health.NewChecker() // the whole server ("") is SERVING
	checker.SetStatus(elizaService, health.StatusServing)
	mux.Handle(health.NewHandler(checker))

	reflector := reflection.NewReflector(
		[]string{elizaService, health.ServiceName, reflection.ServiceNameV1},
		reflection.WithFiles(health.FileDescriptor()), // health keeps its descriptor out of the global registry
	)
	mux.Handle(reflection.NewHandlerV1(reflector))
	mux.Handle(reflection.NewHandlerV1Alpha(reflector))
	// Anything else, an unknown service included, gets an error that names
	// the path: a Connect error body, or grpc-status 12 for gRPC.
	mux.Handle("/", http.HandlerFunc(rpc.NotFound))
	return mux
}

// newHandler is newMux behind the server-wide middleware: the HTTP version
// header the table shows, and CORS for browsers when policy is non-nil.
func newHandler(policy *cors.Policy) http.Handler {
	var h http.Handler = withHTTPVersion(newMux())
	if policy != nil {
		h = policy.Handler(h)
	}
	return h
}

// httpVersionHeader reports the HTTP version a request arrived with, so a
// client can show what the transport negotiated.
const httpVersionHeader = "Eliza-Http-Version"

func withHTTPVersion(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(httpVersionHeader, r.Proto)
		h.ServeHTTP(w, r)
	})
}
