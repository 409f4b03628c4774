// Package rpc is the polyconnect runtime: status codes and errors, codecs,
// compression, the Connect, gRPC and gRPC-Web wire protocols, typed clients and
// handlers, interceptors, and the call information of the current call.
//
// A service author needs this package and generated code, nothing else. Handlers
// have plain signatures: a unary method is func(context.Context, *Req) (*Res, error);
// streams are small typed values. Headers, trailers and the peer of a call are
// reached through the context with [HandlerCallInfo]. On the client side,
// [NewClientContext] attaches a [CallInfo] whose request headers are sent and
// whose response headers and trailers are filled in when the call completes;
// [ClientCallInfo] finds it.
//
// Interceptors come in two kinds, [ClientInterceptor] and
// [HandlerInterceptor], added with [WithClientInterceptors] and
// [WithHandlerInterceptors]. Each wraps whole calls and is given the
// procedure's [Spec] once, when the client or handler is made. A handler runs
// every call through its interceptors' call chain before it reads the
// request, so a check that refuses a call there is seen, with its code, by
// the interceptors before it (logging, tracing, metrics, recovery).
//
// One [Handler] answers all three protocols, telling them apart by Content-Type;
// a [Client] speaks Connect by default and gRPC or gRPC-Web with [WithProtocol].
package rpc
