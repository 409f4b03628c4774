package rpc

import "context"

// UnaryFunc is one step of a unary call: on a client it sends req and
// returns the response; on a handler it runs the method. req and the result
// are the typed messages (*Req and *Res) as any. The call's CallInfo is in ctx.
//
// Deprecated: use ClientUnaryFunc or HandlerUnaryFunc.
type UnaryFunc func(ctx context.Context, req any) (any, error)

// StreamingClientFunc opens the client side of a streaming call.
//
// Deprecated: use ClientStreamFunc.
type StreamingClientFunc func(ctx context.Context, spec Spec) StreamingClientConn

// StreamingHandlerFunc runs the handler side of a streaming call.
//
// Deprecated: use HandlerCallFunc.
type StreamingHandlerFunc func(ctx context.Context, conn StreamingHandlerConn) error

// Interceptor wraps calls on clients and handlers. WrapUnary wraps unary
// calls on both sides; WrapStreamingClient and WrapStreamingHandler wrap the
// streaming ones. An interceptor that has nothing to do for a kind returns
// next unchanged.
//
// Deprecated: use ClientInterceptor and HandlerInterceptor.
type Interceptor interface {
	WrapUnary(next UnaryFunc) UnaryFunc
	WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc
	WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc
}

// HandlerGate is implemented by handler interceptors that decide on a call
// from what arrives before its first request message: the procedure, the
// request headers and the peer (its TLS state included). A handler calls the
// Gate of each of its interceptors that has one, in the order they were
// given, before it reads any request message and before its interceptor chain
// runs. The context a Gate returns replaces the call's (to carry an identity,
// say); an error ends the call at once with that error: the request is never
// read or decoded, and no interceptor's Wrap function sees the call. Clients
// never call Gate. An interceptor that wraps another should implement
// HandlerGate by calling the inner one's, or the inner check runs only later,
// in its Wrap functions.
//
// Deprecated: refuse calls in HandlerInterceptor.WrapHandlerCall.
type HandlerGate interface {
	Gate(ctx context.Context) (context.Context, error)
}

// UnaryInterceptorFunc is an Interceptor for unary calls only.
//
// Deprecated: use ClientUnaryInterceptorFunc or HandlerUnaryInterceptorFunc.
type UnaryInterceptorFunc func(next UnaryFunc) UnaryFunc

// WrapUnary implements Interceptor.
func (f UnaryInterceptorFunc) WrapUnary(next UnaryFunc) UnaryFunc { return f(next) }

// WrapStreamingClient implements Interceptor by returning next.
func (f UnaryInterceptorFunc) WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements Interceptor by returning next.
func (f UnaryInterceptorFunc) WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc {
	return next
}

// legacyClient runs an Interceptor in a client's chains.
type legacyClient struct{ i Interceptor }

func (l legacyClient) WrapClientUnary(_ Spec, next ClientUnaryFunc) ClientUnaryFunc {
	return ClientUnaryFunc(l.i.WrapUnary(UnaryFunc(next)))
}

func (l legacyClient) WrapClientStream(spec Spec, next ClientStreamFunc) ClientStreamFunc {
	wrapped := l.i.WrapStreamingClient(func(ctx context.Context, spec Spec) StreamingClientConn {
		conn, err := next(ctx)
		if err != nil {
			return &failedClientConn{spec: spec, err: err}
		}
		return conn
	})
	return func(ctx context.Context) (StreamingClientConn, error) { return wrapped(ctx, spec), nil }
}

// legacyHandler runs an Interceptor in a handler's chains.
type legacyHandler struct{ i Interceptor }

func (l legacyHandler) WrapHandlerCall(spec Spec, next HandlerCallFunc) HandlerCallFunc {
	if spec.StreamType == StreamTypeUnary {
		return next
	}
	return HandlerCallFunc(l.i.WrapStreamingHandler(StreamingHandlerFunc(next)))
}

func (l legacyHandler) WrapHandlerUnary(_ Spec, next HandlerUnaryFunc) HandlerUnaryFunc {
	return HandlerUnaryFunc(l.i.WrapUnary(UnaryFunc(next)))
}

// gates runs the HandlerGates of a handler's Interceptors, in order, before
// its other interceptors.
type gates []HandlerGate

func (g gates) WrapHandlerCall(_ Spec, next HandlerCallFunc) HandlerCallFunc {
	return func(ctx context.Context, conn StreamingHandlerConn) error {
		for _, gate := range g {
			gated, err := gate.Gate(ctx)
			if err != nil {
				return err
			}
			if gated != nil {
				ctx = gated
			}
		}
		return next(ctx, conn)
	}
}

func (g gates) WrapHandlerUnary(_ Spec, next HandlerUnaryFunc) HandlerUnaryFunc { return next }

// WithInterceptors adds interceptors. The first one given is the outermost:
// it sees the call first and the result last.
//
// Deprecated: use WithClientInterceptors and WithHandlerInterceptors.
func WithInterceptors(interceptors ...Interceptor) Option {
	return optionFunc{
		client: func(cfg *clientConfig) {
			for _, i := range interceptors {
				cfg.interceptors = append(cfg.interceptors, ClientInterceptor(legacyClient{i}))
			}
		},
		handler: func(cfg *handlerConfig) {
			for _, i := range interceptors {
				cfg.interceptors = append(cfg.interceptors, legacyHandler{i})
				if g, ok := i.(HandlerGate); ok {
					cfg.gates = append(cfg.gates, g)
				}
			}
		},
	}
}

// CallInfoFromContext returns the CallInfo of the current call: the
// outgoing call's, if ctx has one, else the call being handled.
//
// Deprecated: use HandlerCallInfo or ClientCallInfo.
func CallInfoFromContext(ctx context.Context) (*CallInfo, bool) {
	if ci, ok := ClientCallInfo(ctx); ok {
		return ci, true
	}
	return HandlerCallInfo(ctx)
}

// NewCallContext returns a context carrying a fresh client-side CallInfo.
//
// Deprecated: use NewClientContext.
func NewCallContext(ctx context.Context) (context.Context, *CallInfo) { return NewClientContext(ctx) }

// IsClient reports whether this is the client side of a call.
//
// Deprecated: the accessor that found the CallInfo tells the side.
func (c *CallInfo) IsClient() bool { return c.client }
