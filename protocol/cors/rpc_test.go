package cors_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
	"polyconnect.dev/protocol/cors"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
)

const origin = "https://app.example.com"

var (
	unarySpec = rpc.Spec{Procedure: "/test.v1.Echo/Unary", StreamType: rpc.StreamTypeUnary}
	bidiSpec  = rpc.Spec{Procedure: "/test.v1.Echo/Bidi", StreamType: rpc.StreamTypeBidi}
)

// echoServer serves, behind a CORS policy, a unary method that sets a
// trailer (or fails when asked to) and a bidi method that echoes.
func echoServer(t *testing.T) *rpctest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(unarySpec.Procedure, rpc.NewUnaryHandler(unarySpec, func(ctx context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if req.Value == "fail" {
			return nil, rpc.NewError(rpc.CodeFailedPrecondition, "asked to fail")
		}
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("Echo-Count", "1")
		return req, nil
	}))
	mux.Handle(bidiSpec.Procedure, rpc.NewBidiStreamHandler(bidiSpec, func(ctx context.Context, s *rpc.BidiStream[wrapperspb.StringValue, wrapperspb.StringValue]) error {
		for msg, err := range s.All() {
			if err != nil {
				return err
			}
			if err := s.Send(msg); err != nil {
				return err
			}
		}
		return nil
	}))
	policy, err := cors.New(cors.WithAllowedOrigins(origin))
	if err != nil {
		t.Fatal(err)
	}
	return rpctest.NewServer(t, policy.Handler(mux))
}

// TestConnectUnaryTrailersExposed checks that the Trailer- headers of a
// Connect unary response, whose names only the handler knows, are exposed
// to the browser.
func TestConnectUnaryTrailersExposed(t *testing.T) {
	srv := echoServer(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+unarySpec.Procedure, strings.NewReader(`"hi"`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || string(body) != `"hi"` {
		t.Fatalf("status %d, body %s", res.StatusCode, body)
	}
	if res.Header.Get("Trailer-Echo-Count") != "1" {
		t.Fatalf("no Trailer-Echo-Count header: %v", res.Header)
	}
	exposed := strings.Split(res.Header.Get("Access-Control-Expose-Headers"), ", ")
	if !slices.Contains(exposed, "Trailer-Echo-Count") || !slices.Contains(exposed, "Grpc-Status") {
		t.Errorf("Expose-Headers = %q", exposed)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("Allow-Origin = %q", res.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestErrorsThroughPolicy checks that errors keep their code through the
// policy in every protocol, and that the browser may read the response.
func TestErrorsThroughPolicy(t *testing.T) {
	srv := echoServer(t)
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.HTTP2Client(), srv.URL(), unarySpec, rpc.WithProtocol(p))
		ctx, info := rpc.NewClientContext(context.Background())
		info.RequestHeader().Set("Origin", origin)
		_, err := client.CallUnary(ctx, wrapperspb.String("fail"))
		if rpc.CodeOf(err) != rpc.CodeFailedPrecondition {
			t.Errorf("%s: error %v, want failed_precondition", p, err)
		}
		if got := info.ResponseHeader().Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("%s: Allow-Origin = %q", p, got)
		}
	}
}

// TestStreamingThroughPolicy checks that the policy's response writer
// keeps what streaming needs: flushing and full duplex over HTTP/2, where
// each message must arrive before the client sends the next.
func TestStreamingThroughPolicy(t *testing.T) {
	srv := echoServer(t)
	for _, p := range []rpc.Protocol{rpc.ProtocolConnect, rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
		client := rpc.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](srv.HTTP2Client(), srv.URL(), bidiSpec, rpc.WithProtocol(p))
		ctx, info := rpc.NewClientContext(context.Background())
		info.RequestHeader().Set("Origin", origin)
		stream, err := client.CallBidiStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"one", "two", "three"} {
			if err := stream.Send(wrapperspb.String(s)); err != nil {
				t.Fatalf("%s: send: %v", p, err)
			}
			got, err := stream.Receive()
			if err != nil || got.Value != s {
				t.Fatalf("%s: receive: %v, %v", p, got, err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: end of stream: %v", p, err)
		}
		if got := stream.ResponseHeader().Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("%s: Allow-Origin = %q", p, got)
		}
		_ = stream.CloseReceive()
	}
}
