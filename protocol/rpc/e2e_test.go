package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

type (
	sv = wrapperspb.StringValue
)

var (
	specUnary  = rpc.Spec{Procedure: "/test.v1.Echo/Unary", StreamType: rpc.StreamTypeUnary}
	specGet    = rpc.Spec{Procedure: "/test.v1.Echo/Get", StreamType: rpc.StreamTypeUnary, IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	specServer = rpc.Spec{Procedure: "/test.v1.Echo/Server", StreamType: rpc.StreamTypeServer}
	specClient = rpc.Spec{Procedure: "/test.v1.Echo/Client", StreamType: rpc.StreamTypeClient}
	specBidi   = rpc.Spec{Procedure: "/test.v1.Echo/Bidi", StreamType: rpc.StreamTypeBidi}
)

// echoMux builds a hand-wired echo service: unary echoes (or fails when the
// request says "fail"), server stream repeats, client stream joins, bidi echoes.
func echoMux(opts ...rpc.HandlerOption) *http.ServeMux {
	mux := http.NewServeMux()
	unary := func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Echo", info.RequestHeader().Get("X-Echo"))
		info.ResponseTrailer().Set("X-Method", info.HTTPMethod())
		if req.Value == "fail" {
			e := rpc.NewError(rpc.CodeFailedPrecondition, "told to fail")
			_ = e.AddDetail(wrapperspb.String("detail"))
			e.Meta().Set("X-Err", "yes")
			return nil, e
		}
		return wrapperspb.String(req.Value), nil
	}
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, unary, opts...))
	mux.Handle(specGet.Procedure, rpc.NewUnaryHandler(specGet, unary, opts...))
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Count", "3")
		for i := range 3 {
			if err := s.Send(wrapperspb.String(fmt.Sprintf("%s-%d", req.Value, i))); err != nil {
				return err
			}
		}
		if req.Value == "fail" {
			return rpc.NewError(rpc.CodeAborted, "after three")
		}
		return nil
	}, opts...))
	mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		var parts []string
		for msg, err := range s.All() {
			if err != nil {
				return nil, err
			}
			parts = append(parts, msg.Value)
		}
		return wrapperspb.String(strings.Join(parts, ",")), nil
	}, opts...))
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		for {
			msg, err := s.Receive()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := s.Send(wrapperspb.String("echo:" + msg.Value)); err != nil {
				return err
			}
		}
	}, opts...))
	return mux
}

func newH2CServer(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}
}

func TestConnectEndToEnd(t *testing.T) {
	srv, h2 := newH2CServer(t, echoMux())
	clients := map[string]*http.Client{"http1": srv.Client(), "h2c": h2}
	for tname, hc := range clients {
		for _, codec := range []string{"proto", "json"} {
			for _, comp := range []string{"identity", "gzip"} {
				t.Run(tname+"/"+codec+"/"+comp, func(t *testing.T) {
					opts := []rpc.ClientOption{rpc.WithSendCompression(comp)}
					if codec == "json" {
						opts = append(opts, rpc.WithProtoJSON())
					}
					testEcho(t, hc, srv.URL, tname == "h2c", opts...)
				})
			}
		}
	}
}

func testEcho(t *testing.T, hc rpc.HTTPClient, url string, fullDuplex bool, opts ...rpc.ClientOption) {
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
		wantMethod := "POST"
		if spec.IdempotencyLevel == rpc.IdempotencyNoSideEffects {
			wantMethod = "GET"
		}
		if got := info.ResponseTrailer().Get("X-Method"); got != wantMethod {
			t.Errorf("%s: trailer X-Method = %q, want %q", spec.Procedure, got, wantMethod)
		}
		_, err = c.CallUnary(ctx, wrapperspb.String("fail"))
		var rerr *rpc.Error
		if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeFailedPrecondition || rerr.Message() != "told to fail" {
			t.Fatalf("error = %v", err)
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

	cs, err := rpc.NewClient[sv, sv](hc, url, specClient, opts...).CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := cs.CloseAndReceive()
	if err != nil || res.Value != "a,b,c" {
		t.Fatalf("client stream: %v %v", res, err)
	}

	checkBidiEcho(t, hc, url, fullDuplex, opts...)
}

// checkBidiEcho runs the echo service's bidi method: in lock step when the
// transport is full duplex, else all requests first.
func checkBidiEcho(t *testing.T, hc rpc.HTTPClient, url string, fullDuplex bool, opts ...rpc.ClientOption) {
	t.Helper()
	ctx := context.Background()
	bidi, err := rpc.NewClient[sv, sv](hc, url, specBidi, opts...).CallBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fullDuplex {
		for _, v := range []string{"x", "y"} {
			if err := bidi.Send(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
			msg, err := bidi.Receive()
			if err != nil || msg.Value != "echo:"+v {
				t.Fatalf("bidi: %v %v", msg, err)
			}
		}
	} else {
		for _, v := range []string{"x", "y"} {
			if err := bidi.Send(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := bidi.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if !fullDuplex {
		for _, v := range []string{"x", "y"} {
			msg, err := bidi.Receive()
			if err != nil || msg.Value != "echo:"+v {
				t.Fatalf("bidi half duplex: %v %v", msg, err)
			}
		}
	}
	if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi end: %v", err)
	}
	_ = bidi.CloseReceive()
}
