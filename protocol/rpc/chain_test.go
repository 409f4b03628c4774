package rpc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// chainLog collects what the interceptors of one test saw, in order.
type chainLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *chainLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

// take returns the lines collected so far and starts a new list.
func (l *chainLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	l.lines = nil
	return lines
}

// tracer is a client and handler interceptor that logs, under its name,
// when each of its Wrap methods is called (with the Spec it was given) and
// each step of the calls it sees. It checks that the call info of its side
// is in the context.
type tracer struct {
	name string
	log  *chainLog
}

func (tr tracer) WrapClientUnary(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	tr.log.add(tr.name + " wrap client unary " + spec.Procedure)
	return func(ctx context.Context, req any) (any, error) {
		if _, ok := rpc.ClientCallInfo(ctx); !ok {
			return nil, errors.New(tr.name + ": no client call info")
		}
		tr.log.add(tr.name + " > unary")
		res, err := next(ctx, req)
		tr.log.add(tr.name + " < unary " + codeName(err))
		return res, err
	}
}

func (tr tracer) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	tr.log.add(tr.name + " wrap client stream " + spec.Procedure)
	return func(ctx context.Context) (rpc.StreamingClientConn, error) {
		if _, ok := rpc.ClientCallInfo(ctx); !ok {
			return nil, errors.New(tr.name + ": no client call info")
		}
		tr.log.add(tr.name + " > open")
		conn, err := next(ctx)
		tr.log.add(tr.name + " < open " + codeName(err))
		return conn, err
	}
}

func (tr tracer) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	tr.log.add(tr.name + " wrap handler call " + spec.Procedure + " " + spec.StreamType.String())
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		if _, ok := rpc.HandlerCallInfo(ctx); !ok {
			return errors.New(tr.name + ": no handler call info")
		}
		tr.log.add(tr.name + " > call")
		err := next(ctx, conn)
		tr.log.add(tr.name + " < call " + codeName(err))
		return err
	}
}

func (tr tracer) WrapHandlerUnary(spec rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	tr.log.add(tr.name + " wrap handler unary " + spec.Procedure)
	return func(ctx context.Context, req any) (any, error) {
		if _, ok := rpc.HandlerCallInfo(ctx); !ok {
			return nil, errors.New(tr.name + ": no handler call info")
		}
		tr.log.add(tr.name + " > unary " + req.(*sv).Value)
		res, err := next(ctx, req)
		tr.log.add(tr.name + " < unary " + codeName(err))
		return res, err
	}
}

// codeName is "ok" for nil, else the error's code.
func codeName(err error) string {
	if err == nil {
		return "ok"
	}
	return rpc.CodeOf(err).String()
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n\t%s\nwant:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// Chains are built once, when the client or handler is made, with the
// procedure's Spec; calls then run them with the first interceptor given
// outermost. On a handler, a unary call runs the call chain (before the
// request is decoded), then the unary chain.
func TestChainOrderAndSpecAtWrapTime(t *testing.T) {
	log := &chainLog{}
	a, b := tracer{"a", log}, tracer{"b", log}

	mux := echoMux(rpc.WithHandlerInterceptors(a), rpc.WithHandlerInterceptors(b))
	// echoMux makes five handlers: each wraps both chains (the unary chain
	// of a streaming handler is never used, and so never built).
	wantLines(t, "handler wrap", log.take(),
		"b wrap handler unary /test.v1.Echo/Unary", "a wrap handler unary /test.v1.Echo/Unary",
		"b wrap handler call /test.v1.Echo/Unary unary", "a wrap handler call /test.v1.Echo/Unary unary",
		"b wrap handler unary /test.v1.Echo/Get", "a wrap handler unary /test.v1.Echo/Get",
		"b wrap handler call /test.v1.Echo/Get unary", "a wrap handler call /test.v1.Echo/Get unary",
		"b wrap handler call /test.v1.Echo/Server server_stream", "a wrap handler call /test.v1.Echo/Server server_stream",
		"b wrap handler call /test.v1.Echo/Client client_stream", "a wrap handler call /test.v1.Echo/Client client_stream",
		"b wrap handler call /test.v1.Echo/Bidi bidi_stream", "a wrap handler call /test.v1.Echo/Bidi bidi_stream",
	)
	srv, h2 := newH2CServer(t, mux)

	unary := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithClientInterceptors(a, b))
	bidi := rpc.NewClient[sv, sv](h2, srv.URL, specBidi, rpc.WithClientInterceptors(a, b))
	wantLines(t, "client wrap", log.take(),
		"b wrap client unary /test.v1.Echo/Unary", "a wrap client unary /test.v1.Echo/Unary",
		"b wrap client stream /test.v1.Echo/Unary", "a wrap client stream /test.v1.Echo/Unary",
		"b wrap client unary /test.v1.Echo/Bidi", "a wrap client unary /test.v1.Echo/Bidi",
		"b wrap client stream /test.v1.Echo/Bidi", "a wrap client stream /test.v1.Echo/Bidi",
	)

	ctx := context.Background()
	for range 2 { // no wrapping on the second call either
		if res, err := unary.CallUnary(ctx, wrapperspb.String("x")); err != nil || res.Value != "x" {
			t.Fatal(res, err)
		}
		// The server's lines are in before the response is written, so
		// before the client's last ones.
		wantLines(t, "unary call", log.take(),
			"a > unary", "b > unary",
			"a > call", "b > call", "a > unary x", "b > unary x", "b < unary ok", "a < unary ok", "b < call ok", "a < call ok",
			"b < unary ok", "a < unary ok",
		)
	}
	if _, err := unary.CallUnary(ctx, wrapperspb.String("fail")); rpc.CodeOf(err) != rpc.CodeFailedPrecondition {
		t.Fatal(err)
	}
	wantLines(t, "failing unary call", log.take(),
		"a > unary", "b > unary",
		"a > call", "b > call", "a > unary fail", "b > unary fail",
		"b < unary failed_precondition", "a < unary failed_precondition", "b < call failed_precondition", "a < call failed_precondition",
		"b < unary failed_precondition", "a < unary failed_precondition",
	)

	call, err := bidi.CallBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stream := call.Conn()
	wantLines(t, "stream open", log.take(), "a > open", "b > open", "b < open ok", "a < open ok")
	if err := stream.Send(wrapperspb.String("y")); err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseRequest(); err != nil {
		t.Fatal(err)
	}
	for {
		if err := stream.Receive(new(sv)); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	_ = stream.CloseResponse()
	wantLines(t, "stream call", log.take(), "a > call", "b > call", "b < call ok", "a < call ok")
}

// An interceptor that refuses a call in the call phase does so before the
// request is read: a body that would not decode gets the refusal's code,
// the method and the unary chain never run, and the interceptors before it
// see the call end with that code.
func TestCallPhaseRefusalSeenByOuterInterceptors(t *testing.T) {
	log := &chainLog{}
	outer, inner := tracer{"outer", log}, tracer{"inner", log}
	refuse := rpc.HandlerCallInterceptorFunc(func(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			if conn.RequestHeader().Get("X-Token") != "ok" {
				log.add("refused")
				return rpc.NewError(rpc.CodeUnauthenticated, "no token")
			}
			return next(ctx, conn)
		}
	})
	var ran sync.Map
	mux := http.NewServeMux()
	opts := rpc.WithHandlerInterceptors(outer, refuse, inner)
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		ran.Store("unary", true)
		return req, nil
	}, opts))
	mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		ran.Store("stream", true)
		return wrapperspb.String("done"), nil
	}, opts))
	log.take()
	srv, h2 := newH2CServer(t, mux)

	// Garbage that would fail to decode with INVALID_ARGUMENT.
	status, _, body := rawCall(t, srv.Client(), http.MethodPost, srv.URL+specUnary.Procedure,
		map[string]string{"Content-Type": "application/proto"}, []byte{0xff, 0xff, 0xff})
	if code, _ := unaryCode(t, body); status != http.StatusUnauthorized || code != "unauthenticated" {
		t.Errorf("refused unary call: HTTP %d %s", status, body)
	}
	wantLines(t, "refused unary call", log.take(), "outer > call", "refused", "outer < call unauthenticated")

	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		call, err := rpc.NewClient[sv, sv](h2, srv.URL, specClient, rpc.WithProtocol(p)).CallClientStream(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		stream := call.Conn()
		_ = stream.Send(wrapperspb.String("x"))
		_ = stream.CloseRequest()
		if err := stream.Receive(new(sv)); rpc.CodeOf(err) != rpc.CodeUnauthenticated {
			t.Errorf("%v: refused stream: %v", p, err)
		}
		_ = stream.CloseResponse()
		wantLines(t, p.String()+" refused stream", log.take(), "outer > call", "refused", "outer < call unauthenticated")
	}
	if _, ok := ran.Load("unary"); ok {
		t.Error("the unary method ran for a refused call")
	}
	if _, ok := ran.Load("stream"); ok {
		t.Error("the streaming method ran for a refused call")
	}

	// Admitted: everything runs.
	ctx, info := rpc.NewClientContext(context.Background())
	info.RequestHeader().Set("X-Token", "ok")
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary).CallUnary(ctx, wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "admitted call", log.take(),
		"outer > call", "inner > call", "outer > unary x", "inner > unary x", "inner < unary ok", "outer < unary ok", "inner < call ok", "outer < call ok")
}

// A context the call phase passes on reaches the method.
func TestCallPhaseContextReachesMethod(t *testing.T) {
	type key struct{}
	tag := rpc.HandlerCallInterceptorFunc(func(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			return next(context.WithValue(ctx, key{}, "tagged"), conn)
		}
	})
	h := rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		v, _ := ctx.Value(key{}).(string)
		return wrapperspb.String(v), nil
	}, rpc.WithHandlerInterceptors(tag))
	srv, h2 := newH2CServer(t, h)
	res, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary).CallUnary(context.Background(), wrapperspb.String("x"))
	if err != nil || res.Value != "tagged" {
		t.Fatal(res, err)
	}
}

// A client interceptor refuses a stream by returning an error from its
// ClientStreamFunc: opening the stream returns that error (no stream), and
// nothing reaches the server. An interceptor returning neither a stream nor
// an error is a bug that surfaces as INTERNAL, never as a nil stream.
func TestClientStreamOpenError(t *testing.T) {
	var reached sync.Map
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(r.URL.Path, true)
		http.NotFound(w, r)
	}))
	srv, h2 := newH2CServer(t, mux)
	refuse := rpc.ClientStreamInterceptorFunc(func(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
		return func(ctx context.Context) (rpc.StreamingClientConn, error) {
			return nil, rpc.NewError(rpc.CodePermissionDenied, "not this one: "+spec.Procedure)
		}
	})
	ctx := context.Background()
	opt := rpc.WithClientInterceptors(refuse)
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specServer, opt).CallServerStream(ctx, wrapperspb.String("x")); rpc.CodeOf(err) != rpc.CodePermissionDenied {
		t.Errorf("server stream: %v", err)
	}
	if s, err := rpc.NewClient[sv, sv](h2, srv.URL, specClient, opt).CallClientStream(ctx); s != nil || rpc.CodeOf(err) != rpc.CodePermissionDenied {
		t.Errorf("client stream: %v %v", s, err)
	}
	if s, err := rpc.NewClient[sv, sv](h2, srv.URL, specBidi, opt).CallBidiStream(ctx); s != nil || rpc.CodeOf(err) != rpc.CodePermissionDenied || !strings.Contains(err.Error(), specBidi.Procedure) {
		t.Errorf("bidi stream: %v %v", s, err)
	}
	reached.Range(func(k, _ any) bool {
		t.Errorf("a refused stream reached the server: %v", k)
		return true
	})

	// A context that is already done fails the opening, with or without
	// interceptors.
	done, cancel := context.WithCancel(ctx)
	cancel()
	for _, opts := range [][]rpc.ClientOption{nil, {rpc.WithClientInterceptors(tracer{"t", &chainLog{}})}} {
		if s, err := rpc.NewClient[sv, sv](h2, srv.URL, specBidi, opts...).CallBidiStream(done); s != nil || rpc.CodeOf(err) != rpc.CodeCanceled {
			t.Errorf("bidi stream on a canceled context: %v %v", s, err)
		}
		if s, err := rpc.NewClient[sv, sv](h2, srv.URL, specClient, opts...).CallClientStream(done); s != nil || rpc.CodeOf(err) != rpc.CodeCanceled {
			t.Errorf("client stream on a canceled context: %v %v", s, err)
		}
		if s, err := rpc.NewClient[sv, sv](h2, srv.URL, specServer, opts...).CallServerStream(done, wrapperspb.String("x")); s != nil || rpc.CodeOf(err) != rpc.CodeCanceled {
			t.Errorf("server stream on a canceled context: %v %v", s, err)
		}
	}
	reached.Range(func(k, _ any) bool {
		t.Errorf("a stream on a canceled context reached the server: %v", k)
		return true
	})

	broken := rpc.ClientStreamInterceptorFunc(func(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
		return func(ctx context.Context) (rpc.StreamingClientConn, error) { return nil, nil }
	})
	if _, err := rpc.NewClient[sv, sv](h2, srv.URL, specBidi, rpc.WithClientInterceptors(broken)).CallBidiStream(ctx); rpc.CodeOf(err) != rpc.CodeInternal {
		t.Errorf("nil stream and nil error: %v", err)
	}
}

// An interceptor returning a bare context error ends the call with the
// matching code, as an *rpc.Error.
func TestClientChainContextError(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	canceled := rpc.ClientUnaryInterceptorFunc(func(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) { return nil, context.Canceled }
	})
	expired := rpc.ClientStreamInterceptorFunc(func(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
		return func(ctx context.Context) (rpc.StreamingClientConn, error) { return nil, context.DeadlineExceeded }
	})
	_, err := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithClientInterceptors(canceled)).CallUnary(context.Background(), wrapperspb.String("x"))
	var rerr *rpc.Error
	if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeCanceled || !errors.Is(err, context.Canceled) {
		t.Errorf("unary: %#v", err)
	}
	_, err = rpc.NewClient[sv, sv](h2, srv.URL, specBidi, rpc.WithClientInterceptors(expired)).CallBidiStream(context.Background())
	if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeDeadlineExceeded {
		t.Errorf("stream: %#v", err)
	}
}

// The two sides' call infos live under separate keys: a handler that calls
// another service with its own context makes the outgoing call with a call
// info of its own, which fills in none of the served call's headers, and a
// client context made inside a handler does not hide the handler's.
func TestCallInfoSidesDoNotShadow(t *testing.T) {
	backend, h2 := newH2CServer(t, echoMux())
	downstream := rpc.NewClient[sv, sv](h2, backend.URL, specUnary, rpc.WithClientInterceptors(
		rpc.ClientUnaryInterceptorFunc(func(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
			return func(ctx context.Context, req any) (any, error) {
				client, _ := rpc.ClientCallInfo(ctx)
				server, ok := rpc.HandlerCallInfo(ctx)
				if !ok || client == server {
					return nil, errors.New("the outgoing call's info is the served call's")
				}
				client.RequestHeader().Set("X-Echo", "downstream")
				return next(ctx, req)
			}
		})))
	var problems []string
	front := rpc.NewUnaryHandler(rpc.Spec{Procedure: "/test.v1.Front/Call"}, func(ctx context.Context, req *sv) (*sv, error) {
		served, _ := rpc.HandlerCallInfo(ctx)
		if _, ok := rpc.ClientCallInfo(ctx); ok {
			problems = append(problems, "the handler's context has a client call info")
		}
		// Through the client's interceptor, with the handler's context.
		if _, err := downstream.CallUnary(ctx, req); err != nil {
			return nil, err
		}
		if got := served.ResponseHeader().Get("X-Echo"); got != "" {
			problems = append(problems, "the outgoing call's response header reached the served call: "+got)
		}
		// With a client context of the handler's own.
		cctx, out := rpc.NewClientContext(ctx)
		out.RequestHeader().Set("X-Echo", "mine")
		if got, ok := rpc.HandlerCallInfo(cctx); !ok || got != served {
			problems = append(problems, "NewClientContext hid the handler's call info")
		}
		if _, err := rpc.NewClient[sv, sv](h2, backend.URL, specUnary).CallUnary(cctx, req); err != nil {
			return nil, err
		}
		if out.ResponseHeader().Get("X-Echo") != "mine" || served.ResponseHeader().Get("X-Echo") != "" {
			problems = append(problems, "the outgoing call's headers went astray")
		}
		served.ResponseHeader().Set("X-Front", "yes")
		return req, nil
	})
	frontSrv, fh2 := newH2CServer(t, front)
	cctx, info := rpc.NewClientContext(context.Background())
	if _, err := rpc.NewClient[sv, sv](fh2, frontSrv.URL, rpc.Spec{Procedure: "/test.v1.Front/Call"}).CallUnary(cctx, wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	if info.ResponseHeader().Get("X-Front") != "yes" || info.ResponseHeader().Get("X-Echo") != "" {
		t.Errorf("caller's response headers: %v", info.ResponseHeader())
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// A handler served in process, with a request context that carries a
// client's call info (an in-process transport passes the caller's context
// on), does not see that call info as its own outgoing call's.
func TestHandlerHidesCallersClientCallInfo(t *testing.T) {
	var leaked bool
	h := rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		_, leaked = rpc.ClientCallInfo(ctx)
		return req, nil
	})
	ctx, _ := rpc.NewClientContext(context.Background())
	body := envelope(0, 0, nil)[5:] // an empty message
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, specUnary.Procedure, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/proto")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
	if leaked {
		t.Error("the handler's context has its caller's client call info")
	}
}
