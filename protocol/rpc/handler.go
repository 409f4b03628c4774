package rpc

import (
	"context"
	"errors"
	"iter"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

type handlerConfig struct {
	codecs                codecSet
	compressions          []compressionEdit
	compressMin           int
	readMax               int64
	sendMax               int64
	interceptors          []HandlerInterceptor
	requireConnectVersion bool
}

// Handler serves one procedure over Connect, gRPC and gRPC-Web, telling the
// protocols apart by method and Content-Type. It is safe for concurrent use.
type Handler struct {
	spec         Spec
	codecs       codecSet
	compressions *compressionSet
	compressMin  int
	readMax      int64
	sendMax      int64
	requireVer   bool
	// call runs the call on an established connection: the interceptors'
	// call chain around the method.
	call HandlerCallFunc
	// allowGet is true for unary methods without side effects.
	allowGet bool
}

// protocolHandler is the server side of one wire protocol.
type protocolHandler interface {
	// handles reports whether the request's method and Content-Type belong
	// to this protocol.
	handles(r *http.Request) bool
	// newConn validates the request. On failure it writes the error response
	// itself and returns nil.
	newConn(h *Handler, w http.ResponseWriter, r *http.Request) (handlerConn, time.Duration)
}

// handlerConn is a protocol's server side of one call.
type handlerConn interface {
	StreamingHandlerConn
	// bindContext returns the call's context, parent (the request's, with
	// the call's timeout) with the call's CallInfo, and makes it the conn's.
	// It is called once, before the call chain runs.
	bindContext(parent context.Context) context.Context
	// finish ends the response: with the error if err is non-nil, else with
	// success and the trailers.
	finish(err error)
	// abandon stops whatever writes the response in the background, for a
	// method that panicked, before the panic reaches the server.
	abandon()
}

// newHandler builds the protocol-independent part of a handler and returns
// the interceptors the options named, for the kind-specific constructor.
func newHandler(spec Spec, opts []HandlerOption) (*Handler, []HandlerInterceptor) {
	cfg := handlerConfig{codecs: newCodecSet(), readMax: DefaultReadMaxBytes, compressMin: DefaultHandlerCompressMinBytes}
	for _, o := range opts {
		o.applyHandler(&cfg)
	}
	if cfg.readMax < 0 {
		cfg.readMax = 0
	}
	h := &Handler{
		spec:         spec,
		codecs:       cfg.codecs,
		compressions: newCompressionSet(cfg.compressions),
		compressMin:  cfg.compressMin,
		readMax:      cfg.readMax,
		sendMax:      cfg.sendMax,
		requireVer:   cfg.requireConnectVersion,
		allowGet:     spec.StreamType == StreamTypeUnary && spec.IdempotencyLevel == IdempotencyNoSideEffects,
	}
	return h, cfg.interceptors
}

// handlerProtocols are the protocols every handler answers, tried in order.
var handlerProtocols = [...]protocolHandler{connectHandlerProtocol{}, grpcHandlerProtocol{}, grpcHandlerProtocol{web: true}}

// errNilResponse is a handler's answer when its method returns neither a
// response nor an error.
func errNilResponse() error {
	return errorf(CodeInternal, "handler returned a nil response and a nil error")
}

// NewUnaryHandler returns a handler for a unary method.
func NewUnaryHandler[Req, Res any](spec Spec, fn func(context.Context, *Req) (*Res, error), opts ...HandlerOption) *Handler {
	spec.StreamType = StreamTypeUnary
	h, interceptors := newHandler(spec, opts)
	if len(interceptors) == 0 {
		h.call = func(ctx context.Context, conn StreamingHandlerConn) error {
			req := new(Req)
			if err := conn.Receive(req); err != nil {
				return err
			}
			res, err := fn(ctx, req)
			if err != nil {
				return err
			}
			if res == nil {
				return errNilResponse()
			}
			return conn.Send(res)
		}
		return h
	}
	unary := chainHandlerUnary(spec, func(ctx context.Context, req any) (any, error) {
		typed, ok := req.(*Req)
		if !ok {
			return nil, errorf(CodeInternal, "interceptor passed a request of the wrong type")
		}
		res, err := fn(ctx, typed)
		if err != nil {
			return nil, err
		}
		if res == nil {
			return nil, errNilResponse()
		}
		return res, nil
	}, interceptors)
	h.call = chainHandlerCall(spec, func(ctx context.Context, conn StreamingHandlerConn) error {
		req := new(Req)
		if err := conn.Receive(req); err != nil {
			return err
		}
		res, err := unary(ctx, req)
		if err != nil {
			return err
		}
		if _, ok := res.(*Res); !ok {
			return errorf(CodeInternal, "interceptor returned a response of the wrong type")
		}
		return conn.Send(res)
	}, interceptors)
	return h
}

// NewServerStreamHandler returns a handler for a server-streaming method.
func NewServerStreamHandler[Req, Res any](spec Spec, fn func(context.Context, *Req, *ServerStream[Res]) error, opts ...HandlerOption) *Handler {
	spec.StreamType = StreamTypeServer
	h, interceptors := newHandler(spec, opts)
	h.call = chainHandlerCall(spec, func(ctx context.Context, conn StreamingHandlerConn) error {
		req := new(Req)
		if err := conn.Receive(req); err != nil {
			return err
		}
		return fn(ctx, req, &ServerStream[Res]{conn: conn})
	}, interceptors)
	return h
}

// NewClientStreamHandler returns a handler for a client-streaming method.
func NewClientStreamHandler[Req, Res any](spec Spec, fn func(context.Context, *ClientStream[Req]) (*Res, error), opts ...HandlerOption) *Handler {
	spec.StreamType = StreamTypeClient
	h, interceptors := newHandler(spec, opts)
	h.call = chainHandlerCall(spec, func(ctx context.Context, conn StreamingHandlerConn) error {
		res, err := fn(ctx, &ClientStream[Req]{conn: conn})
		if err != nil {
			return err
		}
		if res == nil {
			return errNilResponse()
		}
		return conn.Send(res)
	}, interceptors)
	return h
}

// NewBidiStreamHandler returns a handler for a bidirectional-streaming method.
func NewBidiStreamHandler[Req, Res any](spec Spec, fn func(context.Context, *BidiStream[Req, Res]) error, opts ...HandlerOption) *Handler {
	spec.StreamType = StreamTypeBidi
	h, interceptors := newHandler(spec, opts)
	h.call = chainHandlerCall(spec, func(ctx context.Context, conn StreamingHandlerConn) error {
		return fn(ctx, &BidiStream[Req, Res]{conn: conn})
	}, interceptors)
	return h
}

// Spec returns the handler's procedure description.
func (h *Handler) Spec() Spec { return h.spec }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		if h.allowGet {
			w.Header()["Allow"] = allowGetPost
		} else {
			w.Header()["Allow"] = allowPost
		}
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var p protocolHandler
	for _, candidate := range handlerProtocols {
		if candidate.handles(r) {
			p = candidate
			break
		}
	}
	if p == nil {
		if r.Method == http.MethodGet {
			w.Header()["Allow"] = allowPost
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h.writeUnsupportedMediaType(w, r.Header.Get("Content-Type"))
		return
	}
	conn, timeout := p.newConn(h, w, r)
	if conn == nil {
		return
	}
	ctx := r.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	ctx = conn.bindContext(ctx)
	returned := false
	defer func() {
		if !returned {
			// The method panicked: the ResponseWriter is the server's again
			// once the panic leaves ServeHTTP, so nothing may write it.
			conn.abandon()
		}
	}()
	err := h.call(ctx, conn)
	returned = true
	if err != nil && ctx.Err() != nil && CodeOf(err) == CodeUnknown {
		err = asError(ctx.Err())
	}
	if err == nil && timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The client has given up: a late success would arrive after its
		// deadline, so report the deadline, as gRPC servers do.
		err = errorf(CodeDeadlineExceeded, "the handler finished after the call's deadline")
	}
	conn.finish(err)
}

var (
	allowPost    = []string{http.MethodPost}
	allowGetPost = []string{http.MethodGet + ", " + http.MethodPost}
)

func (h *Handler) acceptPost() []string {
	var types []string
	for _, name := range slices.Sorted(maps.Keys(h.codecs.byName)) {
		if h.spec.StreamType == StreamTypeUnary {
			types = append(types, "application/"+name)
		} else {
			types = append(types, "application/connect+"+name)
		}
		types = append(types, "application/grpc+"+name, "application/grpc-web+"+name)
	}
	return []string{strings.Join(types, ", ")}
}

// NotFound answers a request for a procedure that does not exist: for
// Connect and plain HTTP, 404 with a Connect error body (code
// "unimplemented", a message naming the path); for gRPC and gRPC-Web, a
// gRPC status UNIMPLEMENTED. Generated service handlers call it for unknown
// methods; mount it at "/" on a mux
// (mux.Handle("/", http.HandlerFunc(rpc.NotFound))) so that unknown services
// get the same answer rather than the mux's text/plain 404.
func NotFound(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/grpc") {
		grpcWriteUnimplemented(w, r, ct)
		return
	}
	writeUnknownProcedure(w, r)
}

// ServerStream is the handler side of a server-streaming call: the handler
// sends responses. It is not safe for concurrent use: one goroutine sends.
// Send marshals the message before it returns, so the message may be reused.
type ServerStream[Res any] struct{ conn StreamingHandlerConn }

// Send sends a response message.
func (s *ServerStream[Res]) Send(msg *Res) error { return s.conn.Send(msg) }

// Conn returns the untyped connection, as interceptors see it.
func (s *ServerStream[Res]) Conn() StreamingHandlerConn { return s.conn }

// ClientStream is the handler side of a client-streaming call: the handler
// receives requests. It is not safe for concurrent use: one goroutine
// receives.
type ClientStream[Req any] struct{ conn StreamingHandlerConn }

// Receive returns the next request, or io.EOF when the client is done.
func (s *ClientStream[Req]) Receive() (*Req, error) {
	msg := new(Req)
	if err := s.conn.Receive(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// All iterates over the requests until the client is done (no error) or
// receiving fails (a final non-nil error).
func (s *ClientStream[Req]) All() iter.Seq2[*Req, error] { return receiveAll[Req](s.conn.Receive) }

// Conn returns the untyped connection, as interceptors see it.
func (s *ClientStream[Req]) Conn() StreamingHandlerConn { return s.conn }

// BidiStream is the handler side of a bidirectional call. Receive (or All)
// and Send may be used from two goroutines, one each; the CallInfo on the
// handler's context may be used from both (see CallInfo). Send marshals the
// message before it returns, so the message may be reused.
type BidiStream[Req, Res any] struct{ conn StreamingHandlerConn }

// Receive returns the next request, or io.EOF when the client is done.
func (s *BidiStream[Req, Res]) Receive() (*Req, error) {
	msg := new(Req)
	if err := s.conn.Receive(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// All iterates over the requests, as ClientStream.All does.
func (s *BidiStream[Req, Res]) All() iter.Seq2[*Req, error] { return receiveAll[Req](s.conn.Receive) }

// Send sends a response message.
func (s *BidiStream[Req, Res]) Send(msg *Res) error { return s.conn.Send(msg) }

// Conn returns the untyped connection, as interceptors see it.
func (s *BidiStream[Req, Res]) Conn() StreamingHandlerConn { return s.conn }
