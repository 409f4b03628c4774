package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	connectv2 "connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/transport"
	h2 "polyconnect.dev/transport-h2"
)

var (
	v2Unary  = connectv2.Spec{Procedure: procUnary, StreamType: connectv2.StreamTypeUnary}
	v2Get    = connectv2.Spec{Procedure: procGet, StreamType: connectv2.StreamTypeUnary, IdempotencyLevel: connectv2.IdempotencyNoSideEffects}
	v2Server = connectv2.Spec{Procedure: procServer, StreamType: connectv2.StreamTypeServer}
	v2Bidi   = connectv2.Spec{Procedure: procBidi, StreamType: connectv2.StreamTypeBidi}
)

// connectGoV2Service is the echo service on connect-go v2's server,
// mounted with connecthttp.
func connectGoV2Service() http.Handler {
	unary := func(ctx context.Context, _ connectv2.Spec, stream connectv2.ServerStream) error {
		req := new(sv)
		if err := stream.Receive(req); err != nil {
			return err
		}
		if req.Value == "fail" {
			return connectv2.NewError(connectv2.CodeFailedPrecondition, "told to fail")
		}
		info, _ := connectv2.CallInfoForServerContext(ctx)
		info.ResponseHeader().Set("X-Echo", info.RequestHeader().Get("X-Echo"))
		info.ResponseTrailer().Set("X-Trailer", "t-"+info.RequestHeader().Get("X-Echo"))
		method := ""
		if si, ok := connecthttp.ServerInfoForContext(ctx); ok {
			method = si.HTTPMethod()
		}
		return stream.Send(wrapperspb.String(req.Value + " via " + method))
	}
	s := connectv2.NewServer()
	s.Register(
		connectv2.Method{Spec: v2Unary, Handler: unary},
		connectv2.Method{Spec: v2Get, Handler: unary},
		connectv2.Method{Spec: v2Server, Handler: func(ctx context.Context, _ connectv2.Spec, stream connectv2.ServerStream) error {
			req := new(sv)
			if err := stream.Receive(req); err != nil {
				return err
			}
			for i := range 3 {
				if err := stream.Send(wrapperspb.String(fmt.Sprintf("%s-%d", req.Value, i))); err != nil {
					return err
				}
			}
			return nil
		}},
		connectv2.Method{Spec: v2Bidi, Handler: func(ctx context.Context, _ connectv2.Spec, stream connectv2.ServerStream) error {
			for {
				req := new(sv)
				err := stream.Receive(req)
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				if err := stream.Send(wrapperspb.String("echo:" + req.Value)); err != nil {
					return err
				}
			}
		}},
	)
	mux := http.NewServeMux()
	connecthttp.Mount(mux, s)
	return mux
}

// TestConnectGoV2OnPolyconnectTransports: connect-go v2's server, mounted
// with connecthttp, served by transport-h2 (h2c-rpc, h2-rpc) and
// transport-http3 servers, and connect-go v2's client on connecthttp's
// transport over polyconnect's transport clients (they are
// connecthttp.HTTPClients as they are), on Connect (GET included), gRPC and
// gRPC-Web, all kinds but client streaming, bidi in lock step.
func TestConnectGoV2OnPolyconnectTransports(t *testing.T) {
	protocols := []struct {
		name string
		opts []connecthttp.Option
	}{
		{"connect", []connecthttp.Option{connecthttp.WithHTTPGet()}},
		{"connect-json", []connecthttp.Option{connecthttp.WithHTTPGet(), connecthttp.WithProtoJSON()}},
		{"grpc", []connecthttp.Option{connecthttp.WithGRPC()}},
		{"grpcweb", []connecthttp.Option{connecthttp.WithGRPCWeb()}},
	}
	for _, name := range []string{h2.NameH2C, h2.NameH2, transport.NameH3} {
		url, hc := startOnPolyconnectTransport(t, name, connectGoV2Service())
		for _, p := range protocols {
			t.Run(name+"/"+p.name, func(t *testing.T) {
				runConnectGoV2Client(t, connectv2.NewClient(connecthttp.NewTransport(hc, url, p.opts...)), p.name != "grpc" && p.name != "grpcweb")
			})
		}
	}
}

func runConnectGoV2Client(t *testing.T, c *connectv2.Client, connectProtocol bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound, not a timing assumption
	defer cancel()
	for _, spec := range []connectv2.Spec{v2Unary, v2Get} {
		cctx, info := connectv2.NewClientContext(ctx)
		info.RequestHeader().Set("X-Echo", "e1")
		res := new(sv)
		if err := c.CallUnary(cctx, spec, wrapperspb.String("hello"), res); err != nil {
			t.Fatalf("%s: %v", spec.Procedure, err)
		}
		want := "hello via POST"
		if connectProtocol && spec.IdempotencyLevel == connectv2.IdempotencyNoSideEffects {
			want = "hello via GET"
		}
		if res.Value != want || info.ResponseHeader().Get("X-Echo") != "e1" || info.ResponseTrailer().Get("X-Trailer") != "t-e1" {
			t.Fatalf("%s: %q, header X-Echo %q, trailer X-Trailer %q", spec.Procedure, res.Value, info.ResponseHeader().Get("X-Echo"), info.ResponseTrailer().Get("X-Trailer"))
		}
		err := c.CallUnary(ctx, spec, wrapperspb.String("fail"), new(sv))
		if connectv2.CodeOf(err) != connectv2.CodeFailedPrecondition {
			t.Fatalf("%s: error %v", spec.Procedure, err)
		}
	}
	stream, err := c.CallServerStream(ctx, v2Server, wrapperspb.String("s"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		msg := new(sv)
		err := stream.Receive(msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg.Value)
	}
	if fmt.Sprint(got) != "[s-0 s-1 s-2]" {
		t.Fatalf("server stream: %v", got)
	}
	bidi, err := c.CallClientStream(ctx, v2Bidi)
	if err != nil {
		t.Fatal(err)
	}
	defer bidi.Close()
	for _, v := range []string{"x", "y"} {
		if err := bidi.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
		msg := new(sv)
		if err := bidi.Receive(msg); err != nil || msg.Value != "echo:"+v {
			t.Fatalf("bidi: %v %v", msg, err)
		}
	}
	if err := bidi.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := bidi.Receive(new(sv)); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi end: %v", err)
	}
}
