package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// grpcProtocols are the client protocols under test here, with the
// transports each runs over.
var grpcProtocols = []struct {
	name     string
	protocol rpc.Protocol
	http1    bool // also over HTTP/1.1
}{
	{"grpc", rpc.ProtocolGRPC, false},
	{"grpcweb", rpc.ProtocolGRPCWeb, true},
}

func TestGRPCEndToEnd(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	for _, p := range grpcProtocols {
		clients := map[string]*http.Client{"h2c": h2}
		if p.http1 {
			clients["http1"] = srv.Client()
		}
		for tname, hc := range clients {
			for _, codec := range []string{"proto", "json"} {
				for _, comp := range []string{"identity", "gzip"} {
					t.Run(p.name+"/"+tname+"/"+codec+"/"+comp, func(t *testing.T) {
						opts := []rpc.ClientOption{rpc.WithProtocol(p.protocol), rpc.WithSendCompression(comp)}
						if codec == "json" {
							opts = append(opts, rpc.WithProtoJSON())
						}
						testGRPCEcho(t, hc, srv.URL, p.protocol, tname == "h2c", opts...)
					})
				}
			}
		}
	}
}

func TestGRPCCompressions(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	big := strings.Repeat("polyconnect ", 50_000)
	for _, p := range grpcProtocols {
		for _, c := range allCompressions() {
			t.Run(p.name+"/"+c.Name(), func(t *testing.T) {
				opts := []rpc.ClientOption{rpc.WithProtocol(p.protocol), rpc.WithSendCompression(c.Name())}
				testGRPCEcho(t, h2, srv.URL, p.protocol, true, opts...)
				client := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, opts...)
				res, err := client.CallUnary(context.Background(), wrapperspb.String(big))
				if err != nil || res.Value != big {
					t.Fatalf("large message: %v", err)
				}
			})
		}
	}
}

// testGRPCEcho runs every kind of call against echoMux and checks messages,
// metadata, call info, errors with details, and stream endings.
func testGRPCEcho(t *testing.T, hc rpc.HTTPClient, url string, protocol rpc.Protocol, fullDuplex bool, opts ...rpc.ClientOption) {
	t.Helper()
	ctx := context.Background()
	for _, spec := range []rpc.Spec{specUnary, specGet} {
		c := rpc.NewClient[sv, sv](hc, url, spec, opts...)
		cctx, info := rpc.NewClientContext(ctx)
		info.RequestHeader().Set("X-Echo", "hi")
		res, err := c.CallUnary(cctx, wrapperspb.String("hello"))
		if err != nil {
			t.Fatalf("%s: %v", spec.Procedure, err)
		}
		if res.Value != "hello" {
			t.Fatalf("got %q", res.Value)
		}
		if got := info.ResponseHeader().Get("X-Echo"); got != "hi" {
			t.Errorf("response header X-Echo = %q", got)
		}
		// gRPC has no GET: even methods without side effects use POST.
		if got := info.ResponseTrailer().Get("X-Method"); got != "POST" {
			t.Errorf("%s: trailer X-Method = %q, want POST (trailers %v)", spec.Procedure, got, info.ResponseTrailer())
		}
		if info.Protocol() != protocol || info.Peer().Protocol != protocol {
			t.Errorf("call info protocol %v, peer %+v", info.Protocol(), info.Peer())
		}
		if info.ResponseTrailer().Get("Grpc-Status") != "" {
			t.Errorf("status leaked into trailers: %v", info.ResponseTrailer())
		}
		cctx, info = rpc.NewClientContext(ctx)
		_, err = c.CallUnary(cctx, wrapperspb.String("fail"))
		var rerr *rpc.Error
		if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeFailedPrecondition || rerr.Message() != "told to fail" {
			t.Fatalf("error = %v", err)
		}
		if !rerr.IsWireError() {
			t.Error("error not marked as received from the wire")
		}
		if len(rerr.Details()) != 1 {
			t.Fatalf("details = %v", rerr.Details())
		}
		d, err := rerr.Details()[0].UnmarshalNew()
		if err != nil || !proto.Equal(d, wrapperspb.String("detail")) {
			t.Fatalf("detail = %v, %v", d, err)
		}
		if rerr.Meta().Get("X-Err") != "yes" {
			t.Errorf("error meta = %v", rerr.Meta())
		}
		// The handler set a header before failing: headers, then the
		// status and metadata in trailers.
		if _, ok := info.ResponseHeader()["X-Echo"]; !ok || info.ResponseTrailer().Get("X-Method") != "POST" || info.ResponseTrailer().Get("X-Err") != "yes" {
			t.Errorf("error metadata: headers %v trailers %v", info.ResponseHeader(), info.ResponseTrailer())
		}
	}

	ss := rpc.NewClient[sv, sv](hc, url, specServer, opts...)
	stream, err := ss.CallServerStream(ctx, wrapperspb.String("s"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for msg, err := range stream.All() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg.Value)
	}
	if strings.Join(got, " ") != "s-0 s-1 s-2" {
		t.Fatalf("server stream got %v", got)
	}
	if stream.ResponseTrailer().Get("X-Count") != "3" {
		t.Errorf("trailers = %v", stream.ResponseTrailer())
	}
	stream, err = ss.CallServerStream(ctx, wrapperspb.String("fail"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last error
	for _, err := range stream.All() {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if n != 3 || rpc.CodeOf(last) != rpc.CodeAborted {
		t.Fatalf("server stream failure: n=%d err=%v", n, last)
	}
	if stream.ResponseTrailer().Get("X-Count") != "3" {
		t.Errorf("trailers after failure = %v", stream.ResponseTrailer())
	}

	cs, err := rpc.NewClient[sv, sv](hc, url, specClient, opts...).CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs.RequestHeader().Set("X-Echo", "cs")
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := cs.CloseAndReceive()
	if err != nil || res.Value != "a,b,c" {
		t.Fatalf("client stream: %v %v", res, err)
	}
	// No messages at all is fine for a client stream.
	if cs, err = rpc.NewClient[sv, sv](hc, url, specClient, opts...).CallClientStream(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = cs.CloseAndReceive()
	if err != nil || res.Value != "" {
		t.Fatalf("empty client stream: %v %v", res, err)
	}

	checkBidiEcho(t, hc, url, fullDuplex, opts...)
}

// TestGRPCDeadlines checks that the client's deadline reaches the handler
// as grpc-timeout and that both sides report DEADLINE_EXCEEDED.
func TestGRPCDeadlines(t *testing.T) {
	mux := http.NewServeMux()
	seen := make(chan time.Duration, 4)
	spec := rpc.Spec{Procedure: "/test.v1.Slow/Wait"}
	mux.Handle(spec.Procedure, rpc.NewUnaryHandler(spec, func(ctx context.Context, req *sv) (*sv, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			seen <- 0
			return req, nil
		}
		seen <- time.Until(dl)
		if req.Value == "wait" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return req, nil
	}))
	sspec := rpc.Spec{Procedure: "/test.v1.Slow/Stream", StreamType: rpc.StreamTypeServer}
	mux.Handle(sspec.Procedure, rpc.NewServerStreamHandler(sspec, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		if err := s.Send(req); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}))
	cspec := rpc.Spec{Procedure: "/test.v1.Slow/Client", StreamType: rpc.StreamTypeClient}
	handlerErr := make(chan error, 4)
	mux.Handle(cspec.Procedure, rpc.NewClientStreamHandler(cspec, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		// The client never ends its requests: the read must give up at
		// the deadline.
		for {
			if _, err := s.Receive(); err != nil {
				handlerErr <- err
				return nil, err
			}
		}
	}))
	srv, h2 := newH2CServer(t, mux)
	for _, p := range grpcProtocols {
		t.Run(p.name, func(t *testing.T) {
			opt := rpc.WithProtocol(p.protocol)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := rpc.NewClient[sv, sv](h2, srv.URL, spec, opt).CallUnary(ctx, wrapperspb.String("x")); err != nil {
				t.Fatal(err)
			}
			if d := <-seen; d <= 4*time.Second || d > 5*time.Second {
				t.Fatalf("handler saw deadline in %v", d)
			}
			if _, err := rpc.NewClient[sv, sv](h2, srv.URL, spec, opt).CallUnary(context.Background(), wrapperspb.String("x")); err != nil {
				t.Fatal(err)
			}
			if d := <-seen; d != 0 {
				t.Fatalf("handler saw a deadline without one: %v", d)
			}

			short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel2()
			if _, err := rpc.NewClient[sv, sv](h2, srv.URL, spec, opt).CallUnary(short, wrapperspb.String("wait")); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
				t.Fatalf("unary: %v", err)
			}
			<-seen

			short, cancel3 := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel3()
			stream, err := rpc.NewClient[sv, sv](h2, srv.URL, sspec, opt).CallServerStream(short, wrapperspb.String("y"))
			if err != nil {
				t.Fatal(err)
			}
			if msg, err := stream.Receive(); err != nil || msg.Value != "y" {
				t.Fatal(msg, err)
			}
			if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
				t.Fatalf("stream: %v", err)
			}
			_ = stream.Close()

			short, cancel4 := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel4()
			cs, err := rpc.NewClient[sv, sv](h2, srv.URL, cspec, opt).CallClientStream(short)
			if err != nil {
				t.Fatal(err)
			}
			if err := cs.Send(wrapperspb.String("z")); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-handlerErr:
				if c := rpc.CodeOf(err); c != rpc.CodeDeadlineExceeded && c != rpc.CodeCanceled {
					t.Fatalf("handler read ended with %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("handler still reading after the deadline")
			}
			if _, err := cs.CloseAndReceive(); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
				t.Fatalf("client stream: %v", err)
			}
		})
	}
}

// TestGRPCCallInfoAndInterceptors checks that interceptors on both sides
// see the protocol and metadata of gRPC calls.
func TestGRPCCallInfoAndInterceptors(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	add := func(side string, info *rpc.CallInfo) {
		mu.Lock()
		seen = append(seen, side+":"+info.Protocol().String()+":"+info.Procedure())
		mu.Unlock()
	}
	client := rpc.ClientUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			info, ok := rpc.ClientCallInfo(ctx)
			if !ok {
				return nil, errors.New("no call info")
			}
			add("client", info)
			info.RequestHeader().Set("X-From", "client-interceptor")
			return next(ctx, req)
		}
	})
	handler := rpc.HandlerUnaryInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			info, ok := rpc.HandlerCallInfo(ctx)
			if !ok {
				return nil, errors.New("no call info")
			}
			add("handler", info)
			info.ResponseHeader().Set("X-Intercepted", info.RequestHeader().Get("X-From"))
			return next(ctx, req)
		}
	})
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		return req, nil
	}, rpc.WithHandlerInterceptors(handler)))
	srv, h2 := newH2CServer(t, mux)
	for _, p := range grpcProtocols {
		seen = nil
		c := rpc.NewClient[sv, sv](h2, srv.URL, specUnary, rpc.WithProtocol(p.protocol), rpc.WithClientInterceptors(client))
		ctx, info := rpc.NewClientContext(context.Background())
		if _, err := c.CallUnary(ctx, wrapperspb.String("x")); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("client:%[1]s:%[2]s handler:%[1]s:%[2]s", p.name, specUnary.Procedure)
		if got := strings.Join(seen, " "); got != want {
			t.Errorf("interceptors saw %q, want %q", got, want)
		}
		if got := info.ResponseHeader().Get("X-Intercepted"); got != "client-interceptor" {
			t.Errorf("X-Intercepted = %q", got)
		}
	}
}

// TestGRPCNotFound checks that an unknown procedure is UNIMPLEMENTED for
// gRPC and gRPC-Web clients.
func TestGRPCNotFound(t *testing.T) {
	mux := echoMux()
	mux.HandleFunc("/", rpc.NotFound)
	srv, h2 := newH2CServer(t, mux)
	for _, p := range grpcProtocols {
		missing := rpc.Spec{Procedure: "/test.v1.Echo/Missing"}
		_, err := rpc.NewClient[sv, sv](h2, srv.URL, missing, rpc.WithProtocol(p.protocol)).CallUnary(context.Background(), wrapperspb.String("x"))
		if rpc.CodeOf(err) != rpc.CodeUnimplemented {
			t.Errorf("%s: %v", p.name, err)
		}
		bidi, err := rpc.NewClient[sv, sv](h2, srv.URL, rpc.Spec{Procedure: "/test.v1.Echo/MissingBidi", StreamType: rpc.StreamTypeBidi}, rpc.WithProtocol(p.protocol)).CallBidiStream(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_ = bidi.Send(wrapperspb.String("x"))
		if _, err := bidi.Receive(); rpc.CodeOf(err) != rpc.CodeUnimplemented {
			t.Errorf("%s bidi: %v", p.name, err)
		}
		_ = bidi.CloseReceive()
	}
}

// TestGRPCOverHTTP1 checks that a gRPC client given an HTTP/1.1-only
// HTTPClient gets an error, not a hang.
func TestGRPCOverHTTP1(t *testing.T) {
	srv, _ := newH2CServer(t, echoMux())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := rpc.NewClient[sv, sv](srv.Client(), srv.URL, specUnary, rpc.WithProtocol(rpc.ProtocolGRPC)).CallUnary(ctx, wrapperspb.String("x"))
	if rpc.CodeOf(err) != rpc.CodeUnimplemented || !strings.Contains(err.Error(), "HTTP/2") {
		t.Fatalf("unary over HTTP/1.1: %v", err)
	}
	stream, err := rpc.NewClient[sv, sv](srv.Client(), srv.URL, specServer, rpc.WithProtocol(rpc.ProtocolGRPC)).CallServerStream(ctx, wrapperspb.String("x"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Fatalf("stream over HTTP/1.1: %v", err)
	}
}

// TestGRPCEarlyServerClose checks a handler that fails before reading all
// requests: the client's sends stop with io.EOF and the status arrives.
func TestGRPCEarlyServerClose(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		if _, err := s.Receive(); err != nil {
			return nil, err
		}
		return nil, rpc.NewError(rpc.CodeResourceExhausted, "enough")
	}))
	srv, h2 := newH2CServer(t, mux)
	chunk := wrapperspb.String(strings.Repeat("x", 16<<10))
	for _, p := range grpcProtocols {
		clients := map[string]*http.Client{"h2c": h2}
		if p.http1 {
			clients["http1"] = srv.Client()
		}
		for cname, hc := range clients {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cs, err := rpc.NewClient[sv, sv](hc, srv.URL, specClient, rpc.WithProtocol(p.protocol)).CallClientStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var sendErr error
			for range 1000 { // 16 MB: far beyond any flow-control window
				if sendErr = cs.Send(chunk); sendErr != nil {
					break
				}
			}
			if !errors.Is(sendErr, io.EOF) {
				t.Errorf("%s/%s: send ended with %v", p.name, cname, sendErr)
			}
			if _, err := cs.CloseAndReceive(); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
				t.Errorf("%s/%s: %v", p.name, cname, err)
			}
			cancel()
		}
	}
}

// TestGRPCClientCancel checks that canceling a call mid-stream reaches the
// handler and ends the client's side with CANCELED.
func TestGRPCClientCancel(t *testing.T) {
	handlerDone := make(chan error, 1)
	mux := http.NewServeMux()
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		for {
			msg, err := s.Receive()
			if err != nil {
				handlerDone <- err
				return err
			}
			if err := s.Send(msg); err != nil {
				handlerDone <- err
				return err
			}
		}
	}))
	srv, h2 := newH2CServer(t, mux)
	for _, p := range grpcProtocols {
		ctx, cancel := context.WithCancel(context.Background())
		bidi, err := rpc.NewClient[sv, sv](h2, srv.URL, specBidi, rpc.WithProtocol(p.protocol)).CallBidiStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := bidi.Send(wrapperspb.String("a")); err != nil {
			t.Fatal(err)
		}
		if msg, err := bidi.Receive(); err != nil || msg.Value != "a" {
			t.Fatal(msg, err)
		}
		cancel()
		if _, err := bidi.Receive(); rpc.CodeOf(err) != rpc.CodeCanceled {
			t.Errorf("%s: receive after cancel: %v", p.name, err)
		}
		select {
		case err := <-handlerDone:
			if rpc.CodeOf(err) != rpc.CodeCanceled {
				t.Errorf("%s: handler ended with %v", p.name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: handler did not see the cancellation", p.name)
		}
		_ = bidi.CloseReceive()
	}
}

// lockedBuffer collects a server's error log.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestGRPCWebHTTP1BidiEndsEarly checks a gRPC-Web bidi handler over
// HTTP/1.1 that returns before reading the whole request, with and without
// having sent a response: the connection must serve the next call (net/http
// used to panic with "invalid concurrent Body.Read call" on it).
func TestGRPCWebHTTP1BidiEndsEarly(t *testing.T) {
	mux := echoMux()
	early := rpc.Spec{Procedure: "/test.v1.Early/Bidi", StreamType: rpc.StreamTypeBidi}
	mux.Handle(early.Procedure, rpc.NewBidiStreamHandler(early, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		msg, err := s.Receive()
		if err != nil {
			return err
		}
		if msg.Value == "respond" {
			if err := s.Send(msg); err != nil {
				return err
			}
		}
		return rpc.NewError(rpc.CodeAborted, "early")
	}))
	var logs lockedBuffer
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(&logs, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	var body []byte
	for _, v := range []string{"respond", "more", "and more"} {
		body = append(body, msgFrame(t, v)...)
	}
	silent := append(msgFrame(t, "silent"), msgFrame(t, "more")...)
	for i := range 50 {
		b := body
		if i%2 == 1 {
			b = silent
		}
		r := grpcRawCall(t, hc, srv.URL+early.Procedure, map[string]string{"Content-Type": "application/grpc-web"}, b)
		if r.code != "10" {
			t.Fatalf("call %d: %+v", i, r)
		}
		res, err := rpc.NewClient[sv, sv](hc, srv.URL, specUnary, rpc.WithProtocol(rpc.ProtocolGRPCWeb)).CallUnary(context.Background(), wrapperspb.String("next"))
		if err != nil || res.Value != "next" {
			t.Fatalf("call %d, next on the connection: %v %v", i, res, err)
		}
	}
	if strings.Contains(logs.String(), "panic") {
		t.Fatalf("server panicked:\n%s", logs.String())
	}
}
