// Package otelrpc adds OpenTelemetry tracing and metrics to polyconnect
// clients and handlers. It follows the OpenTelemetry semantic conventions
// for RPC of go.opentelemetry.io/otel/semconv/v1.43.0. The package is named
// otelrpc; it is the module polyconnect.dev/otel, so import it as
//
//	import otelrpc "polyconnect.dev/otel"
//
// One option does it, on a client or a handler:
//
//	client := greetv1rpc.NewGreetServiceClient(httpClient, url, otelrpc.Telemetry())
//	path, handler := greetv1rpc.NewGreetServiceHandler(svc, otelrpc.Telemetry())
//
// Each call gets a span named after its method ("greet.v1.GreetService/Greet"),
// of kind CLIENT or SERVER, with rpc.system.name ("connectrpc" for the
// Connect protocol, "grpc" for gRPC and gRPC-Web), rpc.method,
// rpc.response.status_code, error.type when the call failed, server.address
// and server.port (the base URL's host on clients, the request's authority on
// handlers) and network.peer.address and network.peer.port on handlers. The trace context and baggage travel in the request headers,
// on all three protocols. The histograms rpc.client.call.duration and
// rpc.server.call.duration (seconds) carry the low-cardinality attributes
// only: no peer address.
//
// On a handler the interceptor runs in the call chain, before the request is
// read, so a call that an interceptor placed after it refuses there
// (authentication, a rate limit) is traced and measured with the refusal's
// code.
//
// Span status: a client span is an error for every code; a handler span
// only for UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE
// and DATA_LOSS, the codes that mean the server failed (a NOT_FOUND, say, is
// recorded in rpc.response.status_code but leaves the status unset).
//
// Providers and the propagator default to OpenTelemetry's globals; options
// set them per interceptor. Further options record chosen request and
// response headers (WithRequestMetadata, WithResponseMetadata), message
// events and message metrics, skip procedures (WithoutProcedures, WithFilter)
// and stop handlers from trusting callers' trace context
// (WithPublicEndpoint). For clients that retry, Interceptor.Attempts adds a
// span per attempt under the call's span.
package otelrpc
