package h3_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// The procedures of the test service. Each handler echoes or counts with
// wrapperspb values, so the tests need no generated code.
var (
	specUnary  = rpc.Spec{Procedure: "/h3.test.v1.Test/Unary"}
	specGet    = rpc.Spec{Procedure: "/h3.test.v1.Test/Get", IdempotencyLevel: rpc.IdempotencyNoSideEffects}
	specServer = rpc.Spec{Procedure: "/h3.test.v1.Test/Count", StreamType: rpc.StreamTypeServer}
	specClient = rpc.Spec{Procedure: "/h3.test.v1.Test/Sum", StreamType: rpc.StreamTypeClient}
	specBidi   = rpc.Spec{Procedure: "/h3.test.v1.Test/Echo", StreamType: rpc.StreamTypeBidi}
)

type str = wrapperspb.StringValue

// testService serves the procedures above. Unary and Get set a response
// header and trailer; Count sends req.Value messages; Sum joins what it
// receives; Echo answers each message as it arrives, so it works only if
// the stream is full duplex.
func testService() http.Handler {
	mux := http.NewServeMux()
	echo := func(ctx context.Context, req *str) (*str, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Method", info.HTTPMethod())
		info.ResponseTrailer().Set("X-Trailer", "t:"+req.GetValue())
		if req.GetValue() == "fail" {
			return nil, rpc.NewError(rpc.CodeFailedPrecondition, "asked to fail")
		}
		return wrapperspb.String("echo:" + req.GetValue()), nil
	}
	mux.Handle(specUnary.Procedure, rpc.NewUnaryHandler(specUnary, echo))
	mux.Handle(specGet.Procedure, rpc.NewUnaryHandler(specGet, echo))
	mux.Handle(specServer.Procedure, rpc.NewServerStreamHandler(specServer, func(ctx context.Context, req *wrapperspb.Int32Value, s *rpc.ServerStream[wrapperspb.Int32Value]) error {
		for i := range req.GetValue() {
			if err := s.Send(wrapperspb.Int32(i)); err != nil {
				return err
			}
		}
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Count", strconv.Itoa(int(req.GetValue())))
		return nil
	}))
	mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[str]) (*str, error) {
		var all string
		for msg, err := range s.All() {
			if err != nil {
				return nil, err
			}
			all += msg.GetValue()
		}
		return wrapperspb.String(all), nil
	}))
	mux.Handle(specBidi.Procedure, rpc.NewBidiStreamHandler(specBidi, func(ctx context.Context, s *rpc.BidiStream[str, str]) error {
		for msg, err := range s.All() {
			if err != nil {
				return err
			}
			if err := s.Send(wrapperspb.String("echo:" + msg.GetValue())); err != nil {
				return err
			}
		}
		return nil
	}))
	return mux
}

var protocols = []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb}

// TestRPC runs every kind of call over HTTP/3 with each protocol.
func TestRPC(t *testing.T) {
	srv := startServer(t, serverConfig(t), testService())
	c := newClient(t, clientConfig(t))
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			ctx := context.Background()
			opt := rpc.WithProtocol(p)

			unary := rpc.NewClient[str, str](c, srv.URL(), specUnary, opt)
			cctx, info := rpc.NewClientContext(ctx)
			res, err := unary.CallUnary(cctx, wrapperspb.String("a"))
			if err != nil || res.GetValue() != "echo:a" {
				t.Fatalf("unary = %v, %v", res, err)
			}
			if got := info.ResponseTrailer().Get("X-Trailer"); got != "t:a" {
				t.Errorf("unary trailer = %q, want t:a", got)
			}
			_, err = unary.CallUnary(ctx, wrapperspb.String("fail"))
			if rpc.CodeOf(err) != rpc.CodeFailedPrecondition {
				t.Errorf("failing unary = %v, want failed_precondition", err)
			}

			count := rpc.NewClient[wrapperspb.Int32Value, wrapperspb.Int32Value](c, srv.URL(), specServer, opt)
			ss, err := count.CallServerStream(ctx, wrapperspb.Int32(100))
			if err != nil {
				t.Fatal(err)
			}
			var n int32
			for msg, err := range ss.All() {
				if err != nil {
					t.Fatal(err)
				}
				if msg.GetValue() != n {
					t.Fatalf("message %d = %d", n, msg.GetValue())
				}
				n++
			}
			if n != 100 || ss.ResponseTrailer().Get("X-Count") != "100" {
				t.Errorf("server stream: %d messages, trailer %q", n, ss.ResponseTrailer().Get("X-Count"))
			}

			sum := rpc.NewClient[str, str](c, srv.URL(), specClient, opt)
			cs, err := sum.CallClientStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"x", "y", "z"} {
				if err := cs.Send(wrapperspb.String(s)); err != nil {
					t.Fatal(err)
				}
			}
			if res, err := cs.CloseAndReceive(); err != nil || res.GetValue() != "xyz" {
				t.Errorf("client stream = %v, %v", res, err)
			}

			// Each answer is read before the next request is sent: this
			// hangs unless the stream is full duplex.
			echo := rpc.NewClient[str, str](c, srv.URL(), specBidi, opt)
			bs, err := echo.CallBidiStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				want := strconv.Itoa(i)
				if err := bs.Send(wrapperspb.String(want)); err != nil {
					t.Fatal(err)
				}
				res, err := bs.Receive()
				if err != nil || res.GetValue() != "echo:"+want {
					t.Fatalf("bidi %d = %v, %v", i, res, err)
				}
			}
			if err := bs.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := bs.Receive(); !errors.Is(err, io.EOF) {
				t.Errorf("bidi end = %v, want io.EOF", err)
			}
			if err := bs.CloseReceive(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestConnectGet checks that no-side-effect methods go as GET over HTTP/3.
func TestConnectGet(t *testing.T) {
	srv := startServer(t, serverConfig(t), testService())
	c := newClient(t, clientConfig(t))
	get := rpc.NewClient[str, str](c, srv.URL(), specGet)
	ctx, info := rpc.NewClientContext(context.Background())
	res, err := get.CallUnary(ctx, wrapperspb.String("g"))
	if err != nil || res.GetValue() != "echo:g" {
		t.Fatalf("GET = %v, %v", res, err)
	}
	if m := info.ResponseHeader().Get("X-Method"); m != http.MethodGet {
		t.Errorf("server saw %s, want GET", m)
	}
	if tr := info.ResponseTrailer().Get("X-Trailer"); tr != "t:g" {
		t.Errorf("trailer = %q", tr)
	}
}
