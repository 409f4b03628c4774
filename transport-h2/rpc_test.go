package h2

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

// The RPC protocols over the engine, through package rpc: what the engine
// is for. Each kind of call, for Connect, gRPC and gRPC-Web, over h2c-rpc
// and h2-rpc, with headers, trailers, errors and deadlines.

type sv = wrapperspb.StringValue

var (
	specUnary  = rpc.Spec{Procedure: "/test.v1.Echo/Unary", StreamType: rpc.StreamTypeUnary}
	specServer = rpc.Spec{Procedure: "/test.v1.Echo/Server", StreamType: rpc.StreamTypeServer}
	specClient = rpc.Spec{Procedure: "/test.v1.Echo/Client", StreamType: rpc.StreamTypeClient}
	specBidi   = rpc.Spec{Procedure: "/test.v1.Echo/Bidi", StreamType: rpc.StreamTypeBidi}
)

func echoService() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Echo", info.RequestHeader().Get("X-Echo"))
		info.ResponseTrailer().Set("X-Trailer", "t-"+req.Value)
		switch req.Value {
		case "fail":
			return nil, rpc.NewError(rpc.CodeFailedPrecondition, "asked to fail")
		case "deadline":
			if _, ok := ctx.Deadline(); !ok {
				return nil, rpc.NewError(rpc.CodeInvalidArgument, "no deadline")
			}
		case "big":
			return &sv{Value: strings.Repeat("b", 3<<20)}, nil
		}
		return req, nil
	}))
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		for i := range 100 {
			if err := s.Send(&sv{Value: req.Value + strings.Repeat("!", i)}); err != nil {
				return err
			}
		}
		return nil
	}))
	mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		var b strings.Builder
		for msg, err := range s.All() {
			if err != nil {
				return nil, err
			}
			b.WriteString(msg.Value)
		}
		return &sv{Value: b.String()}, nil
	}))
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		for msg, err := range s.All() {
			if err != nil {
				return err
			}
			if msg.Value == "fail" {
				// Ends the call while the client's requests are still open:
				// the server resets the stream with NO_ERROR after its
				// complete response.
				return rpc.NewError(rpc.CodeFailedPrecondition, "asked to fail")
			}
			if err := s.Send(&sv{Value: strings.ToUpper(msg.Value)}); err != nil {
				return err
			}
		}
		return nil
	}))
	return mux
}

func TestRPCProtocols(t *testing.T) {
	for _, name := range names {
		scfg, ccfg := serverConfig(t, name), clientConfig(t, name)
		srv, err := transport.NewServer(scfg, echoService())
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		hc, err := transport.NewClient(ccfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(hc.CloseIdleConnections)
		for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
			t.Run(name+"/"+p.String(), func(t *testing.T) {
				runRPCCalls(t, hc, srv.URL(), rpc.WithProtocol(p))
			})
		}
	}
}

func runRPCCalls(t *testing.T, hc rpc.HTTPClient, url string, opts ...rpc.ClientOption) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	unary := rpc.NewClient[sv, sv](hc, url, specUnary, opts...)
	cctx, info := rpc.NewClientContext(ctx)
	info.RequestHeader().Set("X-Echo", "e1")
	res, err := unary.CallUnary(cctx, &sv{Value: "hello"})
	if err != nil {
		t.Fatalf("unary: %v", err)
	}
	if res.Value != "hello" || info.ResponseHeader().Get("X-Echo") != "e1" || info.ResponseTrailer().Get("X-Trailer") != "t-hello" {
		t.Errorf("unary: %q, header %v, trailer %v", res.Value, info.ResponseHeader(), info.ResponseTrailer())
	}
	_, err = unary.CallUnary(ctx, &sv{Value: "fail"})
	if rpc.CodeOf(err) != rpc.CodeFailedPrecondition {
		t.Errorf("unary error: %v", err)
	}
	if _, err := unary.CallUnary(ctx, &sv{Value: "deadline"}); err != nil {
		t.Errorf("the deadline did not reach the handler: %v", err)
	}
	if res, err := unary.CallUnary(ctx, &sv{Value: "big"}); err != nil || len(res.Value) != 3<<20 {
		t.Errorf("large response: %v", err)
	}

	server := rpc.NewClient[sv, sv](hc, url, specServer, opts...)
	stream, err := server.CallServerStream(ctx, &sv{Value: "s"})
	if err != nil {
		t.Fatalf("server stream: %v", err)
	}
	n := 0
	for msg, err := range stream.All() {
		if err != nil {
			t.Fatalf("server stream: %v", err)
		}
		if msg.Value != "s"+strings.Repeat("!", n) {
			t.Fatalf("server stream message %d: %q", n, msg.Value)
		}
		n++
	}
	if n != 100 {
		t.Errorf("server stream: %d messages", n)
	}

	client := rpc.NewClient[sv, sv](hc, url, specClient, opts...)
	cs, err := client.CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.Send(&sv{Value: v}); err != nil {
			t.Fatalf("client stream send: %v", err)
		}
	}
	if res, err := cs.CloseAndReceive(); err != nil || res.Value != "abc" {
		t.Errorf("client stream: %v, %v", res, err)
	}

	bidi, err := rpc.NewClient[sv, sv](hc, url, specBidi, opts...).CallBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"x", "y", "z"} {
		if err := bidi.Send(&sv{Value: v}); err != nil {
			t.Fatalf("bidi send: %v", err)
		}
		msg, err := bidi.Receive()
		if err != nil || msg.Value != strings.ToUpper(v) {
			t.Fatalf("bidi receive: %v, %v", msg, err)
		}
	}
	if err := bidi.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
		t.Errorf("bidi end: %v", err)
	}

	// A handler that fails before any response, while the request stream is
	// open: its error reaches the client whatever the client does next.
	for _, closeFirst := range []bool{false, true} {
		failing, err := rpc.NewClient[sv, sv](hc, url, specBidi, opts...).CallBidiStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := failing.Send(&sv{Value: "fail"}); err != nil {
			t.Fatalf("bidi send: %v", err)
		}
		if closeFirst {
			if err := failing.CloseSend(); err != nil {
				t.Errorf("bidi close send: %v", err)
			}
		}
		if _, err := failing.Receive(); rpc.CodeOf(err) != rpc.CodeFailedPrecondition {
			t.Errorf("bidi failing handler (close first %v): %v", closeFirst, err)
		}
		_ = failing.CloseReceive()
	}
	_ = bidi.CloseReceive()

	// A call whose context ends mid-stream fails with its code.
	sctx, scancel := context.WithCancel(ctx)
	bidi, err = rpc.NewClient[sv, sv](hc, url, specBidi, opts...).CallBidiStream(sctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bidi.Send(&sv{Value: "q"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bidi.Receive(); err != nil {
		t.Fatal(err)
	}
	scancel()
	if _, err := bidi.Receive(); rpc.CodeOf(err) != rpc.CodeCanceled {
		t.Errorf("cancelled bidi: %v", err)
	}
	_ = bidi.CloseReceive()
}

// TestClientStreamsBackToBack: client streams of 10,000 small messages, one
// call after another on one connection, for Connect and gRPC. The server's
// bandwidth PINGs once counted against the client as a flood, and such
// calls failed after two or three seconds with "ENHANCE_YOUR_CALM: PING
// flood".
func TestClientStreamsBackToBack(t *testing.T) {
	calls := 30
	if raceEnabled {
		calls = 8
	}
	srv := startServer(t, serverConfig(t, NameH2C), echoService())
	hc := newClient(t, clientConfig(t, NameH2C))
	msg := &sv{Value: strings.Repeat("m", 100)}
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC} {
		t.Run(p.String(), func(t *testing.T) {
			client := rpc.NewClient[sv, sv](hc, srv.URL(), specClient, rpc.WithProtocol(p))
			start := time.Now()
			for call := range calls {
				cs, err := client.CallClientStream(context.Background())
				if err != nil {
					t.Fatalf("call %d: %v", call, err)
				}
				for range 10000 {
					if err := cs.Send(msg); err != nil {
						break // CloseAndReceive reports why
					}
				}
				res, err := cs.CloseAndReceive()
				if err != nil {
					t.Fatalf("call %d, after %v: %v", call, time.Since(start), err)
				}
				if len(res.Value) != 10000*100 {
					t.Fatalf("call %d: %d bytes echoed", call, len(res.Value))
				}
			}
		})
	}
}

// TestNoGoroutinePerStream: a streaming call on the engine costs the server
// no goroutine beyond its handler's and package rpc's writer. package rpc
// follows the call's context with context.AfterFunc; the engine's request
// context supports AfterFunc directly, but rpc wraps it (WithValue) before
// the writer sees it, which hid that, and context started a goroutine per
// call to watch it (200 streams, 200 goroutines in propagateCancel).
func TestNoGoroutinePerStream(t *testing.T) {
	const streams = 200
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(streams)
	mux := http.NewServeMux()
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		if err := s.Send(req); err != nil {
			return err
		}
		started.Done()
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}))
	srv := startServer(t, serverConfig(t, NameH2C), mux)
	hc := newClient(t, clientConfig(t, NameH2C))
	client := rpc.NewClient[sv, sv](hc, srv.URL(), specServer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls []*rpc.ServerStreamCall[sv]
	for range streams {
		call, err := client.CallServerStream(ctx, &sv{Value: "x"})
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, call)
	}
	started.Wait()
	watchers := goroutinesIn("context.(*cancelCtx).propagateCancel")
	close(release)
	for _, call := range calls {
		for _, err := range call.All() {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// The client side, which follows the caller's own context, and
	// whatever else runs may account for a few; one per call is the bug.
	if watchers >= streams/2 {
		t.Errorf("%d goroutines watching contexts for %d streams", watchers, streams)
	}
}

// goroutinesIn counts the goroutines whose stack has a frame of fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			count++
		}
	}
	return count
}
