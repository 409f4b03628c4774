// Package interceptors is the home of polyconnect's ready-made interceptors;
// it holds no code itself. Each concern is a package of its own, and each is
// one entry in rpc.WithHandlerInterceptors or rpc.WithClientInterceptors,
// for unary calls and every kind of stream, over Connect, gRPC and gRPC-Web:
//
//   - [polyconnect.dev/interceptors/logging]: one log/slog record per call.
//   - [polyconnect.dev/interceptors/recovery]: a panicking handler answers
//     INTERNAL and the server goes on.
//   - [polyconnect.dev/interceptors/retry]: client retries of what is safe
//     to repeat, with backoff, a budget and optional hedging.
//   - [polyconnect.dev/interceptors/auth]: credentials checked on handlers,
//     sent from clients.
//   - [polyconnect.dev/interceptors/timeout]: default and maximum deadlines.
//   - [polyconnect.dev/interceptors/ratelimit]: RESOURCE_EXHAUSTED beyond a
//     rate, per procedure or per peer.
//   - [polyconnect.dev/interceptors/realip]: the client's address behind
//     trusted proxies.
//   - [polyconnect.dev/interceptors/selector]: any interceptor for some
//     procedures only.
//
// Validation with protovalidate is the module
// polyconnect.dev/interceptors/validate, kept apart because of its
// dependencies. Tracing and metrics are polyconnect.dev/otel.
//
// Interceptors run in the order given: the first wraps all the others. On a
// handler, put recovery first, so that it covers the interceptors after it,
// and logging next, so that it records what the others decide: handler
// interceptors run before the request is read, so a call that auth or a rate
// limit refuses is logged, with its code. On a client, put retry before the
// interceptors that must run on every attempt.
package interceptors
